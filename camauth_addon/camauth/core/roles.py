"""Roles: what each may do on the camera UI, as data.

``admin`` may do everything. ``viewer`` may use the safe methods (GET, HEAD, OPTIONS) on any
path, plus the read-only POSTs of the camera systems (the presets of ``core.cameras``).
Custom roles carry **rules** (path patterns and methods), **presets**, and optionally a list
of **cameras**: a request that names any other camera is refused. Nothing is allowed unless a
rule or a preset of the role allows it. Patterns match canonical paths (``core.paths``):
``*`` is one path segment (or part of one: ``latest.*``), ``**`` any number of segments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..const import ROLE_ADMIN, ROLE_VIEWER, SAFE_METHODS
from ..errors import BadRequest
from ..storage import roles as roles_db
from ..storage.db import Database
from . import events
from .cameras import PRESETS, cameras_named, preset_allows
from .events import EventBus, make_event
from .live import LiveConnections
from .sessions import NOBODY, Actor

_LOGGER = logging.getLogger(__name__)

ROLE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ROLE_NAME_RULE = "Role names are 1-32 lower-case letters, digits, '_' or '-'"
METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
MAX_RULES = 64
MAX_PATTERNS = 32
MAX_CAMERAS = 256
_PATTERN = re.compile(r"/(?:[A-Za-z0-9._~!$&'()+,;=:@%*-]+(?:/|$))*")


def _segment(segment: str) -> str:
    if segment == "**":
        return "(?:/[^/]+)*"
    return "/" + "[^/]*".join(re.escape(part) for part in segment.split("*"))


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A path pattern as a regular expression over canonical paths (a trailing / optional)."""
    segments = [segment for segment in pattern.split("/")[1:] if segment]
    body = "".join(_segment(segment) for segment in segments) or ""
    return re.compile(f"{body}/?")


@dataclass(frozen=True, slots=True)
class Rule:
    """Methods allowed on paths matching any of the patterns."""

    paths: tuple[str, ...]
    methods: frozenset[str]
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def of(cls, paths: Iterable[str], methods: Iterable[str]) -> Rule:
        """A rule, its patterns compiled."""
        paths = tuple(paths)
        return cls(paths, frozenset(methods), tuple(compile_pattern(p) for p in paths))

    def allows(self, method: str, path: str) -> bool:
        """Whether this rule covers a request."""
        return method in self.methods and any(p.fullmatch(path) for p in self._compiled)

    def as_json(self) -> dict[str, Any]:
        """The rule as the API shows it."""
        return {"paths": list(self.paths), "methods": sorted(self.methods)}


@dataclass(frozen=True, slots=True)
class Role:
    """A named set of permissions on the camera UI."""

    name: str
    description: str = ""
    rules: tuple[Rule, ...] = ()
    presets: tuple[str, ...] = ()
    cameras: tuple[str, ...] | None = None  # None: every camera
    builtin: bool = False

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.name == ROLE_ADMIN

    def allows(self, method: str, path: str, query: str) -> bool:
        """Whether this role may make a request (canonical path, raw query)."""
        if self.is_admin:
            return True
        if self.cameras is not None and not cameras_named(path, query) <= set(self.cameras):
            return False
        if any(rule.allows(method, path) for rule in self.rules):
            return True
        return preset_allows(self.presets, method, path)

    def as_json(self) -> dict[str, Any]:
        """The role as the API shows it."""
        return {
            "name": self.name,
            "description": self.description,
            "rules": [rule.as_json() for rule in self.rules],
            "presets": list(self.presets),
            "cameras": list(self.cameras) if self.cameras is not None else None,
            "builtin": self.builtin,
        }


ADMIN: Final = Role(ROLE_ADMIN, "Everything, including users, keys and settings.", builtin=True)
VIEWER: Final = Role(
    ROLE_VIEWER,
    "Read-only: safe methods everywhere, and the read-only POSTs of the camera systems.",
    rules=(Rule.of(["/**"], SAFE_METHODS),),
    presets=tuple(PRESETS),
    builtin=True,
)
BUILTIN: Final = {ADMIN.name: ADMIN, VIEWER.name: VIEWER}


def _text_list(value: object, what: str, limit: int) -> list[str]:
    if not isinstance(value, list) or len(value) > limit:
        raise BadRequest(f"{what} must be a list of at most {limit} entries", key="invalid_role")
    if not all(isinstance(item, str) and item for item in value):
        raise BadRequest(f"{what} must be non-empty strings", key="invalid_role")
    return list(value)


def parse_rule(raw: object) -> Rule:
    """A rule from the API's JSON, or a 400 that says what is wrong."""
    if not isinstance(raw, dict) or set(raw) - {"paths", "methods"}:
        raise BadRequest('A rule is {"paths": [...], "methods": [...]}', key="invalid_role")
    paths = _text_list(raw.get("paths"), "A rule's paths", MAX_PATTERNS)
    methods = [m.upper() for m in _text_list(raw.get("methods"), "A rule's methods", 8)]
    for path in paths:
        if not _PATTERN.fullmatch(path) or "//" in path or "/./" in path or "/../" in path:
            raise BadRequest(
                f"Not a path pattern: {path[:80]!r} (absolute, '*' for a segment, '**' for any)",
                key="invalid_role",
            )
    unknown = sorted(set(methods) - METHODS)
    if unknown:
        raise BadRequest(f"Unknown method {unknown[0][:16]!r}", key="invalid_role")
    return Rule.of(paths, methods)


def parse_role(name: str, raw: Mapping[str, Any]) -> Role:
    """A custom role from the API's JSON (name already checked), or a 400."""
    if set(raw) - {"description", "rules", "presets", "cameras"}:
        raise BadRequest(f"Unknown field in a role: {sorted(set(raw))!r}", key="invalid_role")
    description = raw.get("description", "")
    if not isinstance(description, str) or len(description) > 256:
        raise BadRequest("A role's description is text of at most 256", key="invalid_role")
    rules = raw.get("rules", [])
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise BadRequest(f"rules must be a list of at most {MAX_RULES}", key="invalid_role")
    presets = _text_list(raw.get("presets", []), "presets", len(PRESETS))
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        raise BadRequest(
            f"Unknown preset {unknown[0][:32]!r}; known: {', '.join(PRESETS)}", key="invalid_role"
        )
    cameras = raw.get("cameras")
    if cameras is not None:
        cameras = _text_list(cameras, "cameras", MAX_CAMERAS)
    return Role(
        name,
        description,
        tuple(parse_rule(rule) for rule in rules),
        tuple(dict.fromkeys(presets)),
        tuple(cameras) if cameras is not None else None,
    )


def validate_role_name(name: object) -> str:
    """A new role's name: lower-case letters, digits, '_' and '-', not a built-in one."""
    if not isinstance(name, str) or not ROLE_NAME.fullmatch(name):
        raise BadRequest(ROLE_NAME_RULE, key="invalid_role")
    if name in BUILTIN:
        raise BadRequest(f"'{name}' is a built-in role", key="builtin_role")
    return name


class RoleBook:
    """Every role, built-in and custom, in memory: the policy reads it on every request."""

    def __init__(self) -> None:
        """Only the built-in roles until custom ones are loaded."""
        self._roles: dict[str, Role] = dict(BUILTIN)
        self.generation = 0  # changes with every change: remembered decisions end with it

    def load(self, custom: Iterable[Role]) -> None:
        """Replace the custom roles."""
        self._roles = {**{role.name: role for role in custom}, **BUILTIN}
        self.generation += 1

    def put(self, role: Role) -> None:
        """Add or replace one custom role."""
        self._roles = {**self._roles, role.name: role}
        self.generation += 1

    def remove(self, name: str) -> None:
        """Forget one custom role."""
        self._roles = {key: role for key, role in self._roles.items() if key != name}
        self.generation += 1

    def get(self, name: str) -> Role | None:
        """A role by name (None: unknown, which allows nothing)."""
        return self._roles.get(name)

    def names(self) -> list[str]:
        """Every role's name, built-in ones first."""
        return [*BUILTIN, *sorted(set(self._roles) - set(BUILTIN))]

    def require(self, name: object) -> str:
        """A role that exists, or a 400 that lists them."""
        if not isinstance(name, str) or name not in self._roles:
            raise BadRequest(f"Role must be one of: {', '.join(self.names())}", key="invalid_role")
        return name

    def __iter__(self) -> Any:
        return iter(self._roles.values())


def validate_role(role: object, known: Iterable[str] = tuple(BUILTIN)) -> str:
    """A role name of the right form (its existence is the role book's to judge)."""
    names = tuple(known)
    if isinstance(role, str) and (role in names or ROLE_NAME.fullmatch(role)):
        return role
    raise BadRequest(f"Role must be one of: {', '.join(names)}", key="invalid_role")


class RoleService:
    """Creates, changes and deletes custom roles; keeps the role book and emits events."""

    def __init__(self, db: Database, bus: EventBus, live: LiveConnections, origin: str) -> None:
        """Wire the parts; :meth:`load` must run before the first request."""
        self._db = db
        self._bus = bus
        self._live = live
        self._origin = origin
        self.book = RoleBook()

    async def load(self) -> None:
        """Read every custom role (one that no longer parses allows nothing, and says so)."""
        roles = []
        for row in await self._db.run(roles_db.list_roles):
            try:
                roles.append(parse_role(row.name, _raw(row)))
            except BadRequest as err:
                _LOGGER.error("Role %s is invalid and allows nothing: %s", row.name, err.message)
        self.book.load(roles)
        self._live.recheck()

    async def save(self, role: Role, actor: Actor = NOBODY, *, create: bool) -> Role:
        """Create or replace a custom role (already parsed and checked)."""
        kind = events.ROLE_CREATED if create else events.ROLE_UPDATED
        event = make_event(
            kind, username=actor.username, client=actor.client, role=role.name, **actor.detail()
        )
        row = roles_db.RoleRow(
            role.name,
            role.description,
            [rule.as_json() for rule in role.rules],
            list(role.presets),
            list(role.cameras) if role.cameras is not None else None,
        )
        stored = await self._db.run(
            roles_db.save_role, row, create=create, event=event, origin=self._origin
        )
        self.book.put(role)
        self._live.recheck()  # a narrower role ends the streams it no longer allows
        self._bus.publish(stored)
        return role

    async def delete(self, name: str, actor: Actor = NOBODY) -> None:
        """Delete a custom role that nobody holds."""
        if name in BUILTIN:
            raise BadRequest(f"'{name}' is a built-in role", key="builtin_role")
        event = make_event(
            events.ROLE_DELETED,
            username=actor.username,
            client=actor.client,
            role=name,
            **actor.detail(),
        )
        stored = await self._db.run(roles_db.delete_role, name, event=event, origin=self._origin)
        self.book.remove(name)
        self._bus.publish(stored)


def _raw(row: roles_db.RoleRow) -> dict[str, Any]:
    return {
        "description": row.description,
        "rules": row.rules,
        "presets": row.presets,
        "cameras": row.cameras,
    }
