"""The one path canonicalisation: every decision about a path is made on its canonical form.

A rule that holds for ``/api/users`` must hold for every spelling of it a server would serve
as ``/api/users``: ``/a/../api/users``, ``/api/%75sers``, ``//api/users``, ``/api/./users``.
So the path is first put in canonical form, the way nginx reads it before it matches a
``location`` (CVE-2025-66490, CVE-2026-40912, CVE-2026-48020):

1. percent-encodings of unreserved characters are decoded (``%2e`` is ``.``, ``%75`` is
   ``u``), every other one is kept with upper-case hex, raw non-ASCII is encoded as UTF-8;
2. runs of slashes become one;
3. ``.`` and ``..`` segments are resolved (RFC 3986 5.2.4; ``..`` above the root stays at it).

What servers read in different ways is refused instead of guessed at: an encoded slash
(``%2F``, kept by some servers, decoded by others), a backslash raw or encoded (a path
separator on Windows servers), NUL and other control characters, a malformed encoding, and
path parameters on a dot segment (``/..;/``, which Tomcat and Jetty resolve).
"""

from __future__ import annotations

import re
import string

from ..errors import BadRequest

MAX_PATH_LENGTH = 8192
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Characters a path may carry as they are (RFC 3986 pchar and "/", without "%").
_PLAIN = frozenset(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_REFUSED_BYTES = {0x2F: "an encoded slash", 0x5C: "an encoded backslash"}
_DOT_PARAMETERS = re.compile(r"\.\.?(;|%3B)", re.IGNORECASE)


class UnjudgeablePath(BadRequest):
    """A path that servers read in more than one way: refused, never passed."""


def _refuse(reason: str) -> UnjudgeablePath:
    return UnjudgeablePath(f"Path refused: {reason}", key="path_refused")


def _decode_char(match: re.Match[str]) -> str:
    value = int(match.group(1), 16)
    if value in _REFUSED_BYTES:
        raise _refuse(f"it contains {_REFUSED_BYTES[value]}")
    if value < 0x20 or value == 0x7F:
        raise _refuse("it contains an encoded control character")
    char = chr(value)
    return char if char in _UNRESERVED else f"%{value:02X}"


def _normalise_encoding(path: str) -> str:
    """Step 1: one spelling for every character (see the module docstring)."""
    out: list[str] = []
    for char in path:
        if char in _PLAIN:
            out.append(char)
        elif char == "%":
            out.append(char)  # checked with what follows, below
        elif char == "\\":
            raise _refuse("it contains a backslash")
        elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            raise _refuse("it contains a control character")
        elif char in "?#" or char in ' "<>[]^`{|}':
            out.append(f"%{ord(char):02X}")
        else:  # non-ASCII, raw: the UTF-8 octets a browser would have sent
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    encoded = "".join(out)
    if re.search(r"%(?![0-9A-Fa-f]{2})", encoded):
        raise _refuse("it contains a malformed percent-encoding")
    return _ESCAPE.sub(_decode_char, encoded)


def _resolve(path: str) -> str:
    """Steps 2 and 3: merge slashes, resolve dot segments, keep a trailing slash."""
    segments = [segment for segment in path.split("/") if segment]
    for segment in segments:
        if _DOT_PARAMETERS.match(segment):
            raise _refuse("a dot segment carries path parameters")
    trailing = path.endswith("/") or (bool(segments) and segments[-1] in (".", ".."))
    resolved: list[str] = []
    for segment in segments:
        if segment == "..":
            if resolved:
                resolved.pop()
        elif segment != ".":
            resolved.append(segment)
    text = "/" + "/".join(resolved)
    return text + "/" if trailing and resolved else text


# A path of plain segments (letters, digits, "-", "_", "~" and inner dots; no empty, dot,
# encoded or parameter segments) is its own canonical form: nothing above changes it. Most
# paths a camera UI asks for are such (``/api/events``, ``/live/front/seg-42.ts``), and
# this look costs a tenth of the steps it stands for (a test holds the two equal).
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")


def canonical_path(path: str) -> str:
    """The canonical form of a request path (no query); raises :class:`UnjudgeablePath`."""
    if not path.startswith("/"):
        raise _refuse("it does not start with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise _refuse("it is too long")
    if _PLAIN_PATH.fullmatch(path):
        return path
    return _resolve(_normalise_encoding(path))


def canonical_path_by_steps(path: str) -> str:
    """:func:`canonical_path` without the shortcut for plain paths (for the tests)."""
    if not path.startswith("/"):
        raise _refuse("it does not start with '/'")
    if len(path) > MAX_PATH_LENGTH:
        raise _refuse("it is too long")
    return _resolve(_normalise_encoding(path))


def split_target(target: str) -> tuple[str, str]:
    """The path and query of a request target: origin-form, or an absolute URL's path."""
    if "://" in target.split("?", 1)[0]:
        rest = target.split("://", 1)[1]
        slash = rest.find("/")
        query_at = rest.find("?")
        if slash < 0 or (0 <= query_at < slash):
            target = "/" + (rest[query_at:] if query_at >= 0 else "")
        else:
            target = rest[slash:]
    path, _, query = target.partition("?")
    if "#" in path:
        raise _refuse("it contains a fragment")
    return path, query.partition("#")[0]


def canonical_target(target: str) -> tuple[str, str]:
    """The canonical path and the raw query of a request target."""
    if not target:  # an empty header is no address: deny, never "/" (tinyauth GHSA-xg2q-62g2-cvcm)
        raise _refuse("it is empty")
    path, query = split_target(target)
    return canonical_path(path or "/"), query


def is_canonical(path: str) -> bool:
    """Whether a path is already in canonical form."""
    try:
        return canonical_path(path) == path
    except UnjudgeablePath:
        return False
