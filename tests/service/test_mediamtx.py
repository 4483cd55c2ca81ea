"""MediaMTX's external authentication, with requests in MediaMTX's documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from camauth.core.audit import EventQuery
from camauth.core.roles import parse_role

from .conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory, with_auth

STRONG = "tangerine comet bridge 9"


def asking(action: str, path: str = "front_door", **fields: Any) -> dict[str, Any]:
    """The body MediaMTX posts (authMethod: http)."""
    return {
        "user": "",
        "password": "",
        "token": "",
        "ip": "192.168.1.20",
        "action": action,
        "path": path,
        "protocol": "webrtc",
        "id": "7f1c2b",
        "query": "",
        **fields,
    }


async def ask(service: Service, body: dict[str, Any]) -> tuple[int, Any]:
    client = await service.fresh_client()
    async with client.post(service.url("/api/auth/mediamtx"), json=body) as response:
        return response.status, await response.json()


async def test_no_credentials_asks_for_them(service: Service) -> None:
    status, body = await ask(service, asking("read"))
    assert (status, body["code"]) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("who", "action", "allowed"),
    [
        ("viewer", "read", True),
        ("viewer", "playback", True),
        ("viewer", "publish", False),
        ("viewer", "api", False),
        ("viewer", "metrics", False),
        ("viewer", "pprof", False),
        ("admin", "read", True),
        ("admin", "publish", True),
        ("admin", "api", True),
        ("admin", "pprof", True),
    ],
)
async def test_users_by_password_token_and_jwt_query(
    service: Service, who: str, action: str, allowed: bool
) -> None:
    password = ADMIN_PASSWORD if who == "admin" else VIEWER_PASSWORD
    token = await service.login(who, password)
    for body in (
        asking(action, user=who, password=password),
        asking(action, token=token),
        asking(action, query=f"jwt={token}&other=1"),
    ):
        status, _ = await ask(service, body)
        assert status == (200 if allowed else 403), body


async def test_a_camera_limited_role_reads_only_its_cameras(service: Service) -> None:
    roles = service.services.roles
    await roles.save(
        parse_role("front", {"presets": ["mediamtx_whep"], "cameras": ["front_door"]}),
        create=True,
    )
    await service.services.users.create("kid", STRONG, "front")
    token = await service.login("kid", STRONG)
    assert (await ask(service, asking("read", "front_door", token=token)))[0] == 200
    assert (await ask(service, asking("read", "garage", token=token)))[0] == 403
    assert (await ask(service, asking("publish", "front_door", token=token)))[0] == 403


async def test_a_key_may_publish_only_where_its_paths_say(service: Service) -> None:
    keys = service.services.keys
    camera = await keys.create("doorbell", "viewer", ("/doorbell",))
    assert (await ask(service, asking("publish", "doorbell", token=camera.secret)))[0] == 200
    assert (await ask(service, asking("publish", "doorbell/sub", token=camera.secret)))[0] == 200
    assert (await ask(service, asking("publish", "garage", token=camera.secret)))[0] == 403
    assert (await ask(service, asking("api", "", token=camera.secret)))[0] == 403
    scripts = await keys.create("scripts", "viewer", ())
    assert (await ask(service, asking("read", token=scripts.secret)))[0] == 200
    assert (await ask(service, asking("publish", token=scripts.secret)))[0] == 403


@pytest.mark.parametrize("path", ["../etc", "a/../b", "a//b", "a b", "cam?x", "cam%2F"])
async def test_paths_that_cannot_be_judged_are_refused(service: Service, path: str) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    status, body = await ask(service, asking("read", path, token=token))
    assert (status, body["code"]) == (403, "path_refused")


async def test_wrong_passwords_go_through_the_login_guard(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="2/minute"))
    wrong = asking("read", user="viewer", password="guess")
    assert [(await ask(service, wrong))[0] for _ in range(3)] == [401, 401, 429]
    right = asking("read", user="viewer", password=VIEWER_PASSWORD)
    assert (await ask(service, right))[0] == 429  # locked out, whatever the password
    failed = [
        event
        for event in await service.services.audit.query(_query("login_failed"))
        if event.detail.get("purpose") == "mediamtx"
    ]
    assert len(failed) == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"action": "delete"},
        {"action": "read", "path": 5},
        {"action": "read", "user": ["x"]},
    ],
)
async def test_bad_bodies_are_a_400(service: Service, body: dict[str, Any]) -> None:
    status, answer = await ask(service, body)
    assert status == 400
    assert answer["code"] in ("missing_field", "invalid_field")


def _query(kind: str) -> EventQuery:
    return EventQuery(type=kind, limit=500)
