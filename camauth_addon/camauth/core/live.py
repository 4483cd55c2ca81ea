"""Long-lived connections end with their credential.

An event stream, a proxied WebSocket or a streamed response was allowed when it opened; it
must not outlive the session, key or role that allowed it. Each one is watched with a check
that asks, from the in-memory mirrors, whether its credential still grants what it was opened
for. Every change that can take access away (a session ended, a user deleted or changed, a
key revoked, the database changed by the shell) re-runs the checks at once, before the change
is announced, so a closed connection is never sent the event of its own revocation.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CloseReason:
    """Why a connection is closed: a WebSocket close code (private range) and a short text."""

    code: int
    message: str


CREDENTIAL_ENDED: Final = CloseReason(4001, "credential revoked")
ACCESS_LOST: Final = CloseReason(4003, "access no longer allowed")

Recheck = Callable[[], CloseReason | None]
Close = Callable[[CloseReason], None]


class LiveConnections:
    """The watched connections, and the one place that ends them."""

    def __init__(self) -> None:
        """Start with no connections."""
        self._watches: dict[int, tuple[Recheck, Close]] = {}
        self._ids = itertools.count()

    def watch(self, recheck: Recheck, close: Close) -> Callable[[], None]:
        """Watch a connection; returns the function that stops watching it."""
        watch_id = next(self._ids)
        self._watches[watch_id] = (recheck, close)

        def unwatch() -> None:
            self._watches.pop(watch_id, None)

        return unwatch

    def recheck(self) -> None:
        """Close every connection whose credential no longer grants its access."""
        for watch_id, (recheck, close) in list(self._watches.items()):
            try:
                reason = recheck()
            except Exception:  # fail closed: a check that cannot run ends the connection
                _LOGGER.exception("Access re-check failed; closing the connection")
                reason = CREDENTIAL_ENDED
            if reason is not None and self._watches.pop(watch_id, None) is not None:
                close(reason)

    def __len__(self) -> int:
        return len(self._watches)
