"""The one access decision: may this identity do this method on this canonical path.

Everything asks here: CamAuth's own routes (each declares an :class:`Access` level), forward-
auth for a reverse proxy, the event stream, the re-check of long-lived connections, and the
built-in proxy. Nothing is allowed unless a rule below allows it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from ..const import ROLE_VIEWER
from .identity import SOURCE_INGRESS, Identity
from .roles import RoleBook

DEFAULT_ROLES: Final = RoleBook()  # the built-in roles only


class Access(enum.Enum):
    """Who may call one of CamAuth's own routes."""

    PUBLIC = "public"  # anyone; unsafe methods still pass the CSRF check
    FORWARD_AUTH = "forward_auth"  # the handler asks this module about the proxied request
    IDENTITY = "identity"  # any authenticated caller
    SESSION = "session"  # a login session (cookie or bearer token)
    ADMIN = "admin"  # admins only
    INGRESS = "ingress"  # the Home Assistant owner through the Supervisor's ingress only


@dataclass(frozen=True, slots=True)
class Target:
    """What is asked for: a method on a canonical path.

    ``access`` is the level of CamAuth's own route; ``None`` means the camera UI behind
    CamAuth (forward-auth and the built-in proxy), judged by the identity's role.
    """

    method: str
    path: str
    query: str = ""
    access: Access | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: allowed, or the status that refuses (401 who are you, 403 not you)."""

    allowed: bool
    status: int
    reason: str
    key: str


ALLOW: Final = Decision(True, 200, "", "")
NEEDS_LOGIN: Final = Decision(False, 401, "Authentication required", "unauthorized")
NEEDS_SESSION: Final = Decision(False, 403, "This needs a login session", "session_required")
NEEDS_ADMIN: Final = Decision(False, 403, "Admin role required", "admin_required")
NEEDS_INGRESS: Final = Decision(
    False, 403, "Only through the Home Assistant panel", "ingress_required"
)
READ_ONLY: Final = Decision(False, 403, "Viewers have read-only access", "read_only")
NOT_IN_ROLE: Final = Decision(False, 403, "Your role does not allow this", "not_in_role")
OUTSIDE_PATHS: Final = Decision(
    False, 403, "This key is limited to other paths", "outside_key_paths"
)


def within(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a canonical path is one of the prefixes or below one, on a segment boundary."""
    for prefix in prefixes:
        base = prefix.rstrip("/")
        if path == base or path.startswith(base + "/") or base == "":
            return True
    return False


def _own_route(identity: Identity | None, access: Access) -> Decision:
    if access in (Access.PUBLIC, Access.FORWARD_AUTH):
        return ALLOW
    if identity is None or identity.paths:  # a webhook key opens no route of CamAuth's own
        return NEEDS_LOGIN
    if access is Access.SESSION and not identity.session_id:
        return NEEDS_SESSION
    if access is Access.ADMIN and not identity.is_admin:
        return NEEDS_ADMIN
    if access is Access.INGRESS and identity.method != SOURCE_INGRESS:
        return NEEDS_INGRESS
    return ALLOW


def _camera_ui(identity: Identity | None, target: Target, roles: RoleBook) -> Decision:
    if identity is None:
        return NEEDS_LOGIN
    if identity.paths and not within(target.path, identity.paths):
        return OUTSIDE_PATHS
    role = roles.get(identity.role)
    if role is not None and role.allows(target.method, target.path, target.query):
        return ALLOW
    if role is not None and role.name == ROLE_VIEWER:
        return READ_ONLY
    return NOT_IN_ROLE


def decide(identity: Identity | None, target: Target, roles: RoleBook = DEFAULT_ROLES) -> Decision:
    """The access decision for one target; never raises for a well-formed target."""
    if target.access is not None:
        return _own_route(identity, target.access)
    return _camera_ui(identity, target, roles)
