"""SSO header mode: an authenticating proxy in front (Authelia, Authentik, oauth2-proxy) says who.

The identity headers of ``proxy.header_map`` are believed only from a peer in
``auth.trusted_proxies``, and only with the right ``X-Proxy-Secret`` when ``proxy.auth_secret``
is set (compared in constant time). A header with a control character is refused (400). The
role is the role header's (admin wins among several), else the first ``proxy.group_roles``
entry that one of the groups matches (admin wins), else ``proxy.default_role``.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ..const import ROLE_ADMIN
from ..core.identity import SOURCE_PROXY, Identity
from ..errors import BadRequest, Unauthorized
from ..options import ProxySettings, Settings
from .client_ip import peer_is_trusted

SECRET_HEADER = "X-Proxy-Secret"  # noqa: S105  # nosec B105 - a header's name


def _value(request: web.Request, name: str | None) -> str:
    """A mapped header's value ("" when unmapped or absent); control characters are a 400."""
    if not name:
        return ""
    values = request.headers.getall(name, [])
    if len(values) > 1:
        raise BadRequest(f"Duplicate {name} header", key="bad_credential")
    value = values[0].strip() if values else ""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value) or len(value) > 1024:
        raise BadRequest(f"Invalid {name} header", key="bad_credential")
    return value


def _split(text: str, separator: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(separator) if part.strip())


def choose_role(roles: tuple[str, ...], groups: tuple[str, ...], proxy: ProxySettings) -> str:
    """The role of a proxy user (see the module docstring)."""
    if roles:
        return ROLE_ADMIN if ROLE_ADMIN in roles else roles[0]
    matched = [role for group, role in proxy.group_roles if group in groups]
    if matched:
        return ROLE_ADMIN if ROLE_ADMIN in matched else matched[0]
    return proxy.default_role


def proxy_identity(request: web.Request, settings: Settings) -> Identity | None:
    """The identity an SSO proxy vouches for, or None; raises when it vouches badly."""
    proxy = settings.proxy
    user_header = proxy.header_map.get("user")
    if not user_header or not peer_is_trusted(request, settings.auth.trusted_proxies):
        return None
    if proxy.auth_secret:
        told = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(told.encode(), proxy.auth_secret.encode()):
            raise Unauthorized("Wrong or missing X-Proxy-Secret", key="bad_proxy_secret")
    username = _value(request, user_header)
    if not username:
        return None
    mapped = proxy.header_map
    groups = _split(_value(request, mapped.get("groups")), proxy.separator)
    roles = _split(_value(request, mapped.get("role")), proxy.separator)
    return Identity(
        username[:128],
        choose_role(roles, groups, proxy),
        SOURCE_PROXY,
        email=_value(request, mapped.get("email")),
        name=_value(request, mapped.get("name")),
        groups=groups,
    )
