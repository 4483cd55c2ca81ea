"""The camera UIs CamAuth serves itself (option ``upstreams``): which one a request is for.

Each upstream is served at a path prefix of the gateway (``/`` by default), optionally only
on one host name. A request goes to the upstream with the longest matching prefix, host-bound
upstreams first; ``/camauth/…`` is always CamAuth's own. Matching, and the rewriting of what
an upstream under a prefix says about its own addresses (redirects, cookie paths), are plain
functions of canonical paths, so the proxy and the tests share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from ..const import RESERVED_PREFIX

# CamAuth's own top-level paths: an upstream under a prefix may not take one of them, so
# that without an upstream at ``/`` every address of today keeps working.
OWN_PREFIXES: Final = (RESERVED_PREFIX, "/api", "/login", "/logout", "/admin", "/static")
DEFAULT_TIMEOUT: Final = 60  # seconds an upstream may stay silent (nginx proxy_read_timeout)
CONNECT_TIMEOUT: Final = 10.0


def under(path: str, prefix: str) -> bool:
    """Whether a canonical path is ``prefix`` or below it (``""`` is the root: everything)."""
    return not prefix or path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True, slots=True)
class Upstream:
    """One camera UI: where it lives, and where the gateway serves it.

    ``origin`` is ``scheme://host:port`` of the upstream and ``base`` its own path prefix
    (``""`` or ``/something``); ``prefix`` is where the gateway serves it (``""`` for the
    root), ``host`` the host name it is served on (``""``: any). ``timeout`` is how many
    seconds the upstream may stay silent; ``secret`` is sent to it as ``X-Proxy-Secret``.
    """

    name: str
    origin: str
    base: str = ""
    prefix: str = ""
    host: str = ""
    timeout: int = DEFAULT_TIMEOUT
    secret: str = ""

    def serves(self, host: str, path: str) -> bool:
        """Whether a request for ``path`` (canonical) on ``host`` (no port) is this one's."""
        if self.host and host != self.host:
            return False
        return under(path, self.prefix) and not under(path, RESERVED_PREFIX)

    def upstream_path(self, path: str) -> str:
        """The path to ask the upstream for, given the gateway's canonical path."""
        rest = path[len(self.prefix) :]
        return self.base + (rest if rest.startswith("/") else "/" + rest)

    def url(self, path: str, query: str) -> str:
        """The upstream URL for a gateway path and its (raw) query."""
        return self.origin + self.upstream_path(path) + (f"?{query}" if query else "")

    def rewrite_location(self, location: str) -> str:
        """A redirect from the upstream, as the browser must see it through the gateway.

        An absolute URL on the upstream's own origin and a path under its base become paths
        under the gateway prefix; anything else (another site, a relative reference) is kept.
        """
        rest = location[len(self.origin) :] if location.startswith(self.origin) else None
        if rest is not None and rest[:1] in ("", "/", "?"):
            location = rest if rest.startswith("/") else "/" + rest
        if not location.startswith("/") or location.startswith("//"):
            return location
        if not under(location.split("?", 1)[0], self.base):
            return location
        return self._outside(location[len(self.base) :])

    def rewrite_cookie_path(self, path: str) -> str:
        """A ``Set-Cookie`` path from the upstream, moved under the gateway prefix."""
        if not path.startswith("/") or not under(path.rstrip("/"), self.base):
            return self._outside("/")
        return self._outside(path[len(self.base) :])

    def _outside(self, rest: str) -> str:
        """An upstream path below its base, as the gateway serves it."""
        return self.prefix + (rest if rest.startswith("/") else "/" + rest)


def match(upstreams: tuple[Upstream, ...], host: str, path: str) -> Upstream | None:
    """The upstream a request is for (``upstreams`` sorted by :func:`ordered`), or None."""
    for upstream in upstreams:
        if upstream.serves(host, path):
            return upstream
    return None


def ordered(upstreams: list[Upstream]) -> tuple[Upstream, ...]:
    """Host-bound upstreams first, then longer prefixes first: the first match is the best."""
    return tuple(sorted(upstreams, key=lambda up: (not up.host, -len(up.prefix))))


def split_url(url: str) -> tuple[str, str]:
    """An upstream URL's origin (``http://host:port``) and base path (``""`` or ``/x``).

    Raises ValueError with the reason for anything but a plain http(s) URL.
    """
    if any(ord(ch) <= 0x20 or ch == "\\" for ch in url):
        raise ValueError("a URL has no spaces, control characters or backslashes")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected http:// or https:// and a host, e.g. http://frigate:8971")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not supported")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError("no query or fragment: the path is the upstream's base")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as err:
        raise ValueError(f"invalid port ({err})") from err
    return f"{parts.scheme}://{parts.netloc.lower()}", parts.path.rstrip("/")
