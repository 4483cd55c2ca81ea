"""Authentication: from a presented credential to the identity behind it, as it is now.

Every camera request asks this, nearly always with a credential it has seen a moment ago, so
the answers are remembered: each with the generation of the mirror it was read from (users
and sessions, or API keys) and, for sessions, the moment the token or the session expires.
An answer is reused only while its mirror is unchanged and that moment has not come: any
logout, revocation, password or role change, deletion or reload changes the generation, so
it takes effect on the very next request, as before. The memo is bounded (then forgotten
all at once) and holds what the mirrors and the verified-token cache already hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from .api_keys import KeyService
from .identity import Credential, Identity
from .memo import remember
from .sessions import SessionService
from .tokens import Claims

MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Authenticated:
    """An identity, and the token claims when it came from a session token."""

    identity: Identity
    claims: Claims | None = None


@dataclass(frozen=True, slots=True)
class _Remembered:
    generation: int
    until: float  # the answer ends then at the latest (token or session expiry)
    found: Authenticated
    key_id: int = 0  # an API key's id, to record its use


class Authenticator:
    """Asks the session and key mirrors who a credential belongs to (no database)."""

    def __init__(self, sessions: SessionService, keys: KeyService) -> None:
        """Wire the two mirrors."""
        self._sessions = sessions
        self._keys = keys
        self._session_memo: dict[str, _Remembered] = {}
        self._key_memo: dict[str, _Remembered] = {}

    def authenticate(self, credential: Credential, now: float) -> Authenticated | None:
        """The identity behind a credential, or None when it is unknown, expired or revoked."""
        if credential.source == "api_key":
            return self._api_key(credential.token, now)
        return self._session(credential.token, now)

    def _session(self, token: str, now: float) -> Authenticated | None:
        generation = self._sessions.directory.generation
        hit = self._session_memo.get(token)
        if hit is not None and hit.generation == generation and now < hit.until:
            self._sessions.seen(hit.found.identity.session_id, now)
            return hit.found
        found = self._sessions.identify_until(token, now)
        if found is None:
            return None
        identity, claims, until = found
        answer = Authenticated(identity, claims)
        remember(self._session_memo, token, _Remembered(generation, until, answer), MEMO_SIZE)
        return answer

    def _api_key(self, presented: str, now: float) -> Authenticated | None:
        directory = self._keys.directory
        generation = directory.generation
        hit = self._key_memo.get(presented)
        if hit is not None and hit.generation == generation:
            directory.used(hit.key_id, now)
            return hit.found
        key = directory.authenticate(presented, now)
        if key is None:
            return None
        answer = Authenticated(self._keys.identity_of(key))
        found = _Remembered(generation, float("inf"), answer, key.id)
        remember(self._key_memo, presented, found, MEMO_SIZE)
        return answer
