"""Names and timings of the CamAuth integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

DOMAIN: Final = "camauth"
LOGGER = logging.getLogger(__package__)

# The Home Assistant bus event every CamAuth event is fired as.
EVENT_CAMAUTH: Final = "camauth_event"

# CamAuth's event names (its public contract).
LOGIN_SUCCEEDED: Final = "login_succeeded"
LOGIN_FAILED: Final = "login_failed"
LOCKOUT_STARTED: Final = "lockout_started"
LOCKOUT_ENDED: Final = "lockout_ended"
LOGOUT: Final = "logout"
PASSWORD_CHANGED: Final = "password_changed"  # noqa: S105 - an event name
# The event entity offers these; every event type reaches the bus.
ACTIVITY_EVENT_TYPES: Final = [
    LOGIN_SUCCEEDED,
    LOGIN_FAILED,
    LOCKOUT_STARTED,
    LOCKOUT_ENDED,
    LOGOUT,
    PASSWORD_CHANGED,
]
# Event details that may be passed on; anything else stays out of Home Assistant.
SAFE_DETAIL_KEYS: Final = ("kind", "lockout_id", "reason", "role", "until")

# CamAuth's refusals of a new password (its error codes) that have their own text here.
PASSWORD_REFUSALS: Final = frozenset(
    {
        "password_too_short",
        "password_too_long",
        "password_too_common",
        "password_contains_username",
        "password_invalid_characters",
    }
)

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_USERNAME: Final = "username"
ATTR_PASSWORD: Final = "password"  # noqa: S105 - a field name
ATTR_ADDRESS: Final = "address"
ATTR_ALL: Final = "all"

SERVICE_RESET_PASSWORD: Final = "reset_password"  # noqa: S105 - an action name
SERVICE_UNLOCK: Final = "unlock"
SERVICE_REVOKE_SESSIONS: Final = "revoke_sessions"

# While the event stream is up, polling is only a safety net (and picks up warnings).
CONNECTED_INTERVAL: Final = timedelta(minutes=5)
# While it is down, /api/stats is polled instead.
DISCONNECTED_INTERVAL: Final = timedelta(seconds=30)
RECONNECT_MIN: Final = 1.0
RECONNECT_MAX: Final = 60.0
