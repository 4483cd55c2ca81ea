"""``camauth serve`` as a real process: banner, restarts, resets, signals, bad options, files."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import ClientSession, WSMsgType

from camauth.core.passwords import hash_rounds
from camauth.storage.db import connect
from camauth.storage.users import get_user

from .conftest import free_port

START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0
BANNER_PASSWORD = re.compile(r"^\*\s+Password:\s+(\S+)\s+\*$", re.MULTILINE)
# One log line: "2024-01-01 12:00:00,123 LEVEL logger: message".
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ([A-Z]+) (\S+): ", re.MULTILINE)
# Environment variables that would change what the service does, from the outer shell.
FOREIGN_ENV = ("CAMAUTH_DATA_DIR", "CAMAUTH_JWT_SECRET", "SUPERVISOR_TOKEN")
_logs = count()
# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def clean_env(**overrides: str) -> dict[str, str]:
    """The test's environment without CamAuth's own variables, plus ``overrides``."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env.update(overrides)
    return env


@dataclass
class Response:
    """What came back from one request."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str = "GET",
    body: object = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One HTTP request with urllib; error statuses are answers, not exceptions."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=10) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as err:
        with err:
            return Response(err.code, dict(err.headers.items()), err.read())


@dataclass
class Served:
    """A running ``camauth serve`` whose stderr goes to a file."""

    popen: subprocess.Popen[bytes]
    port: int
    log: Path
    data_dir: Path | None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stderr(self) -> str:
        """Everything written to stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def banner_password(self) -> str:
        found = BANNER_PASSWORD.findall(self.stderr())
        assert len(found) == 1, self.stderr()
        return str(found[0])

    def login(self, username: str, password: str) -> Response:
        return call(self.url("/api/login"), "POST", {"username": username, "password": password})

    def token(self, username: str, password: str) -> str:
        answer = self.login(username, password)
        assert answer.status == 200, answer.body
        return str(answer.json()["token"])

    def forward_auth(self, token: str) -> Response:
        return call(self.url("/api/auth"), headers={"Authorization": f"Bearer {token}"})

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait (bounded) for the exit status."""
        self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT)
            raise AssertionError(f"camauth did not stop within {STOP_TIMEOUT} s") from None


def serve_command(data_dir: Path | None, port: int, *extra: str) -> list[str]:
    """The ``camauth serve`` command line on loopback."""
    command = [sys.executable, "-m", "camauth", "serve"]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return [*command, "--host", "127.0.0.1", "--port", str(port), *extra]


def wait_healthy(served: Served) -> None:
    """Poll ``/api/health`` until it answers 200; bounded by START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.popen.poll() is not None:
            raise AssertionError(
                f"camauth exited with {served.popen.returncode}: {served.stderr()}"
            )
        try:
            if call(served.url("/api/health"), headers={}).status == 200:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"camauth was not healthy within {START_TIMEOUT} s: {served.stderr()}")


@contextmanager
def serving(
    workdir: Path,
    data_dir: Path | None,
    *extra: str,
    env: dict[str, str] | None = None,
    healthy: bool = True,
) -> Iterator[Served]:
    """Start ``camauth serve``, wait until healthy; it never outlives the block.

    With ``healthy`` off the block starts as soon as the process does.
    """
    port = free_port()
    log = workdir / f"camauth-stderr-{next(_logs)}.log"
    with log.open("wb") as stderr:
        popen = subprocess.Popen(
            serve_command(data_dir, port, *extra),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=workdir,
            env=env if env is not None else clean_env(),
        )
    served = Served(popen, port, log, data_dir)
    try:
        if healthy:
            wait_healthy(served)
        yield served
    finally:
        if popen.poll() is None:
            popen.kill()
        popen.wait(timeout=STOP_TIMEOUT)


def run_camauth(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a ``camauth`` command to completion (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "camauth", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
        env=env if env is not None else clean_env(),
    )


def write_options(data_dir: Path, options: dict[str, Any]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "options.json").write_text(json.dumps(options), encoding="utf-8")


def session_exists(data_dir: Path, token: str) -> bool:
    """Whether the session row behind a token is still stored (read-only look)."""
    sid = jwt.decode(token, options={"verify_signature": False})["sid"]
    conn = sqlite3.connect(f"file:{data_dir / 'camauth.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT 1 FROM sessions WHERE sid = ?", (sid,)).fetchone() is not None
    finally:
        conn.close()


def log_lines(text: str) -> list[str]:
    """The lines of stderr that are log records (not the banner)."""
    return [line for line in text.splitlines() if LOG_LINE.match(line)]


# First start, restarts and the admin password


def test_first_start_prints_a_banner_whose_password_logs_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(tmp_path, data) as served:
        text = served.stderr()
        assert "Username:   admin" in text
        password = served.banner_password()
        assert len(password) >= 16
        assert f"http://127.0.0.1:{served.port}/camauth/login" in text
        assert f"Listening:  port {served.port} on 127.0.0.1 only" in text
        login = served.login("admin", password)
        assert login.status == 200, login.body
        body = login.json()
        assert body["username"] == "admin"
        assert body["role"] == "admin"
        auth = served.forward_auth(body["token"])
        assert auth.status == 200
        assert auth.headers["Remote-User"] == "admin"
        assert auth.headers["Remote-Role"] == "admin"
        assert served.login("admin", password + "x").status == 401
        assert served.stop() == 0
    conn = connect(data / "camauth.db")
    try:
        admin = get_user(conn, "admin")
    finally:
        conn.close()
    assert admin is not None
    assert admin.role == "admin"
    assert admin.password_generated
    assert hash_rounds(admin.password_hash) == 12  # the real cost, outside the test process


@pytest.mark.parametrize("log_level", ["info", "debug"])
def test_no_password_or_token_in_any_log_line(tmp_path: Path, log_level: str) -> None:
    data = tmp_path / "data"
    write_options(data, {"log_level": log_level})
    wrong = "wrong-guess-Zq8v3Lk2Pw"
    with serving(tmp_path, data) as served:
        password = served.banner_password()
        token = served.token("admin", password)
        cookie = {"Cookie": f"camauth_token={token}"}
        assert served.forward_auth(token).status == 200
        assert call(served.url("/api/auth"), headers=cookie).status == 200
        assert call(served.url("/api/profile"), headers=cookie).status == 200
        assert call(served.url("/api/users"), headers=cookie).status == 200
        assert served.login("admin", wrong).status == 401
        assert served.login("nobody", wrong).status in (401, 429)
        logout = call(served.url("/api/logout"), "POST", {}, {"Authorization": f"Bearer {token}"})
        assert logout.status in (200, 204)
        assert served.forward_auth(token).status == 401
        assert served.stop() == 0
        text = served.stderr()
    assert text.count(password) == 1, text
    (line,) = [line for line in text.splitlines() if password in line]
    assert BANNER_PASSWORD.fullmatch(line), line
    assert not [line for line in log_lines(text) if password in line]
    assert token not in text
    assert token.split(".")[2] not in text  # not even the signature alone
    assert wrong not in text


def test_second_start_prints_no_banner_and_keeps_sessions(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(tmp_path, data) as first:
        password = first.banner_password()
        token = first.token("admin", password)
        assert first.stop() == 0
    assert session_exists(data, token)
    secret = (data / ".jwt_secret").read_text()
    with serving(tmp_path, data) as second:
        assert second.login("admin", password).status == 200
        # Same secret, same session row: a restart neither ends nor forges sessions.
        assert second.forward_auth(token).status == 200
        assert second.stop() == 0
        text = second.stderr()
    assert "Password:" not in text
    assert "Username:" not in text
    assert password not in text
    assert (data / ".jwt_secret").read_text() == secret


def test_a_failed_first_start_does_not_lose_the_admin_password(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        failed = run_camauth(*serve_command(data, port)[3:])
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    assert str(port) in failed.stderr
    shown = BANNER_PASSWORD.findall(failed.stderr)
    # The password of the admin must be shown by the start that failed, or by the next one:
    # otherwise nobody can ever log in without a reset.
    with serving(tmp_path, data) as served:
        shown += BANNER_PASSWORD.findall(served.stderr())
        assert len(shown) == 1, failed.stderr + served.stderr()
        assert served.login("admin", shown[0]).status == 200


def test_reset_admin_password_resets_on_every_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serving(tmp_path, data) as first:
        original = first.banner_password()
        old_token = first.token("admin", original)
        assert "RESET" not in first.stderr()
        assert first.stop() == 0
    # Room for the failed logins with old passwords below (the default allows 1/second).
    limit = "100/minute"
    write_options(data, {"auth": {"reset_admin_password": True, "failed_login_rate_limit": limit}})
    passwords = [original]
    for _ in range(2):
        with serving(tmp_path, data) as served:
            text = served.stderr()
            assert "RESET" in text
            assert "reset_admin_password" in text
            new = served.banner_password()
            assert len(new) >= 16
            assert new not in passwords
            for old in passwords:
                assert served.login("admin", old).status == 401
            # The session from before the reset ended with the old password, for good.
            assert served.forward_auth(old_token).status == 401
            assert not session_exists(data, old_token)
            assert served.login("admin", new).status == 200
            assert served.stop() == 0
            assert served.stderr().count(new) == 1
        passwords.append(new)


# Stopping


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_exits_zero_and_logs_stopping(tmp_path: Path, sig: int) -> None:
    with serving(tmp_path, tmp_path / "data") as served:
        assert served.stop(sig) == 0
        text = served.stderr()
    assert "Stopping" in text
    assert "Traceback" not in text


def first_accepted_connection(served: Served) -> socket.socket:
    """Try to connect until the port first accepts (bounded); the connected socket."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert served.popen.poll() is None, served.stderr()
        try:
            return socket.create_connection(("127.0.0.1", served.port), timeout=1)
        except ConnectionRefusedError:
            time.sleep(0.001)  # polling for the port, not ordering events
    raise AssertionError(f"camauth never accepted a connection: {served.stderr()}")


def test_sigterm_the_moment_the_port_accepts_still_stops_cleanly(tmp_path: Path) -> None:
    """Signal handlers are installed before anything listens: no window where SIGTERM kills."""
    with serving(tmp_path, tmp_path / "data", healthy=False) as served:
        connection = first_accepted_connection(served)
        try:
            status = served.stop(signal.SIGTERM)
        finally:
            connection.close()
        text = served.stderr()
    assert status == 0, text
    assert "Stopping" in text
    assert "Traceback" not in text


async def test_sigterm_stops_with_an_open_websocket_and_keepalive(tmp_path: Path) -> None:
    with serving(tmp_path, tmp_path / "data") as served:
        token = served.token("admin", served.banner_password())
        idle = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        try:
            idle.sendall(b"GET /api/health HTTP/1.1\r\nHost: cam.local\r\n\r\n")
            assert idle.recv(4096).startswith(b"HTTP/1.1 200")
            async with ClientSession() as session:
                ws = await session.ws_connect(
                    served.url("/api/ws"), headers={"Authorization": f"Bearer {token}"}
                )
                hello = await ws.receive(timeout=10)
                assert hello.type == WSMsgType.TEXT
                assert json.loads(hello.data)["type"] == "hello"
                assert served.stop(signal.SIGTERM) == 0
                await ws.close()
        finally:
            idle.close()
        assert "Stopping" in served.stderr()


# Invalid options


BAD_OPTIONS: list[tuple[str, str, str, str]] = [
    # (id, file content, the option the one line names, the reason it gives)
    ("unknown-key", '{"auth": {"bogus": 1}}', "auth.bogus", "unknown option"),
    (
        "session-length-text",
        '{"auth": {"session_length": "x"}}',
        "auth.session_length",
        "whole number",
    ),
    ("session-length-small", '{"auth": {"session_length": 5}}', "auth.session_length", "60"),
    ("log-level", '{"log_level": "loud"}', "log_level", "expected one of"),
    (
        "proxy-not-ip",
        '{"auth": {"trusted_proxies": ["not-an-ip"]}}',
        "auth.trusted_proxies",
        "not an IP address",
    ),
    (
        "rate-limit",
        '{"auth": {"failed_login_rate_limit": "lots"}}',
        "auth.failed_login_rate_limit",
        "not a rate limit",
    ),
    ("short-jwt-secret", '{"jwt_secret": "short"}', "jwt_secret", "too short"),
    ("top-level-array", "[1, 2]", "top level", "JSON object"),
    ("malformed-json", '{"auth": {', "not valid JSON", "line 1"),
    (
        "refresh-not-shorter",
        '{"auth": {"session_length": 3600, "refresh_time": 3600}}',
        "auth.refresh_time",
        "shorter than auth.session_length",
    ),
]


def assert_config_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("layout", ["external-file", "in-data-dir"])
@pytest.mark.parametrize(
    ("content", "names", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_OPTIONS],
)
def test_invalid_options_stop_with_one_line_and_write_nothing(
    tmp_path: Path, layout: str, content: str, names: str, reason: str
) -> None:
    data = tmp_path / "data"
    if layout == "external-file":
        options = tmp_path / "options.json"
        options.write_text(content, encoding="utf-8")
        extra = ["--options", str(options)]
    else:
        data.mkdir(mode=0o700)
        (data / "options.json").write_text(content, encoding="utf-8")
        extra = []
    port = free_port()
    result = run_camauth(*serve_command(data, port, *extra)[3:])
    assert_config_error(result, names, reason)
    if layout == "external-file":
        assert not data.exists()
    else:
        assert sorted(p.name for p in data.iterdir()) == ["options.json"]
    assert not (tmp_path / "camauth-data").exists()


def test_invalid_options_leave_an_existing_empty_data_dir_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    options = tmp_path / "options.json"
    options.write_text('{"auth": {"session_length": 5}}', encoding="utf-8")
    result = run_camauth(*serve_command(data, free_port(), "--options", str(options))[3:])
    assert_config_error(result, "auth.session_length")
    assert list(data.iterdir()) == []


def test_missing_options_file_stops_with_status_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = tmp_path / "nowhere" / "options.json"
    result = run_camauth(*serve_command(data, free_port(), "--options", str(missing))[3:])
    assert_config_error(result, "not found", str(missing))
    assert not data.exists()


def test_too_short_jwt_secret_from_the_environment_stops_with_status_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_camauth(
        *serve_command(data, free_port())[3:], env=clean_env(CAMAUTH_JWT_SECRET="tiny")
    )
    assert_config_error(result, "CAMAUTH_JWT_SECRET", "too short")
    assert not data.exists()


# Files and directories


def test_data_dir_from_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "from-env"
    env = clean_env(CAMAUTH_DATA_DIR=str(data))
    with serving(tmp_path, None, env=env) as served:
        password = served.banner_password()
        assert served.login("admin", password).status == 200
        assert served.stop() == 0
    assert (data / "camauth.db").is_file()
    assert (data / ".jwt_secret").is_file()
    assert not (tmp_path / "camauth-data").exists()  # not the default ./camauth-data


def test_generated_secret_and_data_dir_are_private(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    with serving(tmp_path, data) as served:
        assert served.stop() == 0
    secret = data / ".jwt_secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{128}", secret.read_text().strip())
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert "generated" in served.stderr()  # the log names the source, never the value
    assert secret.read_text().strip() not in served.stderr()


def test_password_hashes_are_private_in_an_existing_open_directory(tmp_path: Path) -> None:
    # `mkdir camauth-data` makes a 0755 directory; the hashes must still be this user's only.
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    with serving(tmp_path, data) as served:
        assert served.stop() == 0
    dir_open = stat.S_IMODE(data.stat().st_mode) & 0o077
    for path in data.iterdir():
        if path.name.startswith("camauth.db") or path.name == ".jwt_secret":
            file_open = stat.S_IMODE(path.stat().st_mode) & 0o077
            assert not (dir_open and file_open), f"{path.name} is readable by others"


def test_secret_from_the_environment_writes_no_secret_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(CAMAUTH_JWT_SECRET="e" * 64)
    with serving(tmp_path, data, env=env) as served:
        assert served.stop() == 0
    assert not (data / ".jwt_secret").exists()
    assert "CAMAUTH_JWT_SECRET" in served.stderr()
    assert "e" * 64 not in served.stderr()


# Log level


@pytest.mark.parametrize("log_level", [None, "debug"])
def test_debug_lines_only_at_debug_level(tmp_path: Path, log_level: str | None) -> None:
    data = tmp_path / "data"
    if log_level is not None:
        write_options(data, {"log_level": log_level})
    with serving(tmp_path, data) as served:
        assert call(served.url("/api/version")).status == 200
        assert served.stop() == 0
        text = served.stderr()
    levels = [match.group(1) for match in LOG_LINE.finditer(text)]
    loggers = [match.group(2) for match in LOG_LINE.finditer(text)]
    assert "INFO" in levels  # logging works at every level tried here
    if log_level is not None and log_level.lower() == "debug":
        assert "DEBUG" in levels, text
        assert "aiohttp.access" in loggers, text  # the access log is for debugging
    else:
        assert "DEBUG" not in levels, text
        assert "aiohttp.access" not in loggers, text
