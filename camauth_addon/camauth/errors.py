"""The exception root of CamAuth: each subclass carries its HTTP status.

Every error also carries a translation key (``code`` in the JSON answer), so the panel and the
Home Assistant integration can show it in the user's language.
"""

from collections.abc import Mapping


class CamAuthError(Exception):
    """Base of every error CamAuth raises on purpose."""

    status = 400
    default_key = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Keep the human-readable message, its translation key and any response headers."""
        super().__init__(message)
        self.message = message
        self.key = key or self.default_key
        self.headers = dict(headers or {})


class BadRequest(CamAuthError):
    """The request is malformed or fails validation."""

    status = 400
    default_key = "bad_request"


class Unauthorized(CamAuthError):
    """No valid identity, or bad credentials."""

    status = 401
    default_key = "unauthorized"


class Forbidden(CamAuthError):
    """A valid identity that may not do this."""

    status = 403
    default_key = "forbidden"


class NotFound(CamAuthError):
    """The named thing does not exist."""

    status = 404
    default_key = "not_found"


class MethodNotAllowed(CamAuthError):
    """The method is never served here (the built-in proxy refuses CONNECT and TRACE)."""

    status = 405
    default_key = "method_not_allowed"


class Conflict(CamAuthError):
    """The request clashes with stored state (duplicate user, last admin)."""

    status = 409
    default_key = "conflict"


class UnsupportedMediaType(CamAuthError):
    """The body is not JSON."""

    status = 415
    default_key = "unsupported_media_type"


class TooManyRequests(CamAuthError):
    """Rate limited or overloaded; says when to come back."""

    status = 429
    default_key = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, key: str | None = None) -> None:
        """Carry a Retry-After in whole seconds (at least one)."""
        super().__init__(message, key=key, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class BadGateway(CamAuthError):
    """A camera UI behind the built-in proxy cannot be reached."""

    status = 502
    default_key = "upstream_unavailable"


class GatewayTimeout(CamAuthError):
    """A camera UI behind the built-in proxy stayed silent too long."""

    status = 504
    default_key = "upstream_timeout"


class ConfigError(Exception):
    """Invalid options or environment: start-up stops with one clear line."""
