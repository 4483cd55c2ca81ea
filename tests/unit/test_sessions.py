"""The session directory (camauth.core.sessions): in memory, and mirroring the database."""

from __future__ import annotations

from pathlib import Path

from camauth.core.sessions import SessionDirectory
from camauth.options import AuthSettings
from camauth.storage import db as store
from camauth.storage.sessions import Principal, Session
from tests import helpers
from tests.helpers import open_test_services

SECRET = "k" * 40


def test_session_directory_expiry_and_removal() -> None:
    directory = SessionDirectory(lambda: None)
    directory.add_session(Session("s1", 1, expires_at=100.0), Principal(1, "alice", "viewer"), [])
    assert directory.lookup("s1", 99.0) == Principal(1, "alice", "viewer")
    assert directory.lookup("s1", 100.0) is None
    directory.extend_session("s1", 200.0)
    assert directory.lookup("s1", 150.0) is not None
    directory.remove_user_sessions(1)
    assert directory.lookup("s1", 150.0) is None
    assert directory.has_username("alice")
    assert not directory.has_username("bob")


async def test_the_mirror_follows_the_database_and_other_processes(tmp_path: Path) -> None:
    services = await open_test_services(tmp_path, AuthSettings(), SECRET)
    shell = store.connect(tmp_path / "camauth.db")  # another process, like `camauth users`
    directory = services.sessions.directory
    try:
        alice = helpers.add_user(shell, "alice", "viewer", "h")
        helpers.add_session(shell, "live", alice, 2000.0)
        helpers.add_session(shell, "old", alice, 500.0)
        assert directory.lookup("live", 1000.0) is None  # not yet seen
        await services.sync()
        assert directory.lookup("live", 1000.0) == Principal(alice.id, "alice", "viewer")
        assert directory.lookup("old", 1000.0) is None  # expired
        assert directory.lookup("live", 2000.0) is None  # expiry is exclusive
        assert directory.lookup("nope", 1000.0) is None
        assert directory.active_sessions(1000.0) == 1
        assert directory.has_username("alice")

        helpers.set_role(shell, "alice", "admin")
        await services.sync()
        assert directory.lookup("live", 1000.0) == Principal(alice.id, "alice", "admin")

        shell.execute("DELETE FROM sessions WHERE sid = 'live'")
        await services.sync()
        assert directory.lookup("live", 1000.0) is None

        helpers.add_user(shell, "root", "admin", "h")
        helpers.delete_user(shell, "alice")
        await services.sync()
        assert not directory.has_username("alice")
        assert directory.has_username("root")
    finally:
        shell.close()
        await services.close()


def test_session_directory_in_memory_changes() -> None:
    revoked: list[None] = []
    directory = SessionDirectory(lambda: revoked.append(None))
    alice, bob = Principal(1, "alice", "viewer"), Principal(2, "bob", "admin")
    directory.add_session(Session("a1", 1, 100.0), alice, [])
    directory.add_session(Session("a2", 1, 100.0), alice, [])
    directory.add_session(Session("b1", 2, 100.0), bob, [])
    assert directory.active_sessions(50.0) == 3
    assert not revoked  # adding takes nothing away: no re-check
    directory.remove_sessions(["a1", "unknown"])
    assert revoked
    assert directory.lookup("a1", 50.0) is None
    assert directory.lookup("a2", 50.0) is not None
    directory.extend_session("unknown", 500.0)  # no effect, no error
    directory.set_principal(Principal(1, "alice", "admin"))
    assert directory.lookup("a2", 50.0) == Principal(1, "alice", "admin")
    directory.remove_principal(1)
    assert directory.lookup("a2", 50.0) is None
    assert directory.lookup("b1", 50.0) == Principal(2, "bob", "admin")
    assert directory.active_sessions(50.0) == 1
    assert directory.active_sessions(100.0) == 0
