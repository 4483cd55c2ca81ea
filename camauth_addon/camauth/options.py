"""Options: the add-on's ``options.json``, validated into frozen settings."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import limits
import voluptuous as vol

from .const import ROLE_VIEWER, ROLES
from .core.rate_limit import failures_per_hour, parse_windows
from .errors import ConfigError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_RATE_LIMIT = "1/second;5/minute;20/hour"
DEFAULT_USER_RATE_LIMIT = "10/minute;50/hour"
USER_LIMIT_CEILING = 100  # NIST SP 800-63B 5.2.2 / ASVS 2.2.1: at most 100 failures an hour
MAX_SESSION_LENGTH = 366 * 86400


def _strict_int(value: Any) -> int:
    """Accept whole numbers only: JSON true/false or 1.5 are not durations."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("expected a whole number of seconds")
    return int(value)


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise vol.Invalid("expected true or false")
    return value


def _rate_limit(value: Any) -> str:
    """Check the notation with the same parser that enforces it."""
    if not isinstance(value, str):
        raise vol.Invalid("expected a rate limit such as '1/second;5/minute;20/hour'")
    if value.strip() == "":
        return ""
    try:
        items = limits.parse_many(value)
    except ValueError as err:
        raise vol.Invalid(f"not a rate limit ({err}); example: '{DEFAULT_RATE_LIMIT}'") from err
    if any(item.amount < 1 for item in items):
        raise vol.Invalid("a limit of 0 would switch counting off; use at least 1")
    return value


def _user_rate_limit(value: Any) -> str:
    """Per-username limits may be tightened, never switched off or loosened past the ceiling."""
    text = _rate_limit(value)
    hourly = failures_per_hour(parse_windows(text))
    if hourly > USER_LIMIT_CEILING:
        raise vol.Invalid(
            f"allows {hourly:g} failures an hour per username; at most {USER_LIMIT_CEILING}"
        )
    return text


def _network(value: Any) -> IPNetwork:
    if not isinstance(value, str):
        raise vol.Invalid("expected an IP address or CIDR network as a string")
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as err:
        raise vol.Invalid(f"not an IP address or network: {value!r}") from err
    mapped = network.network_address.ipv4_mapped if network.version == 6 else None
    if mapped is not None and network.prefixlen >= 96:
        # Peers count as IPv4, so ::ffff:10.0.0.0/104 must mean 10.0.0.0/8 to ever match.
        return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def _header_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a header name")
    name = value.strip()
    if not all(ch.isalnum() or ch in "-_" for ch in name):
        raise vol.Invalid(f"not a header name: {value!r}")
    return name


_TEXT = vol.All(str, vol.Length(max=4096))

AUTH_SCHEMA = vol.Schema(
    {
        vol.Optional("enabled", default=True): _strict_bool,
        vol.Optional("session_length", default=86400): vol.All(
            _strict_int, vol.Range(min=60, max=MAX_SESSION_LENGTH)
        ),
        vol.Optional("refresh_time", default=1800): vol.All(
            _strict_int, vol.Range(min=0, max=MAX_SESSION_LENGTH)
        ),
        vol.Optional("failed_login_rate_limit", default=DEFAULT_RATE_LIMIT): _rate_limit,
        vol.Optional("failed_login_user_rate_limit", default=DEFAULT_USER_RATE_LIMIT): (
            _user_rate_limit
        ),
        vol.Optional("trusted_proxies", default=list): [_network],
        vol.Optional("reset_admin_password", default=False): _strict_bool,
        vol.Optional("cookie_secure", default=False): _strict_bool,
    }
)

HEADER_MAP_SCHEMA = vol.Schema(
    {vol.Optional(key): _header_name for key in ("user", "role", "email", "name", "groups")}
)

PROXY_SCHEMA = vol.Schema(
    {
        vol.Optional("auth_secret", default=""): _TEXT,
        vol.Optional("header_map", default=dict): HEADER_MAP_SCHEMA,
        vol.Optional("separator", default=","): vol.All(str, vol.Length(min=1, max=8)),
        vol.Optional("default_role", default=ROLE_VIEWER): vol.In(ROLES),
        vol.Optional("logout_url", default=""): _TEXT,
    }
)

AUDIT_SCHEMA = vol.Schema(
    {
        vol.Optional("retention_days", default=90): vol.All(
            _strict_int, vol.Range(min=1, max=3650)
        ),
        vol.Optional("max_events", default=100_000): vol.All(
            _strict_int, vol.Range(min=1000, max=10_000_000)
        ),
    }
)

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("jwt_secret", default=""): _TEXT,
        vol.Optional("auth", default=dict): AUTH_SCHEMA,
        vol.Optional("proxy", default=dict): PROXY_SCHEMA,
        vol.Optional("audit", default=dict): AUDIT_SCHEMA,
        vol.Optional("log_level", default="info"): vol.All(
            str, vol.Lower, vol.In(LOG_LEVELS, msg=f"expected one of {', '.join(LOG_LEVELS)}")
        ),
    }
)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """The ``auth`` section."""

    enabled: bool = True
    session_length: int = 86400
    refresh_time: int = 1800
    failed_login_rate_limit: str = DEFAULT_RATE_LIMIT
    failed_login_user_rate_limit: str = DEFAULT_USER_RATE_LIMIT
    trusted_proxies: tuple[IPNetwork, ...] = ()
    reset_admin_password: bool = False
    cookie_secure: bool = False


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """The ``proxy`` section: an upstream SSO proxy's headers."""

    auth_secret: str = ""
    header_map: dict[str, str] = field(default_factory=dict)
    separator: str = ","
    default_role: str = ROLE_VIEWER
    logout_url: str = ""


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The ``audit`` section: how long the audit log keeps events."""

    retention_days: int = 90
    max_events: int = 100_000


@dataclass(frozen=True, slots=True)
class Settings:
    """All options, validated."""

    jwt_secret: str = ""
    auth: AuthSettings = field(default_factory=AuthSettings)
    proxy: ProxySettings = field(default_factory=ProxySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    log_level: str = "info"


def _humanize(err: vol.Invalid) -> str:
    path = ".".join(str(part) for part in err.path) or "options"
    message = err.msg
    if message == "extra keys not allowed":
        message = "unknown option"
    return f"invalid option '{path}': {message}"


def parse_options(raw: Any) -> Settings:
    """Validate a decoded options document into :class:`Settings`."""
    if not isinstance(raw, dict):
        raise ConfigError("invalid options: expected a JSON object at the top level")
    try:
        data = OPTIONS_SCHEMA(raw)
    except vol.MultipleInvalid as err:
        raise ConfigError(_humanize(err.errors[0])) from err
    except vol.Invalid as err:
        raise ConfigError(_humanize(err)) from err
    auth = AuthSettings(
        **{**data["auth"], "trusted_proxies": tuple(data["auth"]["trusted_proxies"])}
    )
    if auth.refresh_time >= auth.session_length:
        raise ConfigError(
            "invalid option 'auth.refresh_time': must be shorter than auth.session_length"
        )
    return Settings(
        jwt_secret=data["jwt_secret"],
        auth=auth,
        proxy=ProxySettings(**data["proxy"]),
        audit=AuditSettings(**data["audit"]),
        log_level=data["log_level"],
    )


def load_options(path: Path | None) -> Settings:
    """Read and validate an options file; no file means the embedded defaults."""
    if path is None:
        return parse_options({})
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError(f"options file not found: {path}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read options file {path}: {err}") from err
    try:
        raw = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"options file {path} is not valid JSON: {err}") from err
    return parse_options(raw)
