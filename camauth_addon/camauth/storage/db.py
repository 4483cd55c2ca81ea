"""SQLite storage: one connection, owned by one thread, with forward-only migrations.

Every statement of the service runs on a single worker thread, so requests never share a
connection across threads and writes are serialised without locks of our own. WAL mode lets
the ``camauth users`` shell command write while the service runs. The database holds password
hashes: its files are this user's only, whatever the mode of the directory they are in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Each entry moves the schema one version forward; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
            password_hash TEXT NOT NULL,
            password_generated INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            password_changed_at REAL NOT NULL
        )""",
        """CREATE TABLE sessions (
            sid TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            client TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX sessions_user ON sessions (user_id)",
        "CREATE INDEX sessions_expiry ON sessions (expires_at)",
    ),
    (
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp REAL NOT NULL,
            type TEXT NOT NULL,
            username TEXT,
            client TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX events_time ON events (timestamp)",
        "CREATE INDEX events_type ON events (type, timestamp)",
        "CREATE INDEX events_username ON events (username, id)",
        """CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
            prefix TEXT NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            paths TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            last_used_at REAL
        )""",
        "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    ),
    (
        # Roles are checked by the service now (custom roles arrive as data), so the users
        # and api_keys tables are rebuilt without their CHECK on the role.
        """CREATE TABLE users_v3 (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            password_generated INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            password_changed_at REAL NOT NULL,
            -- Bumped by a password change and by "revoke all sessions": a login that verified
            -- the password before such a change must not create a session after it.
            generation INTEGER NOT NULL DEFAULT 0
        )""",
        """INSERT INTO users_v3 (id, username, username_key, role, password_hash,
            password_generated, created_at, password_changed_at)
            SELECT id, username, username_key, role, password_hash, password_generated,
            created_at, password_changed_at FROM users""",
        "DROP TABLE users",
        "ALTER TABLE users_v3 RENAME TO users",
        """CREATE TABLE api_keys_v3 (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            prefix TEXT NOT NULL UNIQUE,
            secret_hash TEXT NOT NULL,
            paths TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            last_used_at REAL
        )""",
        "INSERT INTO api_keys_v3 SELECT * FROM api_keys",
        "DROP TABLE api_keys",
        "ALTER TABLE api_keys_v3 RENAME TO api_keys",
        # Which process wrote an event, so a running service streams the shell's events once.
        "ALTER TABLE events ADD COLUMN origin TEXT NOT NULL DEFAULT ''",
        "CREATE INDEX events_client ON events (client, id)",
        "ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE sessions ADD COLUMN last_seen REAL",
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        # Names this installation to Home Assistant (config entry unique id); never changes.
        "INSERT INTO meta (name, value) VALUES ('instance_id', lower(hex(randomblob(16))))",
    ),
    (
        """CREATE TABLE roles (
            name TEXT PRIMARY KEY,
            description TEXT NOT NULL DEFAULT '',
            rules TEXT NOT NULL DEFAULT '[]',
            presets TEXT NOT NULL DEFAULT '[]',
            cameras TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )""",
    ),
    (
        # Where a user's password is checked: here ('local') or by Home Assistant.
        "ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local'",
    ),
)

PRIVATE = 0o600
_SUFFIXES = ("", "-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Create the database file 0600 if missing, and take others' access from its files.

    Never opens an existing database file: closing any descriptor of it would drop the POSIX
    locks that SQLite holds on it for this process's other connections.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE))
    for suffix in _SUFFIXES:
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.chmod(PRIVATE)


def connect(path: Path) -> sqlite3.Connection:
    """Open the database, set the pragmas CamAuth relies on, and migrate it."""
    # SQLite gives -wal and -shm the mode of the database file, so 0600 here covers them.
    make_private(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        migrate(conn)
    except BaseException:
        conn.close()  # a refused database (a newer schema) leaves no connection open
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction that takes the lock up front, so checks and writes cannot interleave."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """The version the database is at (0 when new)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration the database has not seen yet; returns the new version."""
    # Off while tables are rebuilt (a no-op inside a transaction, so set before it), or
    # dropping the old users table would cascade to every session.
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        with transaction(conn):
            current = schema_version(conn)
            if current > len(MIGRATIONS):
                raise RuntimeError(
                    f"database schema {current} is newer than this CamAuth ({len(MIGRATIONS)})"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[version - 1]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise RuntimeError("database migration left a dangling reference")
    finally:
        conn.execute("PRAGMA foreign_keys=ON")
    return len(MIGRATIONS)


def instance_id(conn: sqlite3.Connection) -> str:
    """The permanent id of this installation."""
    return str(conn.execute("SELECT value FROM meta WHERE name = 'instance_id'").fetchone()[0])


def data_version(conn: sqlite3.Connection) -> int:
    """SQLite's counter of commits made by *other* connections (the shell command)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class Database:
    """The service's connection, used only from its own thread."""

    def __init__(self, path: Path) -> None:
        """Remember where the database lives; :meth:`open` connects."""
        self.path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="camauth-db")
        self._conn: sqlite3.Connection | None = None
        self._seen_version = -1  # read and written on the database thread only

    async def open(self) -> None:
        """Connect and migrate on the database thread."""
        loop = asyncio.get_running_loop()
        self._conn = await loop.run_in_executor(self._executor, connect, self.path)

    async def run(
        self,
        func: Callable[Concatenate[sqlite3.Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``func(conn, *args)`` on the database thread."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        call = partial(func, self._conn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def _changed(self, conn: sqlite3.Connection) -> bool:
        version = data_version(conn)
        changed, self._seen_version = version != self._seen_version, version
        return changed

    async def changed_elsewhere(self) -> bool:
        """Whether another process (the shell) committed since the last call."""
        return await self.run(self._changed)

    async def close(self) -> None:
        """Finish queued work, then close the connection."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)
