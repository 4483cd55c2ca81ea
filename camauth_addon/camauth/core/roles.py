"""Roles: the names a user or key may hold."""

from __future__ import annotations

from collections.abc import Iterable

from ..const import ROLES
from ..errors import BadRequest


def validate_role(role: object, known: Iterable[str] = ROLES) -> str:
    """Return a known role or raise a 400 that lists them."""
    names = tuple(known)
    if not isinstance(role, str) or role not in names:
        raise BadRequest(f"Role must be one of: {', '.join(names)}", key="invalid_role")
    return role
