"""API keys: shown once, usable at once, revocable at once; webhook keys only for their paths."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import ClientSession
from multidict import CIMultiDict

from camauth.core.policy import Access
from camauth.http.pages import Pages
from camauth.http.routes import route_table
from tests.service.conftest import ADMIN_PASSWORD, Service

from .helpers import KEY_RE, admin_key, call, create_key

LISTED_FIELDS = {"id", "name", "role", "prefix", "paths", "created_at", "last_used_at"}


async def status_of(service: Service, method: str, path: str, headers: Any, **kwargs: Any) -> int:
    """The status of one request from a client without cookies."""
    async with (
        ClientSession() as session,
        session.request(method, service.url(path), headers=headers, **kwargs) as response,
    ):
        await response.read()
        return response.status


async def forward_auth(service: Service, headers: Any) -> tuple[int, str | None]:
    """Status and Remote-User of a forward-auth request."""
    async with (
        ClientSession() as session,
        session.get(service.url("/api/auth"), headers=headers) as response,
    ):
        await response.read()
        return response.status, response.headers.get("Remote-User")


async def test_a_key_is_shown_once_and_listed_without_its_secret(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    before = time.time()
    created = await create_key(service, "nvr", "viewer", ["/triggers/"], auth=admin)
    after = time.time()
    assert re.fullmatch(KEY_RE, created["key"])
    assert created["key"].split("_")[1] == created["prefix"]
    assert created["name"] == "nvr"
    assert created["role"] == "viewer"
    assert created["paths"] == ["/triggers/"]
    assert before <= created["created_at"] <= after
    assert created["last_used_at"] is None

    listed = await call(service, "GET", "/api/keys", 200, headers=admin)
    text = json.dumps(listed)
    assert created["key"] not in text
    assert created["key"].split("_", 2)[2] not in text
    for item in listed:
        assert set(item) == LISTED_FIELDS
    [nvr] = [item for item in listed if item["name"] == "nvr"]
    assert nvr == {k: v for k, v in created.items() if k != "key"}


async def test_a_key_identifies_on_the_api_and_on_forward_auth(service: Service) -> None:
    key = await admin_key(service, "automation")
    profile = await call(service, "GET", "/api/profile", 200, headers={"X-API-Key": key})
    assert profile["username"] == "automation"
    assert profile["role"] == "admin"
    async with (
        ClientSession() as session,
        session.get(service.url("/api/auth"), headers={"X-API-Key": key}) as response,
    ):
        assert response.status == 200
        assert response.headers["Remote-User"] == "automation"
        assert response.headers["Remote-Role"] == "admin"


async def test_a_viewer_key_cannot_manage_anything(service: Service) -> None:
    viewer = {"X-API-Key": (await create_key(service, "watcher", "viewer"))["key"]}
    profile = await call(service, "GET", "/api/profile", 200, headers=viewer)
    assert profile["role"] == "viewer"
    user = {"username": "mallory", "password": "granite orchard pepper 4", "role": "admin"}
    await call(service, "GET", "/api/users", 403, headers=viewer)
    await call(service, "POST", "/api/users", 403, json=user, headers=viewer)
    await call(service, "DELETE", "/api/users/admin", 403, headers=viewer)
    await call(
        service, "PUT", "/api/users/viewer/role", 403, json={"role": "admin"}, headers=viewer
    )
    await call(service, "POST", "/api/users/admin/reset_password", 403, json={}, headers=viewer)
    await call(service, "POST", "/api/keys", 403, json={"name": "mine"}, headers=viewer)
    await call(service, "GET", "/api/keys", 403, headers=viewer)
    assert await forward_auth(service, {**viewer, "X-Forwarded-Method": "POST"}) == (403, None)
    assert await service.services.users.get("mallory") is None


async def test_a_revoked_key_fails_on_its_very_next_request(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    doomed = await create_key(service, "doomed", "admin", auth=admin)
    headers = {"X-API-Key": doomed["key"]}
    await call(service, "GET", "/api/users", 200, headers=headers)
    assert await forward_auth(service, headers) == (200, "doomed")
    await call(service, "DELETE", f"/api/keys/{doomed['id']}", 200, headers=admin)
    await call(service, "GET", "/api/profile", 401, headers=headers)
    await call(service, "GET", "/api/users", 401, headers=headers)
    assert await forward_auth(service, headers) == (401, None)
    await call(service, "DELETE", f"/api/keys/{doomed['id']}", 404, headers=admin)
    await call(service, "DELETE", "/api/keys/abc", 404, headers=admin)
    listed = await call(service, "GET", "/api/keys", 200, headers=admin)
    assert "doomed" not in [item["name"] for item in listed]


async def test_duplicate_names_conflict_whatever_their_case(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    await create_key(service, "Frigate", "viewer", auth=admin)
    for name in ("Frigate", "frigate", "FRIGATE"):
        body = {"name": name, "role": "viewer"}
        answer = await call(service, "POST", "/api/keys", 409, json=body, headers=admin)
        assert answer["error"]
    listed = await call(service, "GET", "/api/keys", 200, headers=admin)
    assert [item["name"] for item in listed].count("Frigate") == 1


async def test_bad_names_roles_and_paths_are_refused_and_nothing_is_stored(
    service: Service,
) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    listed_before = await call(service, "GET", "/api/keys", 200, headers=admin)
    bad_bodies: list[dict[str, Any]] = [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 65},
        {"name": "a/b"},
        {"name": "line\nbreak"},
        {"name": 5},
        {"name": None},
        {"name": "ok", "role": "root"},
        {"name": "ok", "role": "Admin"},
        {"name": "ok", "role": 1},
        {"name": "ok", "paths": "/triggers/"},
        {"name": "ok", "paths": {"/triggers/": True}},
        {"name": "ok", "paths": [1]},
        {"name": "ok", "paths": [""]},
        {"name": "ok", "paths": ["../x"]},
        {"name": "ok", "paths": ["triggers/"]},
        {"name": "ok", "paths": ["/a/../b"]},
        {"name": "ok", "paths": ["/a/./b"]},
        {"name": "ok", "paths": ["/a/.."]},
        {"name": "ok", "paths": ["//x"]},
        {"name": "ok", "paths": ["/a//b"]},
        {"name": "ok", "paths": ["/a%2e%2e/"]},
        {"name": "ok", "paths": ["/a?b=1"]},
        {"name": "ok", "paths": ["/a\\b"]},
        {"name": "ok", "paths": [f"/p{n}/" for n in range(17)]},
        {"name": "ok", "extra": 1},
    ]
    for body in bad_bodies:
        answer = await call(service, "POST", "/api/keys", 400, json=body, headers=admin)
        assert isinstance(answer["error"], str), body
    sixteen = {"name": "many", "paths": [f"/p{n}/" for n in range(16)]}
    await call(service, "POST", "/api/keys", 201, json=sixteen, headers=admin)
    listed_after = await call(service, "GET", "/api/keys", 200, headers=admin)
    assert [item["name"] for item in listed_after] == [
        *(item["name"] for item in listed_before),
        "many",
    ]


async def test_wrong_and_malformed_keys_fail(service: Service) -> None:
    key = await admin_key(service)
    _, prefix, secret = key.split("_", 2)
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    other_prefix = f"{(int(prefix, 16) + 1) % 16**8:08x}"
    for presented in (
        f"camauth_{prefix}_{other_secret}",
        f"camauth_{prefix}_{'A' * 43}",
        f"camauth_{other_prefix}_{secret}",
        f"camauth_{prefix.upper()}_{secret}" if prefix.upper() != prefix else f"x{key}",
        key[:-1],
        key + "A",
        f"camauth_{prefix}{secret}",
        f"camauth-{prefix}-{secret}",
        f"{prefix}_{secret}",
        secret,
        "camauth_",
        "not a key",
        "Bearer " + key,
    ):
        headers = {"X-API-Key": presented}
        assert await status_of(service, "GET", "/api/profile", headers) == 401, presented
        assert await forward_auth(service, headers) == (401, None), presented
    # The real key still works: the failures above did not disturb it.
    assert await status_of(service, "GET", "/api/profile", {"X-API-Key": key}) == 200


async def test_duplicate_key_headers_are_refused(service: Service) -> None:
    key = await admin_key(service)
    for pair in ((key, key), (key, "camauth_00000000_" + "A" * 43)):
        headers = CIMultiDict([("X-API-Key", pair[0]), ("X-API-Key", pair[1])])
        assert await status_of(service, "GET", "/api/profile", headers) == 400
        assert await status_of(service, "GET", "/api/users", headers) == 400
        assert await forward_auth(service, headers) == (401, None)


async def test_a_webhook_key_passes_forward_auth_only_under_its_paths(service: Service) -> None:
    hook = await create_key(service, "nvr-hook", "viewer", ["/triggers/"])
    key = hook["key"]
    for uri in ("/triggers", "/triggers/", "/triggers/cam1", "/triggers/cam1/motion?x=1"):
        for header in ("X-Forwarded-Uri", "X-Original-URI"):
            headers = {"X-API-Key": key, header: uri}
            assert await forward_auth(service, headers) == (200, "nvr-hook"), (header, uri)
    # Spellings a server resolves to a path under /triggers/ are judged as that path.
    for uri in ("/triggers/./x", "/triggers//x", "//triggers/x", "/a/../triggers/x"):
        for header in ("X-Forwarded-Uri", "X-Original-URI"):
            headers = {"X-API-Key": key, header: uri}
            assert await forward_auth(service, headers) == (200, "nvr-hook"), (header, uri)
    # Off its paths once resolved, or unjudgeable, or empty: refused.
    for uri in (
        "/triggersX",
        "/triggers.json",
        "/config",
        "/",
        "/triggers/../config",
        "/triggers/%2e%2e/config",
        "/triggers/%2E%2E/config",
        "/triggers%2fx",
        "/triggers\\..\\config",
        "/triggers/..;/config",
        "triggers/x",
        "",
    ):
        for header in ("X-Forwarded-Uri", "X-Original-URI"):
            headers = {"X-API-Key": key, header: uri}
            assert await forward_auth(service, headers) == (403, None), (header, uri)
    assert await forward_auth(service, {"X-API-Key": key}) == (403, None)
    disagreeing = {
        "X-API-Key": key,
        "X-Forwarded-Uri": "/triggers/x",
        "X-Original-URI": "/config",
    }
    assert await forward_auth(service, disagreeing) == (403, None)


async def test_a_webhook_key_is_refused_on_every_other_route(service: Service) -> None:
    key = (await create_key(service, "nvr-hook", "admin", ["/triggers/"]))["key"]
    headers = {
        "X-API-Key": key,
        "X-Forwarded-Uri": "/triggers/x",
        "Content-Type": "application/json",
    }
    values = {"{name}": "viewer", "{key_id}": "1", "{lockout_id}": "1", "{session_id}": "x"}
    checked: set[str] = set()
    for route in route_table(Pages()):
        if route.access in (Access.PUBLIC, Access.FORWARD_AUTH):
            continue
        path = route.path
        for placeholder, value in values.items():
            path = path.replace(placeholder, value)
        status = await status_of(service, route.method, path, headers, data=b"{}")
        assert status == 401, (route.method, route.path, status)
        checked.add(route.path)
    assert {"/api/profile", "/api/users", "/api/keys", "/api/events", "/api/ws"} <= checked
    await call(service, "GET", "/api/profile", 401, headers={"X-API-Key": key})
    await call(service, "GET", "/api/users", 401, headers={"X-API-Key": key})
    # Nothing was changed by the attempts above.
    assert await service.services.users.get("viewer") is not None
    assert len(await service.services.keys.list()) == 1


async def test_keys_are_exempt_from_the_origin_check_but_cookies_are_not(service: Service) -> None:
    key = await admin_key(service)
    foreign = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    user = {"username": "carol", "password": "amber willow rocket 5"}
    await call(service, "POST", "/api/users", 201, json=user, headers={**foreign, "X-API-Key": key})
    assert await service.services.users.get("carol") is not None

    await service.login("admin", ADMIN_PASSWORD)  # the session cookie is in the client's jar
    other = {"username": "dave", "password": "amber willow rocket 6"}
    await call(service, "POST", "/api/users", 403, json=other, headers=foreign)
    await call(service, "POST", "/api/users", 201, json=other)  # same cookie, same site: fine
    assert await service.services.users.get("dave") is not None


async def test_last_use_is_stored_when_uses_are_recorded(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    used = await create_key(service, "used", "viewer", auth=admin)
    idle = await create_key(service, "idle", "viewer", auth=admin)
    before = time.time()
    await call(service, "GET", "/api/profile", 200, headers={"X-API-Key": used["key"]})
    after = time.time()
    await service.services.keys.record_use()
    listed = {
        item["name"]: item for item in await call(service, "GET", "/api/keys", 200, headers=admin)
    }
    assert listed["used"]["last_used_at"] is not None
    assert before <= listed["used"]["last_used_at"] <= after
    assert listed["idle"]["last_used_at"] is None
    assert listed["idle"]["id"] == idle["id"]
