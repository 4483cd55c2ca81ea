"""The audit event of an acknowledged admin change survives a crash right after the answer.

The real ``camauth serve`` process gets the change; the moment its 2xx answer has arrived it
is killed with SIGKILL (no clean-up runs). Started again on the same data directory, it must
list the change's event in ``/api/events``: events of stored changes are written in the
change's own transaction, never in a batch after the answer.

Whether a kill lands before a background write is a race, so the in-process test below checks
the same property without one: by the time a change is announced, its event is committed.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from camauth.const import DATABASE_FILE
from camauth.core.events import Event

from .conftest import ADMIN_PASSWORD, Service
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


# The same property, without a race to win: when a change is announced (before its answer
# is sent), its event is already a committed row that another connection can read.


@pytest.mark.parametrize("name", CHANGES)
async def test_the_event_is_committed_before_the_change_is_announced(
    service: Service, name: str
) -> None:
    change = CHANGES[name]
    headers = {"Authorization": f"Bearer {await service.login('admin', ADMIN_PASSWORD)}"}
    client = await service.fresh_client()

    async def send_in_process(request: tuple[str, str, Any]) -> int:
        method, path, body = request
        async with client.request(method, service.url(path), json=body, headers=headers) as answer:
            return answer.status

    for step in change.setup:
        assert await send_in_process(step) in (200, 201)
    seen: list[tuple[Event, tuple[Any, ...] | None]] = []

    def on_event(event: Event) -> None:
        if event.type == change.event:  # read at once, from another connection
            seen.append((event, committed_row(service.data_dir, event.id)))

    unsubscribe = service.services.bus.subscribe(on_event)
    try:
        assert await send_in_process(change.request) in (200, 201)
    finally:
        unsubscribe()
    assert len(seen) == 1, seen
    event, row = seen[0]
    assert event.id is not None  # stored with the change, not queued for a later batch
    assert row is not None
    assert row[0] == change.event
    assert change.matches({**event.as_json(), "detail": json.loads(row[2])})


def committed_row(data_dir: Path, event_id: int | None) -> tuple[Any, ...] | None:
    """The audit row ``event_id`` as another connection sees it (None if not committed)."""
    if event_id is None:
        return None
    conn = sqlite3.connect(f"file:{data_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT type, username, detail FROM events WHERE id = ?", (event_id,)
        ).fetchone()
    finally:
        conn.close()
    return tuple(row) if row else None
