"""The exception root of CamAuth: each subclass carries its HTTP status."""

from collections.abc import Mapping


class CamAuthError(Exception):
    """Base of every error CamAuth raises on purpose."""

    status = 400

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        """Keep the human-readable message and any headers for the response."""
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class BadRequest(CamAuthError):
    """The request is malformed or fails validation."""

    status = 400


class Unauthorized(CamAuthError):
    """No valid identity, or bad credentials."""

    status = 401


class Forbidden(CamAuthError):
    """A valid identity that may not do this."""

    status = 403


class NotFound(CamAuthError):
    """The named thing does not exist."""

    status = 404


class Conflict(CamAuthError):
    """The request clashes with stored state (duplicate user, last admin)."""

    status = 409


class UnsupportedMediaType(CamAuthError):
    """The body is not JSON."""

    status = 415


class TooManyRequests(CamAuthError):
    """Rate limited or overloaded; says when to come back."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        """Carry a Retry-After in whole seconds (at least one)."""
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class ConfigError(Exception):
    """Invalid options or environment: start-up stops with one clear line."""
