r"""Return addresses: where a browser goes after logging in. One rule, judged here only.

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
