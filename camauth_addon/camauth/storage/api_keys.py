"""The SQL of API keys. Each change writes its audit event in its own transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.events import Event
from ..core.names import lookup_key
from ..errors import Conflict, NotFound
from .db import transaction
from .events import insert_event


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (never the secret itself)."""

    id: int
    name: str
    role: str
    prefix: str
    secret_hash: str
    paths: tuple[str, ...]
    created_at: float
    last_used_at: float | None

    def as_json(self) -> dict[str, Any]:
        """The key as listed: no secret, no hash."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "paths": list(self.paths),
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        }


KeyEventFor = Callable[[ApiKey], Event]


def _key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        prefix=row["prefix"],
        secret_hash=row["secret_hash"],
        paths=tuple(json.loads(row["paths"])),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


def create_key(
    conn: sqlite3.Connection,
    name: str,
    role: str,
    paths: tuple[str, ...],
    prefix: str,
    digest: str,
    *,
    event_for: KeyEventFor,
    origin: str,
) -> tuple[ApiKey, Event]:
    """Store a new key; names are unique regardless of case."""
    with transaction(conn):
        if conn.execute(
            "SELECT 1 FROM api_keys WHERE name_key = ?", (lookup_key(name),)
        ).fetchone():
            raise Conflict("An API key with this name exists", key="api_key_exists")
        cur = conn.execute(
            "INSERT INTO api_keys (name, name_key, role, prefix, secret_hash, paths, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, lookup_key(name), role, prefix, digest, json.dumps(list(paths)), time.time()),
        )
        row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (cur.lastrowid,)).fetchone()
        key = _key(row)
        event = insert_event(conn, event_for(key), origin)
    return key, event


def list_keys(conn: sqlite3.Connection) -> list[ApiKey]:
    """All keys, oldest first."""
    return [_key(row) for row in conn.execute("SELECT * FROM api_keys ORDER BY id")]


def get_key_by_name(conn: sqlite3.Connection, name: str) -> ApiKey | None:
    """A key by name, case-insensitively."""
    row = conn.execute("SELECT * FROM api_keys WHERE name_key = ?", (lookup_key(name),)).fetchone()
    return _key(row) if row else None


def delete_key(
    conn: sqlite3.Connection, key_id: int, *, event_for: KeyEventFor, origin: str
) -> tuple[ApiKey, Event]:
    """Revoke a key."""
    with transaction(conn):
        row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound("API key not found", key="api_key_not_found")
        conn.execute("DELETE FROM api_keys WHERE id = ?", (key_id,))
        key = _key(row)
        event = insert_event(conn, event_for(key), origin)
    return key, event


def record_use(conn: sqlite3.Connection, used: dict[int, float]) -> None:
    """Store when keys were last used (batched: never on the request path)."""
    with transaction(conn):
        conn.executemany(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
            [(stamp, key_id) for key_id, stamp in used.items()],
        )
