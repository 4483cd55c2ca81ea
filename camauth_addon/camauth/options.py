"""Options: the add-on's ``options.json``, validated into frozen settings."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import limits
import voluptuous as vol

from .const import ROLE_VIEWER
from .core.paths import is_canonical
from .core.rate_limit import failures_per_hour, parse_windows
from .core.upstreams import DEFAULT_TIMEOUT, OWN_PREFIXES, Upstream, ordered, split_url, under
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


# Identity headers an SSO proxy may send (Frigate's documented list, the Remote-Role its own
# example uses, and oauth2-proxy's X-Auth-Request-*): no other header can carry an identity.
IDENTITY_HEADERS = (
    "Remote-User",
    "Remote-Role",
    "Remote-Groups",
    "Remote-Email",
    "Remote-Name",
    "X-Forwarded-User",
    "X-Forwarded-Role",
    "X-Forwarded-Groups",
    "X-Forwarded-Email",
    "X-Forwarded-Preferred-Username",
    "X-authentik-username",
    "X-authentik-groups",
    "X-authentik-email",
    "X-authentik-name",
    "X-authentik-uid",
    "X-Auth-Request-User",
    "X-Auth-Request-Preferred-Username",
    "X-Auth-Request-Email",
    "X-Auth-Request-Groups",
)
_IDENTITY_HEADERS = {name.lower(): name for name in IDENTITY_HEADERS}


def _header_name(value: Any) -> str:
    """One of the identity headers (any case; `_` read as `-`), in its canonical spelling."""
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a header name")
    name = _IDENTITY_HEADERS.get(value.strip().replace("_", "-").lower())
    if name is None:
        raise vol.Invalid(f"not an identity header CamAuth accepts: {value!r}")
    return name


_TEXT = vol.All(str, vol.Length(max=4096))
_ROLE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_DOMAIN = re.compile(
    r"\.?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def _role(value: Any) -> str:
    if not isinstance(value, str) or not _ROLE.fullmatch(value):
        raise vol.Invalid("expected a role: admin, viewer, or a custom role's name")
    return value


def _domain(value: Any) -> str:
    """A host name (``cams.example.com``), or ``.example.com`` for it and its subdomains."""
    if not isinstance(value, str) or not _DOMAIN.fullmatch(value.strip().lower()):
        raise vol.Invalid(f"not a domain name: {value!r} (e.g. cams.example.com or .example.com)")
    return value.strip().lower()


def _cookie_domain(value: Any) -> str:
    if value in ("", None):
        return ""
    domain = _domain(value).lstrip(".")
    if "." not in domain:
        raise vol.Invalid("a cookie domain needs a dot (e.g. example.com); leave it empty else")
    return domain


def _login_url(value: Any) -> str:
    """Where browsers find the login page: a path on the same host, or an http(s) URL."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or any(ord(ch) < 0x21 or ch == "\\" for ch in value):
        raise vol.Invalid("expected a path such as /camauth/login or an https:// URL")
    parts = urlsplit(value)
    if value.startswith("/") and not value.startswith("//") and not parts.netloc:
        return value
    if parts.scheme in ("http", "https") and parts.hostname and not parts.username:
        return value
    raise vol.Invalid("expected a path such as /camauth/login or an https:// URL")


def _group_role(value: Any) -> tuple[str, str]:
    """``group=role``: members of the SSO group get the role."""
    if not isinstance(value, str) or "=" not in value:
        raise vol.Invalid("expected 'group=role', e.g. 'frigate_admins=admin'")
    group, _, role = value.partition("=")
    if not group.strip():
        raise vol.Invalid("expected 'group=role': the group is empty")
    return group.strip(), _role(role.strip())


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
        vol.Optional("cookie_domain", default=""): _cookie_domain,
        vol.Optional("login_url", default=""): _login_url,
        vol.Optional("return_domains", default=list): [_domain],
        vol.Optional("homeassistant_login", default=True): _strict_bool,
        vol.Optional("homeassistant_admins", default=list): [vol.All(str, vol.Length(1, 64))],
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
        vol.Optional("default_role", default=ROLE_VIEWER): _role,
        vol.Optional("group_roles", default=list): [_group_role],
        vol.Optional("logout_url", default=""): _TEXT,
    }
)

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/?")


def _upstream_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise vol.Invalid("expected a short name: a-z, 0-9, '_' or '-' (e.g. frigate)")
    return value


def _upstream_url(value: Any) -> tuple[str, str]:
    if not isinstance(value, str):
        raise vol.Invalid("expected a URL such as http://ccab4aaf-frigate:8971")
    try:
        return split_url(value.strip())
    except ValueError as err:
        raise vol.Invalid(f"not an upstream URL: {err}") from err


def _upstream_path(value: Any) -> str:
    """Where the gateway serves an upstream: ``/`` or a prefix such as ``/go2rtc/``."""
    if not isinstance(value, str) or not _PREFIX.fullmatch(value) or not value.startswith("/"):
        raise vol.Invalid("expected / or a path prefix such as /go2rtc/")
    prefix = value.rstrip("/")
    if prefix and not is_canonical(prefix):
        raise vol.Invalid("the prefix has '.' or '..' segments")
    clash = next((own for own in OWN_PREFIXES if under(prefix, own) or under(own, prefix)), None)
    if prefix and clash is not None:
        raise vol.Invalid(f"{clash}/ is CamAuth's own; choose another prefix, or /")
    return prefix


def _host(value: Any) -> str:
    if value in ("", None):
        return ""
    if not isinstance(value, str) or value.strip().startswith("."):
        raise vol.Invalid("expected a host name such as frigate.example.com")
    return _domain(value)


UPSTREAM_SCHEMA = vol.Schema(
    {
        vol.Required("name"): _upstream_name,
        vol.Required("url"): _upstream_url,
        vol.Optional("path", default="/"): _upstream_path,
        vol.Optional("host", default=""): _host,
        vol.Optional("timeout", default=DEFAULT_TIMEOUT): vol.All(
            _strict_int, vol.Range(min=1, max=3600)
        ),
        vol.Optional("auth_secret", default=""): _TEXT,
    }
)


def _upstreams(value: Any) -> list[Upstream]:
    """The list of upstreams: each valid, no two with one name or one place."""
    if not isinstance(value, list):
        raise vol.Invalid("expected a list of upstreams")
    found: list[Upstream] = []
    for index, item in enumerate(value):
        try:
            data = UPSTREAM_SCHEMA(item)
        except vol.Invalid as err:
            err.prepend([index])
            raise
        origin, base = data["url"]
        upstream = Upstream(
            data["name"],
            origin,
            base,
            data["path"],
            data["host"],
            data["timeout"],
            data["auth_secret"],
        )
        for other in found:
            if other.name == upstream.name:
                raise vol.Invalid(f"the name {upstream.name!r} is taken", path=[index, "name"])
            if (other.host, other.prefix) == (upstream.host, upstream.prefix):
                raise vol.Invalid(f"{other.name!r} is served there already", path=[index, "path"])
        found.append(upstream)
    return found


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
        vol.Optional("upstreams", default=list): _upstreams,
        vol.Optional("ssl", default=False): _strict_bool,
        vol.Optional("certfile", default="fullchain.pem"): vol.All(str, vol.Length(1, 4096)),
        vol.Optional("keyfile", default="privkey.pem"): vol.All(str, vol.Length(1, 4096)),
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
    cookie_domain: str = ""  # a parent domain, so one login covers its subdomains
    login_url: str = ""  # where forward-auth sends browsers to log in (default: /camauth/login)
    return_domains: tuple[str, ...] = ()  # other hosts a login may return to
    homeassistant_login: bool = True  # "Sign in with Home Assistant" (as the add-on)
    homeassistant_admins: tuple[str, ...] = ()  # Home Assistant users who get admin


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """The ``proxy`` section: an upstream SSO proxy's headers."""

    auth_secret: str = ""
    header_map: dict[str, str] = field(default_factory=dict)
    separator: str = ","
    default_role: str = ROLE_VIEWER
    group_roles: tuple[tuple[str, str], ...] = ()  # (SSO group, role); admin wins
    logout_url: str = ""


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """The ``audit`` section: how long the audit log keeps events."""

    retention_days: int = 90
    max_events: int = 100_000


SSL_DIR = Path("/ssl")  # the add-on's certificates (Home Assistant's `ssl` folder)


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS on the gateway port: ``ssl``, ``certfile``, ``keyfile`` (relative ones under /ssl)."""

    enabled: bool = False
    certfile: Path = SSL_DIR / "fullchain.pem"
    keyfile: Path = SSL_DIR / "privkey.pem"


@dataclass(frozen=True, slots=True)
class Settings:
    """All options, validated."""

    jwt_secret: str = ""
    auth: AuthSettings = field(default_factory=AuthSettings)
    proxy: ProxySettings = field(default_factory=ProxySettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    log_level: str = "info"
    upstreams: tuple[Upstream, ...] = ()  # in matching order (see core.upstreams.ordered)
    tls: TlsSettings = field(default_factory=TlsSettings)


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
        **{
            **data["auth"],
            **{
                name: tuple(data["auth"][name])
                for name in ("trusted_proxies", "return_domains", "homeassistant_admins")
            },
        }
    )
    if auth.refresh_time >= auth.session_length:
        raise ConfigError(
            "invalid option 'auth.refresh_time': must be shorter than auth.session_length"
        )
    if data["ssl"]:  # a cookie set over TLS must never travel without it
        auth = replace(auth, cookie_secure=True)
    proxy = data["proxy"]
    return Settings(
        jwt_secret=data["jwt_secret"],
        auth=auth,
        proxy=ProxySettings(**{**proxy, "group_roles": tuple(proxy["group_roles"])}),
        audit=AuditSettings(**data["audit"]),
        log_level=data["log_level"],
        upstreams=ordered(data["upstreams"]),
        tls=TlsSettings(data["ssl"], SSL_DIR / data["certfile"], SSL_DIR / data["keyfile"]),
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
