"""``camauth roles`` from the shell, on a real database, and a running service following it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from camauth.const import DATABASE_FILE
from camauth.storage.db import connect

from .test_serve_process import clean_env


def roles(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    connect(data / DATABASE_FILE).close()
    return subprocess.run(
        [sys.executable, "-m", "camauth", "roles", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=clean_env(),
    )


def test_add_list_replace_delete(tmp_path: Path) -> None:
    added = roles(
        tmp_path,
        "add",
        "family",
        "--allow",
        "GET,HEAD /api/*/latest.*",
        "--allow",
        "GET /",
        "--preset",
        "go2rtc_webrtc",
        "--camera",
        "front_door",
    )
    assert added.returncode == 0, added.stderr
    listed = roles(tmp_path, "list").stdout.splitlines()
    assert listed[0].startswith("admin\teverything")
    assert listed[1].startswith("viewer\tGET,HEAD,OPTIONS /**")
    assert listed[2] == (
        "family\tGET,HEAD /api/*/latest.*; GET /\tpresets: go2rtc_webrtc\tfront_door"
    )
    assert roles(tmp_path, "add", "family").returncode == 1  # exists: --replace to change
    replaced = roles(tmp_path, "add", "family", "--replace", "--allow", "GET /**")
    assert replaced.returncode == 0, replaced.stderr
    assert roles(tmp_path, "list").stdout.splitlines()[2] == (
        "family\tGET /**\tpresets: -\tall cameras"
    )
    assert roles(tmp_path, "delete", "family").returncode == 0
    assert len(roles(tmp_path, "list").stdout.splitlines()) == 2


def test_bad_roles_are_refused_with_one_line(tmp_path: Path) -> None:
    for args in (
        ("add", "viewer"),
        ("add", "family", "--allow", "GET"),
        ("add", "family", "--allow", "FETCH /x"),
        ("add", "family", "--allow", "GET api/x"),
        ("delete", "nobody"),
        ("delete", "admin"),
        ("add", "Bad Name"),
    ):
        result = roles(tmp_path, *args)
        assert result.returncode == 1, (args, result.stdout)
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("camauth: ")
    assert len(roles(tmp_path, "list").stdout.splitlines()) == 2
