"""Configuration problems CamAuth can observe in the requests it serves.

Each is reported by ``GET /api/warnings`` (and becomes a repair issue in Home Assistant) from
the first request that shows it until CamAuth restarts with a configuration that fixes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class ConfigWarning:
    """One observed problem: a stable id (a translation key), words, and what was seen."""

    id: str
    message: str
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The warning as ``/api/warnings`` lists it."""
        return {"id": self.id, "message": self.message, **self.detail}


FORWARDED_FOR_UNTRUSTED: Final = "forwarded_for_untrusted"
COOKIE_NOT_SECURE: Final = "cookie_secure_off_over_https"
FORWARD_AUTH_UNTRUSTED: Final = "forward_auth_untrusted_proxy"
UPSTREAM_EXPOSED: Final = "upstream_reachable_directly"


class ConfigWarnings:
    """Remembers what the requests showed (a few dict writes, never on a refusal path)."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        self._seen: dict[str, ConfigWarning] = {}

    def _note(self, warning_id: str, template: str, **detail: Any) -> None:
        """Keep a warning the first time it shows (its words filled in from ``detail``)."""
        if warning_id not in self._seen:  # every request may ask: only the first one writes
            message = template.format(**detail)
            self._seen[warning_id] = ConfigWarning(
                warning_id, message, {**detail, "since": time.time()}
            )

    def forwarded_for_from(self, peer: str) -> None:
        """X-Forwarded-For came from a peer that is not a trusted proxy."""
        self._note(
            FORWARDED_FOR_UNTRUSTED,
            "Requests from {peer} carry X-Forwarded-For, but {peer} is not in "
            "auth.trusted_proxies: every client behind that proxy shares one address, one rate "
            "limit and one lockout. Add the proxy's address to auth.trusted_proxies.",
            peer=peer,
        )

    def forward_auth_from(self, peer: str) -> None:
        """A proxy that is not trusted asked forward-auth about a request."""
        self._note(
            FORWARD_AUTH_UNTRUSTED,
            "{peer} asks /api/auth about requests (X-Forwarded-Uri, X-Original-URI, …) but "
            "is not in auth.trusted_proxies, so CamAuth cannot believe what it says and lets "
            "only admins through. Add the proxy's address to auth.trusted_proxies.",
            peer=peer,
        )

    def https_without_secure_cookie(self) -> None:
        """A request came over HTTPS while the session cookie may also travel over HTTP."""
        self._note(
            COOKIE_NOT_SECURE,
            "Users reach CamAuth over HTTPS, but auth.cookie_secure is off: the session cookie "
            "would also be sent over plain HTTP. Turn auth.cookie_secure on.",
        )

    def upstream_exposed(self, name: str, where: str) -> None:
        """A camera UI behind CamAuth can also be reached without it."""
        self._note(
            UPSTREAM_EXPOSED,
            "The upstream {upstream!r} can also be reached directly at {where}, without "
            "CamAuth's login: anyone on your network can skip it. Close that port (for an "
            "add-on such as Frigate, leave its port unset in the add-on's Network settings).",
            upstream=name,
            where=where,
        )

    def current(self) -> list[ConfigWarning]:
        """Every warning observed so far, in the order first seen."""
        return list(self._seen.values())
