"""Return addresses: only a path on this host is ever followed after login."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_RETURN_LENGTH = 2048


def safe_return_path(value: str | None) -> str:
    r"""The same-host path to go back to, or ``/`` for anything else.

    A browser reads ``//evil``, ``/\\evil`` and ``/<tab>/evil`` as other hosts, so a path
    must start with exactly one ``/`` followed by something that is neither ``/`` nor ``\\``,
    and may contain no control characters (C0 or C1), lone surrogates or backslashes.
    """
    if not value or len(value) > MAX_RETURN_LENGTH:
        return "/"
    if any(unicodedata.category(ch) in ("Cc", "Cs") or ch == "\\" for ch in value):
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value
