"""The SQL of custom roles (as JSON; core.roles parses and checks them)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ..core.events import Event
from ..errors import Conflict, NotFound
from .db import transaction
from .events import insert_event


@dataclass(frozen=True, slots=True)
class RoleRow:
    """A stored custom role, its parts as the JSON they were stored as."""

    name: str
    description: str
    rules: list[dict[str, Any]]
    presets: list[str]
    cameras: list[str] | None


def _row(row: sqlite3.Row) -> RoleRow:
    cameras = json.loads(row["cameras"]) if row["cameras"] is not None else None
    return RoleRow(
        row["name"],
        row["description"],
        json.loads(row["rules"]),
        json.loads(row["presets"]),
        cameras,
    )


def list_roles(conn: sqlite3.Connection) -> list[RoleRow]:
    """Every custom role, by name."""
    return [_row(row) for row in conn.execute("SELECT * FROM roles ORDER BY name")]


def save_role(
    conn: sqlite3.Connection, role: RoleRow, *, create: bool, event: Event, origin: str
) -> Event:
    """Create (``create``) or replace a role, with its event."""
    now = time.time()
    values = (
        role.description,
        json.dumps(role.rules),
        json.dumps(role.presets),
        json.dumps(role.cameras) if role.cameras is not None else None,
    )
    with transaction(conn):
        exists = conn.execute("SELECT 1 FROM roles WHERE name = ?", (role.name,)).fetchone()
        if create and exists:
            raise Conflict("A role with this name exists", key="role_exists")
        if not create and not exists:
            raise NotFound("Role not found", key="role_not_found")
        conn.execute(
            "INSERT INTO roles (name, description, rules, presets, cameras, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
            " description = excluded.description, rules = excluded.rules,"
            " presets = excluded.presets, cameras = excluded.cameras,"
            " updated_at = excluded.updated_at",
            (role.name, *values, now, now),
        )
        return insert_event(conn, event, origin)


def delete_role(conn: sqlite3.Connection, name: str, *, event: Event, origin: str) -> Event:
    """Delete a role that no user or key holds."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM roles WHERE name = ?", (name,)).fetchone() is None:
            raise NotFound("Role not found", key="role_not_found")
        users = conn.execute("SELECT COUNT(*) FROM users WHERE role = ?", (name,)).fetchone()[0]
        keys = conn.execute("SELECT COUNT(*) FROM api_keys WHERE role = ?", (name,)).fetchone()[0]
        if users or keys:
            raise Conflict(
                f"The role is held by {users} user(s) and {keys} API key(s)", key="role_in_use"
            )
        conn.execute("DELETE FROM roles WHERE name = ?", (name,))
        return insert_event(conn, event, origin)
