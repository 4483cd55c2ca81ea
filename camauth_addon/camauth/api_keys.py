"""API keys for machines (``X-API-Key``): shown once, stored as a hash, revocable at once.

A key reads ``camauth_<prefix>_<secret>``. The prefix is not secret: it finds the record.
The secret is 256 random bits, so a fast hash (SHA-256) is the right way to store it, and the
stored hash is compared in constant time. Keys with ``paths`` are webhook keys: they pass
forward-auth only for those path prefixes, and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, Conflict, NotFound
from .store import transaction
from .users import lookup_key, validate_role

KEY_PATTERN = re.compile(r"camauth_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
NAME_PATTERN = re.compile(r"[A-Za-z0-9 ._-]{1,64}")
MAX_PATHS = 16


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


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key: (the full key to show once, its prefix, the hash to store)."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    return f"camauth_{prefix}_{secret}", prefix, _hash(secret)


def validate_name(name: object) -> str:
    """A key name: 1-64 letters, digits, spaces, '.', '_' or '-'."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or not name.strip():
        raise BadRequest("Key name must be 1-64 characters: letters, digits, space, '.', '_', '-'")
    return name.strip()


def validate_paths(paths: object) -> tuple[str, ...]:
    """Webhook path prefixes: absolute, normalised, no dot segments."""
    if not isinstance(paths, list | tuple) or len(paths) > MAX_PATHS:
        raise BadRequest(f"paths must be a list of at most {MAX_PATHS} path prefixes")
    result = []
    for path in paths:
        if not isinstance(path, str) or not re.fullmatch(r"/[A-Za-z0-9._~/-]{0,255}", path):
            raise BadRequest(f"Not a path prefix: {path!r}")
        if "//" in path or any(seg in (".", "..") for seg in path.split("/")):
            raise BadRequest(f"Not a path prefix: {path!r}")
        result.append(path)
    return tuple(result)


def _row(row: sqlite3.Row) -> ApiKey:
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
    conn: sqlite3.Connection, name: str, role: str, paths: tuple[str, ...], prefix: str, digest: str
) -> ApiKey:
    """Store a new key; names are unique regardless of case."""
    validate_role(role)
    with transaction(conn):
        if conn.execute(
            "SELECT 1 FROM api_keys WHERE name_key = ?", (lookup_key(name),)
        ).fetchone():
            raise Conflict("An API key with this name exists")
        cur = conn.execute(
            "INSERT INTO api_keys (name, name_key, role, prefix, secret_hash, paths, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, lookup_key(name), role, prefix, digest, json.dumps(list(paths)), time.time()),
        )
    return _row(conn.execute("SELECT * FROM api_keys WHERE id = ?", (cur.lastrowid,)).fetchone())


def list_keys(conn: sqlite3.Connection) -> list[ApiKey]:
    """All keys, oldest first."""
    return [_row(row) for row in conn.execute("SELECT * FROM api_keys ORDER BY id")]


def get_key_by_name(conn: sqlite3.Connection, name: str) -> ApiKey | None:
    """A key by name, case-insensitively."""
    row = conn.execute("SELECT * FROM api_keys WHERE name_key = ?", (lookup_key(name),)).fetchone()
    return _row(row) if row else None


def delete_key(conn: sqlite3.Connection, key_id: int) -> ApiKey:
    """Revoke a key."""
    with transaction(conn):
        row = conn.execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        if row is None:
            raise NotFound("API key not found")
        conn.execute("DELETE FROM api_keys WHERE id = ?", (key_id,))
    return _row(row)


def record_use(conn: sqlite3.Connection, used: dict[int, float]) -> None:
    """Store when keys were last used (batched: never on the request path)."""
    with transaction(conn):
        conn.executemany(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ?",
            [(stamp, key_id) for key_id, stamp in used.items()],
        )


class KeyDirectory:
    """Keys in memory, by prefix; a revoked key is gone from here at once."""

    def __init__(self) -> None:
        """Start empty; :meth:`reload` fills it."""
        self._by_prefix: dict[str, ApiKey] = {}
        self._used: dict[int, float] = {}

    def reload(self, conn: sqlite3.Connection) -> None:
        """Read every key (on the database thread)."""
        self._by_prefix = {key.prefix: key for key in list_keys(conn)}

    def add(self, key: ApiKey) -> None:
        """Mirror a new key."""
        self._by_prefix[key.prefix] = key

    def remove(self, key: ApiKey) -> None:
        """Mirror a revoked key."""
        self._by_prefix.pop(key.prefix, None)

    def authenticate(self, presented: str, now: float) -> ApiKey | None:
        """The key record for a presented key, or None."""
        match = KEY_PATTERN.fullmatch(presented.strip())
        if match is None:
            return None
        key = self._by_prefix.get(match.group(1))
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(match.group(2))):
            return None
        self._used[key.id] = now
        return key

    def take_usage(self) -> dict[int, float]:
        """Last-use times gathered since the previous call."""
        used, self._used = self._used, {}
        return used


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the only time its secret is known."""

    key: ApiKey
    secret: str

    def as_json(self) -> dict[str, Any]:
        """The creation answer, with the key shown once."""
        return {**self.key.as_json(), "key": self.secret}
