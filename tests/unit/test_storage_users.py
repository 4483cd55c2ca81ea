"""The users table (camauth.storage.users): case-insensitive names, roles, the last admin."""

from __future__ import annotations

import json
import sqlite3

import pytest

from camauth.errors import Conflict, NotFound
from camauth.storage import users as users_db
from tests import helpers
from tests.helpers import wide


def test_create_and_get_case_insensitively(conn: sqlite3.Connection) -> None:
    created = helpers.add_user(conn, "Alice", "viewer", "hash-a")
    assert created.username == "Alice"
    assert created.role == "viewer"
    assert created.password_hash == "hash-a"
    assert not created.password_generated
    for spelling in ("Alice", "alice", "ALICE", " alice ", wide("alice")):
        found = users_db.get_user(conn, spelling)
        assert found == created, spelling
    assert users_db.get_user(conn, "bob") is None
    assert users_db.count_users(conn) == 1
    assert "hash" not in json.dumps(created.as_json())


@pytest.mark.parametrize("name", ["alice", "ALICE", "Alice", "aLiCe"])
def test_duplicate_user_is_a_conflict(conn: sqlite3.Connection, name: str) -> None:
    helpers.add_user(conn, "alice", "admin", "h1")
    with pytest.raises(Conflict, match="already exists"):
        helpers.add_user(conn, name, "viewer", "h2")
    assert [(u.username, u.role, u.password_hash) for u in users_db.list_users(conn)] == [
        ("alice", "admin", "h1")
    ]


def test_set_role_and_delete(conn: sqlite3.Connection) -> None:
    helpers.add_user(conn, "root", "admin", "h")
    helpers.add_user(conn, "alice", "viewer", "h")
    assert helpers.set_role(conn, "ALICE", "admin").role == "admin"
    assert users_db.get_user(conn, "alice").role == "admin"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        helpers.set_role(conn, "ghost", "viewer")
    with pytest.raises(NotFound):
        helpers.delete_user(conn, "ghost")
    assert helpers.delete_user(conn, "Alice").username == "alice"
    assert users_db.get_user(conn, "alice") is None
    assert [u.username for u in users_db.list_users(conn)] == ["root"]


def test_the_last_admin_stays(conn: sqlite3.Connection) -> None:
    helpers.add_user(conn, "root", "admin", "h")
    helpers.add_user(conn, "viewer", "viewer", "h")
    with pytest.raises(Conflict, match="last admin"):
        helpers.set_role(conn, "root", "viewer")
    with pytest.raises(Conflict, match="last admin"):
        helpers.delete_user(conn, "root")
    assert helpers.set_role(conn, "root", "admin").role == "admin"  # not a change: fine
    helpers.delete_user(conn, "viewer")  # deleting a viewer is fine
    helpers.add_user(conn, "second", "admin", "h")
    assert helpers.set_role(conn, "root", "viewer").role == "viewer"
    with pytest.raises(Conflict, match="last admin"):
        helpers.delete_user(conn, "second")
    with pytest.raises(Conflict, match="last admin"):
        helpers.set_role(conn, "SECOND", "viewer")
    assert [(u.username, u.role) for u in users_db.list_users(conn)] == [
        ("root", "viewer"),
        ("second", "admin"),
    ]


def test_password_change_and_deletion_end_that_users_sessions(conn: sqlite3.Connection) -> None:
    alice = helpers.add_user(conn, "alice", "admin", "h")
    bob = helpers.add_user(conn, "bob", "admin", "h")
    helpers.add_session(conn, "a1", alice, 2e9)
    helpers.add_session(conn, "a2", alice, 2e9)
    helpers.add_session(conn, "b1", bob, 2e9)
    changed = helpers.set_password(conn, "ALICE", "new-hash", generated=True)
    assert changed.password_hash == "new-hash"
    assert changed.password_generated
    sids = [row[0] for row in conn.execute("SELECT sid FROM sessions ORDER BY sid")]
    assert sids == ["b1"]
    helpers.add_session(conn, "a3", changed, 2e9)
    helpers.delete_user(conn, "alice")
    assert [row[0] for row in conn.execute("SELECT sid FROM sessions")] == ["b1"]
    with pytest.raises(NotFound):
        helpers.set_password(conn, "alice", "x")
