"""Device cookies (OWASP): a browser that has logged in as a user is known to that user.

After a successful login the browser gets ``camauth_device``, naming the user and a random
device id, signed with a key derived from the JWT secret. Its later logins as that user are
told apart from strangers': they go first for hashing, and lockouts that others caused (of
the username or of the address) do not stop them. Its own failures still count, against the
device itself: a stolen device cookie buys an attacker nothing but the user's own limits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from .names import lookup_key

VERSION = "v1"
MAX_LENGTH = 512
_LABEL = b"camauth device cookie v1"


@dataclass(frozen=True, slots=True)
class Device:
    """A browser known to one user."""

    username_key: str
    device_id: str


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _decode(text: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


class DeviceCookies:
    """Issues and checks device cookies; the key never leaves this object."""

    def __init__(self, secret: str) -> None:
        """Derive this use's own key from the JWT secret."""
        self._key = hmac.new(secret.encode("utf-8"), _LABEL, hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def issue(self, username: str) -> str:
        """A new device cookie for a browser that just logged in as ``username``."""
        body = f"{VERSION}.{_encode(lookup_key(username))}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def check(self, value: str | None) -> Device | None:
        """The device a cookie names, or None for anything not signed by us."""
        if not value or len(value) > MAX_LENGTH or not value.isascii():
            return None
        body, _, mac = value.rpartition(".")
        parts = body.split(".")
        if len(parts) != 3 or parts[0] != VERSION or not hmac.compare_digest(mac, self._mac(body)):
            return None
        username_key = _decode(parts[1])
        return Device(username_key, parts[2]) if username_key else None
