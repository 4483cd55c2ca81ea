"""``camauth users`` as real processes, on its own and beside a running ``camauth serve``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession

from camauth.core.passwords import hash_password, hash_rounds, verify_password
from camauth.storage.db import connect
from camauth.storage.users import User, get_user, list_users
from tests import helpers
from tests.machine.helpers import WAIT, events_until

from .test_serve_process import Served, call, clean_env, run_camauth, serving

ALICE = "meadow copper falcon 9"
ALICE_NEW = "orchard lantern quill 5"
BOB = "harbor willow pebble 2"
POLL_TIMEOUT = 5.0


def wide(text: str) -> str:
    """The full-width form of ASCII text, as an East Asian keyboard types it."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def users(
    data: Path | None,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    create: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``camauth users --data-dir <data> <args>`` to completion (bounded).

    The database is created first (as a first ``camauth serve`` would) unless ``create`` is off.
    """
    if create and data is not None:
        create_database(data)
    command = [sys.executable, "-m", "camauth", "users"]
    if data is not None:
        command += ["--data-dir", str(data)]
    return subprocess.run(
        [*command, *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env if env is not None else clean_env(),
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def failed(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 1 with a one-line message on stderr containing ``fragments``."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def stored(data: Path, name: str) -> User | None:
    """A user as stored in the database file."""
    conn = connect(data / "camauth.db")
    try:
        return get_user(conn, name)
    finally:
        conn.close()


def user_count(data: Path) -> int:
    conn = connect(data / "camauth.db")
    try:
        return len(list_users(conn))
    finally:
        conn.close()


def create_database(data: Path) -> None:
    """An empty CamAuth database, as a first ``camauth serve`` leaves it."""
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    connect(data / "camauth.db").close()


def add_alice(data: Path, role: str = "admin") -> None:
    """Add alice with the CLI itself."""
    ok(users(data, "add", "alice", "--role", role, "--password-stdin", stdin=ALICE + "\n"))


def seed_alice(data: Path, role: str = "admin") -> None:
    """Store alice straight in the database (fast: a test-cost hash, no process)."""
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    conn = connect(data / "camauth.db")
    try:
        helpers.add_user(conn, "alice", role, hash_password(ALICE, rounds=helpers.TEST_ROUNDS))
    finally:
        conn.close()


# The commands on their own


def test_add_list_passwd_role_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert "Added alice (admin)" in ok(
        users(data, "add", "alice", "--role", "admin", "--password-stdin", stdin=ALICE + "\n")
    )
    assert ok(users(data, "list")) == "alice\tadmin\n"
    alice = stored(data, "alice")
    assert alice is not None
    assert verify_password(ALICE, alice.password_hash)
    assert hash_rounds(alice.password_hash) == 12  # the real cost, outside the test process
    assert not alice.password_generated

    ok(users(data, "passwd", "alice", "--password-stdin", stdin=ALICE_NEW + "\n"))
    alice = stored(data, "ALICE")
    assert alice is not None
    assert verify_password(ALICE_NEW, alice.password_hash)
    assert not verify_password(ALICE, alice.password_hash)

    failed(users(data, "role", "alice", "viewer"), "last admin")
    assert ok(users(data, "list")) == "alice\tadmin\n"
    ok(users(data, "add", "bob", "--role", "admin", "--password-stdin", stdin=BOB + "\n"))
    assert "alice is now viewer" in ok(users(data, "role", "alice", "viewer"))
    assert ok(users(data, "list")) == "alice\tviewer\nbob\tadmin\n"
    failed(users(data, "delete", "bob"), "last admin")

    assert "Deleted alice" in ok(users(data, "delete", "alice"))
    assert ok(users(data, "list")) == "bob\tadmin\n"
    assert stored(data, "alice") is None


def test_password_from_stdin_keeps_inner_and_outer_spaces(tmp_path: Path) -> None:
    data = tmp_path / "data"
    spaced = "  meadow  copper falcon 9 "
    ok(users(data, "add", "alice", "--password-stdin", stdin=spaced + "\r\n"))
    alice = stored(data, "alice")
    assert alice is not None
    assert alice.role == "viewer"  # the default role
    assert verify_password(spaced, alice.password_hash)


@pytest.mark.parametrize("action", ["add", "passwd"])
def test_generate_prints_the_password_once_and_it_verifies(tmp_path: Path, action: str) -> None:
    data = tmp_path / "data"
    if action == "passwd":
        seed_alice(data)
    result = users(data, action, "alice", "--generate")
    out = ok(result)
    found = re.findall(r"Generated password for alice: (\S+)", out)
    assert len(found) == 1, out
    password = found[0]
    assert len(password) >= 16
    assert out.count(password) == 1
    assert password not in result.stderr
    alice = stored(data, "alice")
    assert alice is not None
    assert alice.password_generated
    assert verify_password(password, alice.password_hash)
    assert not verify_password(ALICE, alice.password_hash)


WEAK = [
    ("short", "fresh pear", "at least 12"),
    ("common", "leavemealone", "too common"),
    ("common-with-digits", "football123456", "too common"),
    ("repeated", "aaaaaaaaaaaaaaaa", "too common"),
    ("username", "my name is alice ok", "username"),
    ("empty", "", "at least 12"),
]


@pytest.mark.parametrize(
    ("password", "message"), [pytest.param(*case[1:], id=case[0]) for case in WEAK]
)
def test_weak_password_is_refused_and_nothing_is_stored(
    tmp_path: Path, password: str, message: str
) -> None:
    data = tmp_path / "data"
    failed(users(data, "add", "alice", "--password-stdin", stdin=password + "\n"), message)
    assert user_count(data) == 0
    seed_alice(data)
    before = stored(data, "alice")
    failed(users(data, "passwd", "alice", "--password-stdin", stdin=password + "\n"), message)
    assert stored(data, "alice") == before


@pytest.mark.parametrize("name", ["alice", "ALICE", "Alice"])
def test_duplicate_user_is_refused(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    seed_alice(data)
    before = stored(data, "alice")
    failed(
        users(data, "add", name, "--role", "viewer", "--password-stdin", stdin=BOB + "\n"),
        "already exists",
    )
    assert stored(data, "alice") == before
    assert user_count(data) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("passwd", "ghost", "--password-stdin"),
        ("passwd", "ghost", "--generate"),
        ("role", "ghost", "admin"),
        ("delete", "ghost"),
    ],
    ids=["passwd", "passwd-generate", "role", "delete"],
)
def test_unknown_user_is_an_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    data = tmp_path / "data"
    seed_alice(data)
    before = stored(data, "alice")
    result = users(data, *args, stdin=BOB + "\n")
    failed(result, "not found")
    assert "Generated password" not in result.stdout
    assert stored(data, "alice") == before
    assert user_count(data) == 1


@pytest.mark.parametrize("action", ["add", "passwd"])
def test_no_terminal_and_no_flag_gives_a_hint(tmp_path: Path, action: str) -> None:
    data = tmp_path / "data"
    if action == "passwd":
        seed_alice(data)
    before = stored(data, "alice") if action == "passwd" else None
    failed(users(data, action, "alice"), "--password-stdin", "--generate")
    assert stored(data, "alice") == before


@pytest.mark.parametrize("name", ["bad name", "a/b", "x" * 65, wide("alice")])
def test_invalid_username_is_refused(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    failed(users(data, "add", name, "--password-stdin", stdin=BOB + "\n"), "username")
    assert user_count(data) == 0


def test_user_changes_from_the_shell_are_in_the_audit_log(tmp_path: Path) -> None:
    # `camauth keys` records api_key_created/api_key_revoked; user changes are no less
    # security-relevant (PRODUCT.md: user_created, password_reset, role_changed, user_deleted).
    data = tmp_path / "data"
    add_alice(data)
    ok(users(data, "add", "bob", "--role", "admin", "--password-stdin", stdin=BOB + "\n"))
    ok(users(data, "passwd", "alice", "--password-stdin", stdin=ALICE_NEW + "\n"))
    ok(users(data, "role", "alice", "viewer"))
    ok(users(data, "delete", "alice"))
    conn = connect(data / "camauth.db")
    try:
        rows = conn.execute("SELECT type, username FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    alice = [row["type"] for row in rows if row["username"] == "alice"]
    assert alice in (
        ["user_created", "password_reset", "role_changed", "user_deleted"],
        ["user_created", "password_changed", "role_changed", "user_deleted"],
    ), [tuple(row) for row in rows]
    assert [row["type"] for row in rows if row["username"] == "bob"] == ["user_created"]
    assert not [row for row in rows if ALICE_NEW in str(tuple(row))]


def test_users_honours_camauth_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    create_database(data)
    env = clean_env(CAMAUTH_DATA_DIR=str(data))
    ok(users(None, "add", "alice", "--password-stdin", stdin=ALICE + "\n", env=env))
    assert ok(users(None, "list", env=env)) == "alice\tviewer\n"
    assert stored(data, "alice") is not None


def test_data_dir_is_accepted_after_the_action(tmp_path: Path) -> None:
    """``camauth users <action> ... --data-dir X``: the option after the action, every action."""
    data = tmp_path / "data"
    create_database(data)
    decoy = tmp_path / "decoy"  # where the command would go if it ignored --data-dir
    decoy.mkdir()
    env = clean_env(CAMAUTH_DATA_DIR=str(decoy))

    def run(*args: str) -> str:
        return ok(run_camauth("users", *args, "--data-dir", str(data), env=env))

    assert run("list") == ""
    assert "Added alice (viewer)" in run("add", "alice", "--generate")
    assert "Password of alice changed" in run("passwd", "alice", "--generate")
    assert "alice is now admin" in run("role", "alice", "admin")
    assert "Added bob (admin)" in run("add", "bob", "--role", "admin", "--generate")
    assert "Deleted alice" in run("delete", "alice")
    assert run("list") == "bob\tadmin\n"
    assert list(decoy.iterdir()) == []


@pytest.mark.parametrize("exists", [True, False], ids=["empty-directory", "no-directory"])
@pytest.mark.parametrize(
    "args",
    [("list",), ("add", "alice", "--generate"), ("role", "alice", "admin")],
    ids=["list", "add", "role"],
)
def test_a_directory_without_a_database_is_an_error_and_stays_untouched(
    tmp_path: Path, exists: bool, args: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    if exists:
        data.mkdir()
    for argv in (["--data-dir", str(data), *args], [*args, "--data-dir", str(data)]):
        result = run_camauth("users", *argv)
        failed(result, "no CamAuth database", str(data))
        assert result.stdout == ""
        assert "Generated password" not in result.stderr
    if exists:
        assert list(data.iterdir()) == []
    else:
        assert not data.exists()


# Beside a running service


def eventually(check: Callable[[], bool]) -> bool:
    """Poll every 0.1 s, for at most POLL_TIMEOUT, until ``check()`` holds."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


@contextmanager
def running_with_alice(tmp_path: Path, role: str = "viewer") -> Iterator[tuple[Path, Served, str]]:
    """A running service; alice, added by the CLI while it runs, is logged in."""
    data = tmp_path / "data"
    with serving(tmp_path, data) as served:
        add_alice(data, role)
        token = served.token("alice", ALICE)
        answer = served.forward_auth(token)
        assert answer.status == 200
        assert answer.headers["Remote-User"] == "alice"
        assert answer.headers["Remote-Role"] == role
        yield data, served, token


def test_running_service_sees_passwd(tmp_path: Path) -> None:
    with running_with_alice(tmp_path) as (data, served, token):
        ok(users(data, "passwd", "alice", "--password-stdin", stdin=ALICE_NEW + "\n"))
        assert eventually(lambda: served.forward_auth(token).status == 401)
        assert served.login("alice", ALICE_NEW).status == 200
        assert served.login("alice", ALICE).status in (401, 429)


def test_running_service_sees_delete(tmp_path: Path) -> None:
    with running_with_alice(tmp_path) as (data, served, token):
        cookie = {"Cookie": f"camauth_token={token}"}
        ok(users(data, "delete", "alice"))
        assert eventually(lambda: served.forward_auth(token).status == 401)
        assert call(served.url("/api/profile"), headers=cookie).status == 401
        assert served.login("alice", ALICE).status in (401, 429)


@pytest.mark.parametrize(("before", "after"), [("viewer", "admin"), ("admin", "viewer")])
def test_running_service_sees_role(tmp_path: Path, before: str, after: str) -> None:
    with running_with_alice(tmp_path, before) as (data, served, token):
        bearer = {"Authorization": f"Bearer {token}"}
        admin_only = call(served.url("/api/users"), headers=bearer).status
        assert admin_only == (200 if before == "admin" else 403)
        ok(users(data, "role", "alice", after))
        assert eventually(lambda: served.forward_auth(token).headers.get("Remote-Role") == after)
        answer = served.forward_auth(token)
        assert answer.status == 200
        assert answer.headers["Remote-User"] == "alice"
        admin_only = call(served.url("/api/users"), headers=bearer).status
        assert admin_only == (200 if after == "admin" else 403)


async def test_shell_changes_reach_the_running_services_event_stream(tmp_path: Path) -> None:
    """Each ``camauth users`` change is streamed on ``/api/ws`` once, and logged once."""
    data = tmp_path / "data"
    with serving(tmp_path, data) as served:
        admin = {"Authorization": f"Bearer {served.token('admin', served.banner_password())}"}
        async with ClientSession() as session:
            ws = await session.ws_connect(served.url("/api/ws"), headers=admin)
            assert (await ws.receive_json(timeout=WAIT))["type"] == "hello"
            steps = [
                (("add", "alice", "--role", "admin", "--password-stdin"), "user_created"),
                (("passwd", "alice", "--password-stdin"), "password_reset"),
                (("role", "alice", "viewer"), "role_changed"),
                (("delete", "alice"), "user_deleted"),
            ]
            streamed = []
            for args, kind in steps:
                ok(users(data, *args, stdin=ALICE + "\n", create=False))
                # The service notices within a second (bounded by WAIT per message).
                before = await events_until(ws, kind)
                assert before == [], (kind, before)
                streamed.append(kind)
            await ws.close()
        logged = call(served.url("/api/events?username=alice"), headers=admin).json()
        assert served.stop() == 0
    assert streamed == [kind for _, kind in steps]
    assert [event["type"] for event in reversed(logged)] == streamed  # stored once, not twice
    assert all(event["detail"]["source"] == "shell" for event in logged), logged
