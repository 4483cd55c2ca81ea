"""The audit event of an acknowledged admin change survives a crash right after the answer.

The real ``camauth serve`` process gets the change; the moment its 2xx answer has arrived it
is killed with SIGKILL (no clean-up runs). Started again on the same data directory, it must
list the change's event in ``/api/events``: events of stored changes are written in the
change's own transaction, never in a batch after the answer.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .test_serve_process import Served, call, serving

BOB = {"username": "bob", "password": "walnut harbor signal 8", "role": "viewer"}


@dataclass
class Change:
    """An admin change: what to set up first, the request, and the event it must leave."""

    setup: list[tuple[str, str, dict[str, Any] | None]]
    request: tuple[str, str, dict[str, Any] | None]
    event: str
    matches: Callable[[dict[str, Any]], bool]


CHANGES = {
    "create-user": Change(
        [],
        ("POST", "/api/users", BOB),
        "user_created",
        lambda e: e["username"] == "bob" and e["detail"]["role"] == "viewer",
    ),
    "change-role": Change(
        [("POST", "/api/users", BOB)],
        ("PUT", "/api/users/bob/role", {"role": "admin"}),
        "role_changed",
        lambda e: e["username"] == "bob" and e["detail"]["role"] == "admin",
    ),
    "create-api-key": Change(
        [],
        ("POST", "/api/keys", {"name": "frigate", "role": "viewer"}),
        "api_key_created",
        lambda e: e["detail"]["name"] == "frigate",
    ),
    "revoke-api-key": Change(
        [("POST", "/api/keys", {"name": "frigate", "role": "viewer"})],
        ("DELETE", "/api/keys/1", None),
        "api_key_revoked",
        lambda e: e["detail"]["name"] == "frigate",
    ),
    "reset-password": Change(
        [("POST", "/api/users", BOB)],
        ("POST", "/api/users/bob/reset_password", {}),
        "password_reset",
        lambda e: e["username"] == "bob",
    ),
}


def send(served: Served, headers: dict[str, str], request: tuple[str, str, Any]) -> int:
    method, path, body = request
    return call(served.url(path), method, body, headers).status


@pytest.mark.parametrize("name", CHANGES)
def test_the_event_of_an_acknowledged_change_survives_sigkill(tmp_path: Path, name: str) -> None:
    change = CHANGES[name]
    data = tmp_path / "data"
    with serving(tmp_path, data) as served:
        headers = {"Authorization": f"Bearer {served.token('admin', served.banner_password())}"}
        for step in change.setup:
            assert send(served, headers, step) in (200, 201)
        status = send(served, headers, change.request)
        served.popen.send_signal(signal.SIGKILL)  # the moment the answer is in
        assert served.popen.wait(timeout=20) == -signal.SIGKILL
        assert status in (200, 201), served.stderr()

    with serving(tmp_path, data) as restarted:
        # The session, stored before the crash, still works after it.
        answer = call(restarted.url(f"/api/events?type={change.event}"), headers=headers)
        assert answer.status == 200, answer.body
        found = [event for event in answer.json() if change.matches(event)]
        assert len(found) == 1, answer.json()
        assert restarted.stop() == 0
