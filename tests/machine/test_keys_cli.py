"""``camauth keys`` from the shell, as real subprocesses on a real database."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from camauth.const import DATABASE_FILE
from camauth.core.api_keys import KeyDirectory
from camauth.core.live import LiveConnections
from camauth.storage.api_keys import list_keys
from camauth.storage.db import connect
from tests.service.conftest import ServiceFactory
from tests.service.test_serve_process import clean_env, run_camauth
from tests.service.test_users_cli import failed

from .helpers import KEY_RE, call, poll_until


def command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "camauth", "keys", "--data-dir", str(data_dir), *args]


ENV = {k: v for k, v in os.environ.items() if k != "CAMAUTH_DATA_DIR"}


def keys(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m camauth keys --data-dir DIR ARGS...`` (on a database made first)."""
    connect(data_dir / DATABASE_FILE).close()
    return subprocess.run(
        command(data_dir, *args), capture_output=True, text=True, timeout=60, env=ENV, check=False
    )


def added_key(result: subprocess.CompletedProcess[str]) -> str:
    """The one key an ``add`` printed."""
    assert result.returncode == 0, result.stderr
    found = re.findall(KEY_RE, result.stdout)
    assert len(found) == 1, result.stdout
    return found[0]


def directory(data_dir: Path) -> KeyDirectory:
    """The keys as a service would load them from the database."""
    conn = connect(data_dir / DATABASE_FILE)
    try:
        loaded = KeyDirectory(LiveConnections())
        loaded.load(list_keys(conn))
    finally:
        conn.close()
    return loaded


def stored_events(data_dir: Path) -> list[tuple[str, str | None, dict[str, object]]]:
    conn = sqlite3.connect(data_dir / DATABASE_FILE)
    try:
        rows = conn.execute("SELECT type, username, detail FROM events ORDER BY id").fetchall()
    finally:
        conn.close()
    return [(kind, user, json.loads(detail)) for kind, user, detail in rows]


def test_add_prints_the_key_once_and_it_verifies(tmp_path: Path) -> None:
    result = keys(tmp_path, "add", "frigate", "--role", "admin", "--path", "/a/", "--path", "/b")
    key = added_key(result)
    assert result.stdout.count(key) == 1
    found = directory(tmp_path).authenticate(key, time.time())
    assert found is not None
    assert (found.name, found.role, found.paths) == ("frigate", "admin", ("/a/", "/b"))
    prefix, secret = key.split("_")[1], key.split("_", 2)[2]
    wrong = f"camauth_{prefix}_{'A' * 43}" if secret != "A" * 43 else f"camauth_{prefix}_{'B' * 43}"
    assert directory(tmp_path).authenticate(wrong, time.time()) is None

    viewer = added_key(keys(tmp_path, "add", "scripts"))
    found = directory(tmp_path).authenticate(viewer, time.time())
    assert found is not None
    assert (found.name, found.role, found.paths) == ("scripts", "viewer", ())


def test_list_never_shows_a_secret(tmp_path: Path) -> None:
    first = added_key(keys(tmp_path, "add", "frigate"))
    second = added_key(keys(tmp_path, "add", "mediamtx", "--path", "/triggers/"))
    listed = keys(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[:4] == ["1", "frigate", "viewer", "-"]
    assert lines[1].split("\t")[:4] == ["2", "mediamtx", "viewer", "/triggers/"]
    for key in (first, second):
        assert key not in listed.stdout
        assert key.split("_", 2)[2] not in listed.stdout
    assert re.search(KEY_RE, listed.stdout) is None


def test_revoke_by_id_and_by_name(tmp_path: Path) -> None:
    first = added_key(keys(tmp_path, "add", "frigate"))
    second = added_key(keys(tmp_path, "add", "MediaMTX"))
    third = added_key(keys(tmp_path, "add", "go2rtc"))
    assert keys(tmp_path, "revoke", "1").returncode == 0
    assert keys(tmp_path, "revoke", "mediamtx").returncode == 0  # names ignore case
    loaded = directory(tmp_path)
    assert loaded.authenticate(first, time.time()) is None
    assert loaded.authenticate(second, time.time()) is None
    assert loaded.authenticate(third, time.time()) is not None
    assert keys(tmp_path, "list").stdout.splitlines()[0].split("\t")[1] == "go2rtc"
    for ref in ("1", "nope"):
        missing = keys(tmp_path, "revoke", ref)
        assert missing.returncode == 1, ref
        assert "not found" in missing.stderr, ref


def test_bad_input_exits_1_and_stores_nothing(tmp_path: Path) -> None:
    for args in (
        ("add", "hook", "--path", "/a/../b"),
        ("add", "hook", "--path", "//x"),
        ("add", "hook", "--path", "../x"),
        ("add", "hook", *[arg for n in range(17) for arg in ("--path", f"/p{n}/")]),
        ("add", "bad/name"),
    ):
        result = keys(tmp_path, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("camauth: "), result.stderr
        assert re.search(KEY_RE, result.stdout) is None
    unknown_role = keys(tmp_path, "add", "hook", "--role", "root")
    assert unknown_role.returncode == 1  # no such role
    assert "Role must be one of: admin, viewer" in unknown_role.stderr
    malformed_role = keys(tmp_path, "add", "hook", "--role", "Root Role")
    assert malformed_role.returncode == 2  # argparse refuses the form
    assert re.search(KEY_RE, unknown_role.stdout) is None
    assert keys(tmp_path, "list").stdout.startswith("No API keys.")
    added_key(keys(tmp_path, "add", "hook"))
    duplicate = keys(tmp_path, "add", "HOOK")
    assert duplicate.returncode == 1
    assert len(keys(tmp_path, "list").stdout.splitlines()) == 1
    assert [kind for kind, _, _ in stored_events(tmp_path)] == ["api_key_created"]


def test_the_events_land_in_the_events_table(tmp_path: Path) -> None:
    key = added_key(keys(tmp_path, "add", "frigate", "--path", "/triggers/"))
    assert keys(tmp_path, "revoke", "frigate").returncode == 0
    events = stored_events(tmp_path)
    assert [(kind, user) for kind, user, _ in events] == [
        ("api_key_created", "shell"),
        ("api_key_revoked", "shell"),
    ]
    created, revoked = events[0][2], events[1][2]
    assert created == {
        "key_id": 1,
        "name": "frigate",
        "role": "viewer",
        "paths": ["/triggers/"],
        "source": "shell",
    }
    assert revoked == {"key_id": 1, "name": "frigate", "source": "shell"}
    assert key.split("_", 2)[2] not in json.dumps(events)


async def test_a_running_service_sees_shell_changes(
    start_service: ServiceFactory, tmp_path: Path
) -> None:
    service = await start_service(data_dir=tmp_path)
    key = added_key(keys(tmp_path, "add", "shell-made", "--role", "admin"))
    headers = {"X-API-Key": key}

    async def profile_status() -> int:
        async with service.client.get(service.url("/api/profile"), headers=headers) as response:
            return response.status

    # The service re-reads keys when another process wrote the database (every second).
    assert await poll_until(profile_status, 200) == 200
    events = await call(service, "GET", "/api/events?type=api_key_created", 200, headers=headers)
    assert [(e["username"], e["detail"]["name"]) for e in events] == [("shell", "shell-made")]
    assert keys(tmp_path, "revoke", "shell-made").returncode == 0
    assert await poll_until(profile_status, 401) == 401


def test_data_dir_is_accepted_after_the_action(tmp_path: Path) -> None:
    """``camauth keys <action> ... --data-dir X`` for every action."""
    data = tmp_path / "data"
    data.mkdir()
    connect(data / DATABASE_FILE).close()
    decoy = tmp_path / "decoy"  # where the command would go if it ignored --data-dir
    decoy.mkdir()
    env = clean_env(CAMAUTH_DATA_DIR=str(decoy))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = run_camauth("keys", *args, "--data-dir", str(data), env=env)
        assert result.returncode == 0, result.stderr
        return result

    assert run("list").stdout.startswith("No API keys.")
    key = added_key(run("add", "frigate", "--role", "admin"))
    assert run("list").stdout.split("\t")[:3] == ["1", "frigate", "admin"]
    assert "Revoked API key frigate" in run("revoke", "frigate").stdout
    assert directory(data).authenticate(key, time.time()) is None
    assert list(decoy.iterdir()) == []


@pytest.mark.parametrize("exists", [True, False], ids=["empty-directory", "no-directory"])
@pytest.mark.parametrize("args", [("list",), ("add", "frigate")], ids=["list", "add"])
def test_a_directory_without_a_database_is_an_error_and_stays_untouched(
    tmp_path: Path, exists: bool, args: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    if exists:
        data.mkdir()
    for argv in (["--data-dir", str(data), *args], [*args, "--data-dir", str(data)]):
        result = run_camauth("keys", *argv)
        failed(result, "no CamAuth database", str(data))
        assert result.stdout == ""
        assert re.search(KEY_RE, result.stderr) is None
    if exists:
        assert list(data.iterdir()) == []
    else:
        assert not data.exists()
