r"""Return addresses: where a browser goes after logging in. One rule, judged here only.

Besides paths on this host, an absolute ``http(s)`` URL is accepted when its host is the one
the browser is on, or one listed in ``auth.return_domains``: an exact host name, or
``.example.com`` for that domain and its subdomains (matched on a label boundary, so
``evilexample.com`` and ``example.com.evil`` are not ``.example.com``).


The login page does not judge an address itself: the server renders its verdict into the
page, and the page's script follows it as it is. The rule: a path on this host, as the
browser will read it. A browser reads ``//evil``, ``/\evil`` and ``/<tab>/evil`` as other
hosts, and resolves dot segments (``.``, ``..``, and their ``%2e`` spellings) before it
navigates, so ``/.//evil`` becomes ``//evil``. So an address must start with one ``/``,
hold no control characters (C0 or C1), lone surrogates or backslashes, and still start with
exactly one ``/`` once its dot segments are resolved; it is returned resolved. Anything else
becomes ``/``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import SplitResult, urlsplit

MAX_RETURN_LENGTH = 2048
_DOT = frozenset({".", "%2e"})
_DOT_DOT = frozenset({"..", ".%2e", "%2e.", "%2e%2e"})


def resolve_dot_segments(path: str) -> str:
    """Dot segments resolved the way browsers do (WHATWG URL), slashes left as they are."""
    segments = path.split("/")[1:]
    resolved: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOT_DOT:
            if resolved:
                resolved.pop()
            if last:
                resolved.append("")
        elif lowered in _DOT:
            if last:
                resolved.append("")
        else:
            resolved.append(segment)
    return "/" + "/".join(resolved)


def _split(value: str) -> tuple[str, str]:
    """The path, and the query and fragment that follow it."""
    ends = [index for index in (value.find("?"), value.find("#")) if index >= 0]
    cut = min(ends) if ends else len(value)
    return value[:cut], value[cut:]


def safe_return_path(value: str | None) -> str:
    """The same-host path to go back to (dot segments resolved), or ``/`` for anything else."""
    if not value or len(value) > MAX_RETURN_LENGTH:
        return "/"
    if any(unicodedata.category(ch) in ("Cc", "Cs") or ch == "\\" for ch in value):
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    path, rest = _split(value)
    path = resolve_dot_segments(path)
    if path.startswith("//"):
        return "/"
    return path + rest


def domain_allowed(hostname: str, domains: tuple[str, ...]) -> bool:
    """Whether a host name is one of ``domains`` (``.example.com``: it and its subdomains)."""
    name = hostname.lower().rstrip(".")
    for domain in domains:
        if domain.startswith("."):
            if name == domain[1:] or name.endswith(domain):
                return True
        elif name == domain:
            return True
    return False


def _allowed_url(value: str, host: str, domains: tuple[str, ...]) -> SplitResult | None:
    """The parts of an absolute http(s) URL of an allowed host, or None."""
    if len(value) > MAX_RETURN_LENGTH or any(
        unicodedata.category(ch) in ("Cc", "Cs") or ch == "\\" for ch in value
    ):
        return None
    try:
        parts = urlsplit(value)
        hostname, port = parts.hostname or "", parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return None
    if parts.scheme not in ("http", "https") or parts.username is not None or not hostname:
        return None
    if port is not None and not 0 < port < 65536:
        return None
    if parts.netloc.lower() != host.lower() and not domain_allowed(hostname, domains):
        return None
    return parts


def safe_return_address(value: str | None, host: str = "", domains: tuple[str, ...] = ()) -> str:
    """A path on this host (see :func:`safe_return_path`), or an http(s) URL of an allowed host.

    ``host`` is the host (and port) the browser is on; anything else becomes ``/``.
    """
    if not value or value.startswith("/"):
        return safe_return_path(value)
    parts = _allowed_url(value, host, domains)
    path = safe_return_path(parts.path or "/") if parts is not None else "/"
    if parts is None or (path == "/" and parts.path not in ("", "/")):
        return "/"
    rest = (f"?{parts.query}" if parts.query else "") + (
        f"#{parts.fragment}" if parts.fragment else ""
    )
    return f"{parts.scheme}://{parts.netloc}{path}{rest}"
