"""Bounded memories of a function's answers (core/memo.py)."""

from __future__ import annotations

import pytest

from camauth.core.memo import Remembered
from camauth.errors import BadRequest


def _judge(value: str) -> str:
    if value.startswith("bad"):
        raise BadRequest(f"refused {value}", key="refused")
    return value.upper()


def test_answers_and_refusals_are_those_of_the_function() -> None:
    calls: list[str] = []

    def counted(value: str) -> str:
        calls.append(value)
        return _judge(value)

    memo = Remembered(counted, size=8)
    for _ in range(3):
        assert memo("cam") == "CAM"
        with pytest.raises(BadRequest) as refused:
            memo("bad1")
        assert (refused.value.message, refused.value.key) == ("refused bad1", "refused")
    assert calls == ["cam", "bad1"]  # each judged once


def test_each_refusal_is_a_fresh_error() -> None:
    memo = Remembered(_judge)
    errors = []
    for _ in range(2):
        with pytest.raises(BadRequest) as refused:
            memo("bad")
        errors.append(refused.value)
    assert errors[0] is not errors[1]  # a traceback never grows on a kept one


def test_it_is_bounded_in_entries_and_in_the_length_it_keeps() -> None:
    memo = Remembered(_judge, size=4, longest=10)
    for n in range(20):
        assert memo(f"v{n}") == f"V{n}"
        assert len(memo._memo) <= 4
    long = "x" * 11
    assert memo(long) == long.upper()
    assert long not in memo._memo
