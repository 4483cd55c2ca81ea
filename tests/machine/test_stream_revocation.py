"""An open ``/api/ws`` stream ends with the credential that opened it.

Each test opens a stream as an admin (a session's bearer token, or an API key), shows that
events reach it, then takes its access away through the public API. The server must close
the stream with 4001 (credential ended) or 4003 (the role no longer allows it), and must send
no event after the revocation, not even the revocation's own event. A second admin stream, on
another credential, is the witness that the event was published.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, WSMessage, WSMsgType

from tests.service.conftest import Service, ServiceFactory
from tests.service.test_serve_process import run_camauth

from .helpers import WAIT, admin_key, admin_token, call, create_key, events_until, open_stream

ALICE = "amber lattice comet 4"
NEW_PASSWORD = "granite willow ferry 58"
CREDENTIAL_ENDED = 4001  # the close codes clients rely on
ACCESS_LOST = 4003
ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


@dataclass
class Setup:
    """A stream under test and a witness stream, each on its own admin credential."""

    service: Service
    stream: ClientWebSocketResponse
    witness: ClientWebSocketResponse
    admin: dict[str, str]  # headers of the admin who makes the changes
    alice_token: str  # the stream's bearer token, when it is alice's session
    key_id: int  # the stream's API key, when it is opened with one


Revoke = Callable[[Setup], Awaitable[None]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def connect(
    session: ClientSession, service: Service, headers: dict[str, str]
) -> ClientWebSocketResponse:
    """A stream past its hello message."""
    ws = await session.ws_connect(service.url("/api/ws"), headers=headers)
    hello = await ws.receive_json(timeout=WAIT)
    assert hello["type"] == "hello", hello
    return ws


async def frames_until_closed(ws: ClientWebSocketResponse) -> list[WSMessage]:
    """Every frame the server sends until it closes the stream (bounded by WAIT per frame)."""
    frames = []
    while True:
        frame = await ws.receive(timeout=WAIT)
        frames.append(frame)
        if frame.type in ENDED:
            return frames


def events_in(frames: list[WSMessage]) -> list[dict[str, Any]]:
    """The event messages among ``frames``."""
    messages = [frame.json() for frame in frames if frame.type == WSMsgType.TEXT]
    return [message["event"] for message in messages if message["type"] == "event"]


async def prove_live(setup: Setup, name: str) -> None:
    """An event reaches the stream under test (and the witness) before the revocation."""
    body = {"username": name, "password": "walnut harbor signal 8", "role": "viewer"}
    await call(setup.service, "POST", "/api/users", 201, json=body, headers=setup.admin)
    for ws in (setup.stream, setup.witness):
        seen = await events_until(ws, "user_created")
        assert seen == [], seen  # nothing else happened since the stream opened


# The revocations


async def logout(setup: Setup) -> None:
    headers = bearer(setup.alice_token)
    await call(setup.service, "POST", "/api/logout", 200, headers=headers)


async def revoke_all(setup: Setup) -> None:
    path = "/api/users/alice/revoke_sessions"
    await call(setup.service, "POST", path, 200, headers=setup.admin)


async def delete_user(setup: Setup) -> None:
    await call(setup.service, "DELETE", "/api/users/alice", 200, headers=setup.admin)


async def demote(setup: Setup) -> None:
    path, body = "/api/users/alice/role", {"role": "viewer"}
    await call(setup.service, "PUT", path, 200, json=body, headers=setup.admin)


async def change_own_password(setup: Setup) -> None:
    body = {"old_password": ALICE, "password": NEW_PASSWORD}
    headers = bearer(setup.alice_token)
    await call(setup.service, "PUT", "/api/auth/password", 200, json=body, headers=headers)


async def admin_sets_password(setup: Setup) -> None:
    path, body = "/api/users/alice/password", {"password": NEW_PASSWORD}
    await call(setup.service, "PUT", path, 200, json=body, headers=setup.admin)


async def admin_resets_password(setup: Setup) -> None:
    path = "/api/users/alice/reset_password"
    await call(setup.service, "POST", path, 200, json={}, headers=setup.admin)


async def revoke_key(setup: Setup) -> None:
    path = f"/api/keys/{setup.key_id}"
    await call(setup.service, "DELETE", path, 200, headers=setup.admin)


# (what is done, the stream's credential, the expected close code, the revocation's event)
CASES: dict[str, tuple[Revoke, str, int, str]] = {
    "logout": (logout, "session", CREDENTIAL_ENDED, "logout"),
    "revoke-all": (revoke_all, "session", CREDENTIAL_ENDED, "logout"),
    "user-deleted": (delete_user, "session", CREDENTIAL_ENDED, "user_deleted"),
    "demoted": (demote, "session", ACCESS_LOST, "role_changed"),
    "own-password-change": (
        change_own_password,
        "session",
        CREDENTIAL_ENDED,
        "password_changed",
    ),
    "admin-sets-password": (
        admin_sets_password,
        "session",
        CREDENTIAL_ENDED,
        "password_reset",
    ),
    "admin-resets-password": (
        admin_resets_password,
        "session",
        CREDENTIAL_ENDED,
        "password_reset",
    ),
    "api-key-revoked": (revoke_key, "api_key", CREDENTIAL_ENDED, "api_key_revoked"),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_stream_ends_with_its_credential_and_gets_no_later_event(
    service: Service, case: str
) -> None:
    revoke, credential, code, revocation_event = CASES[case]
    await service.services.users.create("alice", ALICE, "admin")
    admin = bearer(await admin_token(service))
    alice_token = ""
    key_id = 0
    if credential == "session":
        login = {"username": "alice", "password": ALICE}
        alice_token = (await call(service, "POST", "/api/login", 200, json=login))["token"]
        headers = bearer(alice_token)
        witness_headers = {"X-API-Key": await admin_key(service, "witness")}
    else:
        created = await create_key(service, "streamer", "admin", auth=admin)
        key_id = created["id"]
        headers = {"X-API-Key": created["key"]}
        witness_headers = admin

    async with ClientSession() as session:
        stream = await connect(session, service, headers)
        witness = await connect(session, service, witness_headers)
        setup = Setup(service, stream, witness, admin, alice_token, key_id)
        await prove_live(setup, "marker")

        await revoke(setup)
        frames = await frames_until_closed(stream)

        # The witness gets the revocation's event: it was published, just not to this stream.
        assert await events_until(witness, revocation_event) == []
        assert witness.closed is False
        await witness.close()

    assert frames[-1].type == WSMsgType.CLOSE, frames
    assert stream.close_code == code, (frames, stream.close_code)
    assert events_in(frames) == [], frames


async def test_a_stream_on_another_credential_of_the_same_user_stays_open(
    service: Service,
) -> None:
    """Logging out one session ends only the streams opened with that session."""
    token = await admin_token(service)
    other = await admin_token(service)
    async with ClientSession() as session:
        ended = await connect(session, service, bearer(token))
        kept = await connect(session, service, bearer(other))
        await call(service, "POST", "/api/logout", 200, headers=bearer(token))
        frames = await frames_until_closed(ended)
        assert ended.close_code == CREDENTIAL_ENDED
        assert events_in(frames) == []
        assert [e["type"] for e in await events_until(kept, "logout")] == []
        assert not kept.closed
        await kept.close()


async def test_an_api_key_stream_survives_the_revocation_of_another_key(
    service: Service,
) -> None:
    key = await admin_key(service, "kept")
    other = await create_key(service, "other", "admin")
    admin = {"X-API-Key": key}
    async with ClientSession() as session:
        ws = await open_stream(session, service, key)
        await call(service, "DELETE", f"/api/keys/{other['id']}", 200, headers=admin)
        assert await events_until(ws, "api_key_revoked") == []
        assert not ws.closed
        await ws.close()


# Changes made from the shell reach a running service within a second (it follows SQLite's
# data_version); they end streams in the same way.

SHELL_CASES = {
    "users-delete": (("users", "delete", "alice"), "session", CREDENTIAL_ENDED, "user_deleted"),
    "users-role": (("users", "role", "alice", "viewer"), "session", ACCESS_LOST, "role_changed"),
    "users-passwd": (
        ("users", "passwd", "alice", "--generate"),
        "session",
        CREDENTIAL_ENDED,
        "password_reset",
    ),
    "keys-revoke": (("keys", "revoke", "streamer"), "api_key", CREDENTIAL_ENDED, "api_key_revoked"),
}


@pytest.mark.parametrize("case", SHELL_CASES)
async def test_a_shell_change_ends_the_stream_it_revokes(
    start_service: ServiceFactory, tmp_path: Path, case: str
) -> None:
    args, credential, code, revocation_event = SHELL_CASES[case]
    service = await start_service(data_dir=tmp_path)
    await service.services.users.create("alice", ALICE, "admin")
    admin = bearer(await admin_token(service))
    if credential == "session":
        login = {"username": "alice", "password": ALICE}
        headers = bearer((await call(service, "POST", "/api/login", 200, json=login))["token"])
        witness_headers = {"X-API-Key": await admin_key(service, "witness")}
    else:
        created = await create_key(service, "streamer", "admin", auth=admin)
        headers = {"X-API-Key": created["key"]}
        witness_headers = admin

    async with ClientSession() as session:
        stream = await connect(session, service, headers)
        witness = await connect(session, service, witness_headers)
        await prove_live(Setup(service, stream, witness, admin, "", 0), "marker")
        done = run_camauth(*args[:2], "--data-dir", str(tmp_path), *args[2:])
        assert done.returncode == 0, done.stderr
        frames = await frames_until_closed(stream)  # bounded: the service syncs every second
        assert await events_until(witness, revocation_event) == []
        await witness.close()

    assert frames[-1].type == WSMsgType.CLOSE, frames
    assert stream.close_code == code, (frames, stream.close_code)
    assert events_in(frames) == [], frames
