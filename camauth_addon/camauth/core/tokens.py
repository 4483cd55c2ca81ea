"""JWT session tokens: HS256 only (RFC 8725), with a bounded cache of verified tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "role", "iat", "exp", "jti", "sid")
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class Claims:
    """The claims of a token whose signature and expiry have been checked."""

    sub: str
    role: str
    sid: str
    jti: str
    iat: int
    exp: int


class TokenCodec:
    """Issues and verifies tokens; the algorithm is pinned, never taken from the token."""

    def __init__(self, secret: str, cache_size: int = 10_000) -> None:
        """Sign with ``secret``; remember up to ``cache_size`` verified tokens."""
        self._secret = secret
        self._cache: dict[str, Claims] = {}
        self._cache_size = cache_size

    def issue(self, *, username: str, role: str, sid: str, now: float, expires_at: float) -> str:
        """A signed token for one session."""
        payload = {
            "sub": username,
            "role": role,
            "sid": sid,
            "jti": secrets.token_urlsafe(16),
            "iat": int(now),
            "exp": int(expires_at),
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str, now: float) -> Claims | None:
        """Verified claims, or None for anything forged, malformed or expired."""
        claims = self._cache.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            if len(self._cache) >= self._cache_size:
                self._cache.clear()  # crude but bounded; the hot set refills at once
            self._cache[token] = claims
        return claims if claims.exp > now else None

    def _verify(self, token: str) -> Claims | None:
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except (jwt.InvalidTokenError, TypeError, ValueError, OverflowError):
            # PyJWT lets some malformed input escape as these (surrogates, exp: [], exp: inf).
            return None
        return _claims(payload)


def _number(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _claims(payload: dict[str, object]) -> Claims | None:
    """Typed claims, or None when any of them has the wrong type."""
    sub, role, sid, jti = (payload.get(key) for key in ("sub", "role", "sid", "jti"))
    iat, exp = _number(payload.get("iat")), _number(payload.get("exp"))
    if not (isinstance(sub, str) and isinstance(sid, str) and isinstance(jti, str)):
        return None
    if not isinstance(role, str) or not role or len(role) > 64 or iat is None or exp is None:
        return None
    return Claims(sub, role, sid, jti, iat, exp)
