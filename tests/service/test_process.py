"""The real ``camauth`` command: first start, restarts, bad options, signals, the users CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import free_port

BANNER_PASSWORD = re.compile(r"Password:\s+(\S+)")


@dataclass
class Process:
    """A running ``camauth serve``."""

    popen: subprocess.Popen[str]
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        """Stop it; the exit status and everything it wrote to stderr."""
        self.popen.send_signal(sig)
        try:
            _, err = self.popen.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            _, err = self.popen.communicate()
        return self.popen.returncode, err


def camauth(
    *args: str, data_dir: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a ``camauth`` sub-command to completion."""
    command = [sys.executable, "-m", "camauth", args[0], "--data-dir", str(data_dir), *args[1:]]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def _wait_healthy(process: Process) -> None:
    for _ in range(200):
        if process.popen.poll() is not None:
            raise AssertionError(f"camauth exited: {process.popen.communicate()[1]}")
        try:
            with urllib.request.urlopen(process.url("/api/health"), timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("camauth did not become healthy")


@pytest.fixture
def serve() -> Iterator[list[Process]]:
    """Start ``camauth serve`` on a data dir; every process is stopped afterwards."""
    started: list[Process] = []
    yield started
    for process in started:
        if process.popen.poll() is None:
            process.stop(signal.SIGKILL)


def start(started: list[Process], data_dir: Path, *extra: str) -> Process:
    port = free_port()
    command = [sys.executable, "-m", "camauth", "serve", "--data-dir", str(data_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port), *extra]
    popen = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    process = Process(popen, port)
    started.append(process)
    _wait_healthy(process)
    return process


def post_json(
    url: str, body: dict[str, str], token: str | None = None
) -> tuple[int, dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def forward_auth(process: Process, token: str) -> tuple[int, str | None]:
    request = urllib.request.Request(
        process.url("/api/auth"), headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers.get("Remote-Role")
    except urllib.error.HTTPError as err:
        return err.code, None


def test_first_start_shows_the_password_once_and_it_logs_in(
    tmp_path: Path, serve: list[Process]
) -> None:
    data = tmp_path / "data"
    process = start(serve, data)
    status, body = post_json(process.url("/api/login"), {"username": "admin", "password": "x"})
    assert status == 401
    code, err = process.stop()
    assert code == 0
    password = BANNER_PASSWORD.search(err)
    assert password is not None, err
    assert len(password.group(1)) >= 16
    assert f"http://127.0.0.1:{process.port}/login" in err
    assert err.count(password.group(1)) == 1

    again = start(serve, data)
    status, body = post_json(
        again.url("/api/login"), {"username": "admin", "password": password.group(1)}
    )
    assert status == 200
    assert forward_auth(again, body["token"]) == (200, "admin")
    code, err = again.stop(signal.SIGINT)
    assert code == 0
    assert "Password:" not in err  # no banner on later starts
    assert body["token"] not in err
    assert password.group(1) not in err
    assert "Stopping" in err
    assert stat.S_IMODE((data / ".jwt_secret").stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{128}\n", (data / ".jwt_secret").read_text())
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_reset_admin_password_on_every_start(tmp_path: Path, serve: list[Process]) -> None:
    data = tmp_path / "data"
    first = start(serve, data)
    _, err = first.stop()
    old = BANNER_PASSWORD.search(err)
    assert old is not None
    (data / "options.json").write_text(json.dumps({"auth": {"reset_admin_password": True}}))
    passwords = []
    for _ in range(2):
        process = start(serve, data)
        _, err = process.stop()
        assert "RESET" in err
        found = BANNER_PASSWORD.search(err)
        assert found is not None
        passwords.append(found.group(1))
    assert len({old.group(1), *passwords}) == 3
    (data / "options.json").write_text("{}")
    process = start(serve, data)
    latest = {"username": "admin", "password": passwords[-1]}
    assert post_json(process.url("/api/login"), latest)[0] == 200
    stale = {"username": "admin", "password": old.group(1)}
    assert post_json(process.url("/api/login"), stale)[0] == 401


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({"auth": {"bogus": 1}}, "auth.bogus"),
        ({"auth": {"session_length": "x"}}, "auth.session_length"),
        ({"auth": {"session_length": 5}}, "auth.session_length"),
        ({"auth": {"refresh_time": 90000}}, "auth.refresh_time"),
        ({"log_level": "loud"}, "log_level"),
        ({"auth": {"trusted_proxies": ["not-an-ip"]}}, "auth.trusted_proxies"),
        ({"auth": {"failed_login_rate_limit": "lots"}}, "auth.failed_login_rate_limit"),
        (
            {"auth": {"failed_login_user_rate_limit": "1/second"}},
            "auth.failed_login_user_rate_limit",
        ),
        ({"jwt_secret": "short"}, "JWT secret"),
        ([1, 2], "top level"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_options_stop_with_one_line_and_write_nothing(
    tmp_path: Path, options: object, names: str
) -> None:
    options_file = tmp_path / "options.json"
    options_file.write_text(options if isinstance(options, str) else json.dumps(options))
    data = tmp_path / "data"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "camauth",
            "serve",
            "--data-dir",
            str(data),
            "--options",
            str(options_file),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert names in lines[0]
    assert not data.exists()


def test_missing_options_file_is_a_config_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "camauth",
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--options",
            str(tmp_path / "nope.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "not found" in result.stderr


def test_users_cli_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = camauth(
        "users",
        "add",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        data_dir=data,
        stdin="meadow copper falcon 9\n",
    )
    assert added.returncode == 0, added.stderr
    assert camauth("users", "list", data_dir=data).stdout == "alice\tadmin\n"
    weak = camauth("users", "add", "bob", "--password-stdin", data_dir=data, stdin="short\n")
    assert weak.returncode == 1
    assert "at least 12" in weak.stderr
    assert camauth("users", "list", data_dir=data).stdout == "alice\tadmin\n"
    last_admin = camauth("users", "role", "alice", "viewer", data_dir=data)
    assert last_admin.returncode == 1
    assert "last admin" in last_admin.stderr
    generated = camauth("users", "add", "carol", "--generate", data_dir=data)
    assert generated.returncode == 0
    assert re.search(r"Generated password for carol: \S{24}", generated.stdout)
    no_tty = camauth("users", "passwd", "carol", data_dir=data, stdin="")
    assert no_tty.returncode == 1
    assert "--password-stdin" in no_tty.stderr
    assert camauth("users", "delete", "carol", data_dir=data).returncode == 0
    assert camauth("users", "delete", "carol", data_dir=data).returncode == 1


def test_running_service_sees_cli_changes(tmp_path: Path, serve: list[Process]) -> None:
    data = tmp_path / "data"
    camauth(
        "users", "add", "dave", "--password-stdin", data_dir=data, stdin="lantern orchard quill 4\n"
    )
    process = start(serve, data)
    _, body = post_json(
        process.url("/api/login"), {"username": "dave", "password": "lantern orchard quill 4"}
    )
    token = body["token"]
    assert forward_auth(process, token) == (200, "viewer")
    camauth("users", "role", "dave", "admin", data_dir=data)
    assert _eventually(lambda: forward_auth(process, token) == (200, "admin"))
    camauth(
        "users", "passwd", "dave", "--password-stdin", data_dir=data, stdin="new orchard quill 5\n"
    )
    assert _eventually(lambda: forward_auth(process, token)[0] == 401)


def _eventually(check: object, attempts: int = 50) -> bool:
    """Poll (bounded: 5 s) until ``check()`` holds; the service syncs every second."""
    for _ in range(attempts):
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    env = {**os.environ, "CAMAUTH_DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "camauth", "users", "add", "erin", "--generate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0
    assert (data / "camauth.db").is_file()


def test_keys_cli_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = camauth("keys", "add", "mediamtx", "--path", "/triggers/", data_dir=data)
    assert added.returncode == 0, added.stderr
    secret = added.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"camauth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", secret)
    listed = camauth("keys", "list", data_dir=data)
    assert listed.stdout.startswith("1\tmediamtx\tviewer\t/triggers/\tlast used never")
    assert secret not in listed.stdout
    assert camauth("keys", "add", "bad", "--path", "/a/../b", data_dir=data).returncode == 1
    assert camauth("keys", "revoke", "MEDIAMTX", data_dir=data).returncode == 0
    assert camauth("keys", "list", data_dir=data).stdout == ""
    assert camauth("keys", "revoke", "1", data_dir=data).returncode == 1
    conn = sqlite3.connect(data / "camauth.db")
    types = [row[0] for row in conn.execute("SELECT type FROM events ORDER BY id")]
    conn.close()
    assert types == ["api_key_created", "api_key_revoked"]
