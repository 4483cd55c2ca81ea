"""Names of people and keys: what is allowed, and when two spellings are the same name."""

from __future__ import annotations

import re
import unicodedata

from ..errors import BadRequest

USERNAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")
USERNAME_RULE = "Username must be 1-64 characters: letters, digits, '.', '_' or '-'"


def lookup_key(name: str) -> str:
    """One key per person: ``Admin``, `` admin`` and full-width forms of it are the same."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def validate_username(name: object) -> str:
    """Return a valid new username or raise a 400 that says what is allowed."""
    if not isinstance(name, str) or not _USERNAME_RE.fullmatch(name):
        raise BadRequest(USERNAME_RULE, key="invalid_username")
    return name
