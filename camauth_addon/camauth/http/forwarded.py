"""What a trusted proxy says about the request the browser made: host, scheme and prefix.

Believed only when the direct peer is in ``auth.trusted_proxies`` (client_ip.py decides the
address the same way); from anyone else these headers are ignored. Each is read once, and a
malformed or repeated value counts as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from ..const import RESERVED_PREFIX
from ..core.identity import SOURCE_INGRESS
from .app_keys import SETTINGS
from .client_ip import peer_is_trusted
from .context import context

_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(?::\d{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](?::\d{1,5})?")
_PREFIX = re.compile(r"(?:/[A-Za-z0-9._~-]+){1,8}")


@dataclass(frozen=True, slots=True)
class Original:
    """The browser's view of a request: its scheme, host, and the prefix CamAuth is under."""

    scheme: str
    host: str
    prefix: str  # "" or "/something", never a trailing slash


def _single(request: web.Request, name: str) -> str | None:
    values = request.headers.getall(name, [])
    return values[0].split(",")[0].strip() if len(values) == 1 else None


def original(request: web.Request) -> Original:
    """The scheme, host and prefix the browser used, as far as a trusted proxy says so."""
    scheme, host, prefix = request.scheme, request.host, ""
    if peer_is_trusted(request, request.app[SETTINGS].auth.trusted_proxies):
        told_scheme = _single(request, "X-Forwarded-Proto")
        if told_scheme in ("http", "https"):
            scheme = told_scheme
        told_host = _single(request, "X-Forwarded-Host")
        if told_host and _HOST.fullmatch(told_host):
            host = told_host
        told_prefix = (_single(request, "X-Forwarded-Prefix") or "").rstrip("/")
        if _PREFIX.fullmatch(told_prefix) and not {".", ".."} & set(told_prefix.split("/")):
            prefix = told_prefix
    return Original(scheme, host, prefix)


def under_reserved_prefix(path: str) -> bool:
    """Whether a request path is under ``/camauth/``."""
    return path == RESERVED_PREFIX or path.startswith(RESERVED_PREFIX + "/")


def base_of(request: web.Request) -> str:
    """The prefix the browser sees CamAuth under: ingress's, a trusted proxy's, ``/camauth``."""
    ctx = context(request)
    if ctx.source == SOURCE_INGRESS:
        return ctx.base
    reserved = RESERVED_PREFIX if under_reserved_prefix(request.path) else ""
    return original(request).prefix + reserved
