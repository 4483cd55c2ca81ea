"""Authentication: from a presented credential to the identity behind it, as it is now."""

from __future__ import annotations

from dataclasses import dataclass

from .api_keys import KeyService
from .identity import Credential, Identity
from .sessions import SessionService
from .tokens import Claims


@dataclass(frozen=True, slots=True)
class Authenticated:
    """An identity, and the token claims when it came from a session token."""

    identity: Identity
    claims: Claims | None = None


class Authenticator:
    """Asks the session and key mirrors who a credential belongs to (no database)."""

    def __init__(self, sessions: SessionService, keys: KeyService) -> None:
        """Wire the two mirrors."""
        self._sessions = sessions
        self._keys = keys

    def authenticate(self, credential: Credential, now: float) -> Authenticated | None:
        """The identity behind a credential, or None when it is unknown, expired or revoked."""
        if credential.source == "api_key":
            key = self._keys.identify(credential.token, now)
            return Authenticated(key) if key is not None else None
        found = self._sessions.identify(credential.token, now)
        return Authenticated(*found) if found is not None else None
