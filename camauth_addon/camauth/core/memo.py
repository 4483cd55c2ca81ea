"""Bounded memories of a pure function's recent answers, for what every request asks again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import BadRequest

K = TypeVar("K")
T = TypeVar("T")


def remember(memo: dict[K, T], key: K, value: T, size: int) -> None:
    """Keep an answer in a memo of at most ``size``; a full one is forgotten all at once.

    Forgetting everything at once keeps a look-up a plain dict read (no order to keep), and
    a client that fills the memo with new values only ever costs itself the full way.
    """
    if len(memo) >= size:
        memo.clear()
    memo[key] = value


class Remembered(Generic[T]):
    """A function of one string, with a bounded memory of its answers and its refusals.

    The same value gets the same answer, or the same refusal (a fresh copy of it, so that no
    traceback grows). Values longer than ``longest`` are judged each time and never kept, and
    the memory is forgotten all at once when it holds ``size`` answers: what it keeps stays
    small whatever a client sends.
    """

    def __init__(self, func: Callable[[str], T], size: int = 1024, longest: int = 512) -> None:
        """Remember ``func``'s answers for up to ``size`` values of at most ``longest`` chars."""
        self._func = func
        self._size = size
        self._longest = longest
        self._memo: dict[str, T | BadRequest] = {}

    def __call__(self, value: str) -> T:
        """``func(value)``, remembered."""
        memo = self._memo
        if value in memo:
            found = memo[value]
        else:
            try:
                found = self._func(value)
            except BadRequest as err:
                found = err
            if len(value) <= self._longest:
                remember(memo, value, found, self._size)
        if isinstance(found, BadRequest):
            raise type(found)(found.message, key=found.key)
        return found
