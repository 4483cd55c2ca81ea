"""The store: migrations, transactions and the database thread, on real files."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from camauth.storage import db as store
from camauth.storage import users as users_db
from tests import helpers


def test_a_failed_transaction_leaves_nothing(conn: sqlite3.Connection) -> None:
    def insert_twice() -> None:
        with store.transaction(conn):
            conn.execute("INSERT INTO counters (name, value) VALUES ('a', 1)")
            conn.execute("INSERT INTO counters (name, value) VALUES ('a', 2)")

    with pytest.raises(sqlite3.IntegrityError):
        insert_twice()
    assert conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 0


@pytest.mark.parametrize("start", ["missing", "empty-file"])
def test_migrations_from_nothing_reach_the_latest_schema(tmp_path: Path, start: str) -> None:
    path = tmp_path / "camauth.db"
    if start == "empty-file":
        path.write_bytes(b"")
    conn = store.connect(path)
    try:
        assert store.schema_version(conn) == len(store.MIGRATIONS)
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"users", "sessions", "events", "api_keys", "counters", "schema_version"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()


def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "camauth.db"
    conn = store.connect(path)
    helpers.add_user(conn, "alice", "admin", "h")
    assert store.migrate(conn) == len(store.MIGRATIONS)  # migrating again is a no-op
    conn.close()
    for _ in range(2):
        conn = store.connect(path)
        try:
            versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
            assert versions == list(range(1, len(store.MIGRATIONS) + 1))
            assert [u.username for u in users_db.list_users(conn)] == ["alice"]
        finally:
            conn.close()


def test_an_older_schema_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "camauth.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statement in store.MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute("INSERT INTO schema_version (version) VALUES (1)")
    raw.execute(
        "INSERT INTO users (username, username_key, role, password_hash, created_at,"
        " password_changed_at) VALUES ('old', 'old', 'admin', 'h', 0, 0)"
    )
    raw.close()
    conn = store.connect(path)
    try:
        assert store.schema_version(conn) == len(store.MIGRATIONS)
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
        assert users_db.get_user(conn, "old") is not None
    finally:
        conn.close()


def test_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "camauth.db"
    conn = store.connect(path)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (len(store.MIGRATIONS) + 1,))
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        store.connect(path)
    raw = sqlite3.connect(path)
    try:
        versions = [row[0] for row in raw.execute("SELECT version FROM schema_version")]
    finally:
        raw.close()
    assert versions == [*range(1, len(store.MIGRATIONS) + 1), len(store.MIGRATIONS) + 1]


def test_a_refused_database_is_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "camauth.db"
    conn = store.connect(path)
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (len(store.MIGRATIONS) + 1,))
    conn.close()
    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(real_connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(store.sqlite3, "connect", recording_connect)
    with pytest.raises(RuntimeError, match="newer"):
        store.connect(path)
    assert len(opened) == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        opened[0].execute("SELECT 1")


async def test_database_runs_on_its_thread_and_closes(tmp_path: Path) -> None:
    db = store.Database(tmp_path / "camauth.db")
    with pytest.raises(RuntimeError, match="not open"):
        await db.run(store.schema_version)
    await db.open()
    try:
        assert await db.run(store.schema_version) == len(store.MIGRATIONS)
        await db.run(helpers.add_user, "alice", "viewer", "h")
        assert await db.run(users_db.count_users) == 1
    finally:
        await db.close()
    with pytest.raises(RuntimeError, match="not open"):
        await db.run(store.schema_version)
