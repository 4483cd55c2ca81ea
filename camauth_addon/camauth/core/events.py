"""Security events: emitted once, when they happen, to every listener.

The names are the public contract (audit log, event stream, Home Assistant). Details never
carry a password, token or key. The event of a stored change is written in the change's own
transaction (it carries its row ``id`` when published); the others are written in batches
by the audit log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

LOGIN_SUCCEEDED: Final = "login_succeeded"
LOGIN_FAILED: Final = "login_failed"
LOCKOUT_STARTED: Final = "lockout_started"
LOCKOUT_ENDED: Final = "lockout_ended"
LOGOUT: Final = "logout"
PASSWORD_CHANGED: Final = "password_changed"  # noqa: S105 - an event name
PASSWORD_RESET: Final = "password_reset"  # noqa: S105 - an event name
USER_CREATED: Final = "user_created"
USER_DELETED: Final = "user_deleted"
ROLE_CHANGED: Final = "role_changed"
API_KEY_CREATED: Final = "api_key_created"
API_KEY_REVOKED: Final = "api_key_revoked"
ROLE_CREATED: Final = "role_created"
ROLE_UPDATED: Final = "role_updated"
ROLE_DELETED: Final = "role_deleted"

EVENT_TYPES: Final = (
    LOGIN_SUCCEEDED,
    LOGIN_FAILED,
    LOCKOUT_STARTED,
    LOCKOUT_ENDED,
    LOGOUT,
    PASSWORD_CHANGED,
    PASSWORD_RESET,
    USER_CREATED,
    USER_DELETED,
    ROLE_CHANGED,
    API_KEY_CREATED,
    API_KEY_REVOKED,
    ROLE_CREATED,
    ROLE_UPDATED,
    ROLE_DELETED,
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, with who and from where when known."""

    type: str
    timestamp: float
    username: str | None = None
    client: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # its row in the audit log, once stored

    def stored(self, row_id: int) -> Event:
        """The same event, known to be in the audit log as row ``row_id``."""
        return replace(self, id=row_id)

    def as_json(self) -> dict[str, Any]:
        """The event as clients receive it."""
        return {
            "type": self.type,
            "timestamp": self.timestamp,
            "username": self.username,
            "client": self.client,
            "detail": self.detail,
        }


Listener = Callable[[Event], None]


class EventBus:
    """Delivers each event to its listeners synchronously, in order."""

    def __init__(self) -> None:
        """Start with no listeners."""
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(
        self, type_: str, *, username: str | None = None, client: str | None = None, **detail: Any
    ) -> Event:
        """Record that something happened (the audit log stores it in its next batch)."""
        event = make_event(type_, username=username, client=client, **detail)
        self.publish(event)
        return event

    def publish(self, event: Event) -> None:
        """Deliver an event to every listener, in order."""
        _LOGGER.info(
            "%s user=%s client=%s %s", event.type, event.username, event.client, event.detail or ""
        )
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _LOGGER.exception("Event listener failed on %s", event.type)


def make_event(
    type_: str, *, username: str | None = None, client: str | None = None, **detail: Any
) -> Event:
    """An event that happens now."""
    return Event(type_, time.time(), username, client, detail)
