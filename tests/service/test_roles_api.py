"""Custom roles through the API, and forward-auth judging by them."""

from __future__ import annotations

from typing import Any

from .conftest import ADMIN_PASSWORD, Service

STRONG = "tangerine comet bridge 9"
FRONT = {
    "name": "front",
    "description": "The front door, live",
    "rules": [{"paths": ["/", "/assets/**", "/api/*/latest.*"], "methods": ["GET", "HEAD"]}],
    "presets": ["go2rtc_webrtc"],
    "cameras": ["front_door"],
}


async def api(service: Service, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    token = await service.login("admin", ADMIN_PASSWORD)
    async with (await service.fresh_client()).request(
        method, service.url(path), headers={"Authorization": f"Bearer {token}"}, **kwargs
    ) as response:
        return response.status, await response.json()


async def forward(service: Service, token: str, method: str, uri: str) -> tuple[int, str | None]:
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Forwarded-Method": method,
        "X-Forwarded-Uri": uri,
    }
    async with (await service.fresh_client()).get(
        service.url("/api/auth"), headers=headers
    ) as response:
        return response.status, response.headers.get("Remote-Role")


async def test_roles_are_listed_created_changed_and_deleted(service: Service) -> None:
    status, roles = await api(service, "GET", "/api/roles")
    assert status == 200
    assert [(r["name"], r["builtin"]) for r in roles] == [("admin", True), ("viewer", True)]
    status, created = await api(service, "POST", "/api/roles", json=FRONT)
    assert status == 201
    assert created == {
        **FRONT,
        "builtin": False,
        "rules": [{"paths": ["/", "/assets/**", "/api/*/latest.*"], "methods": ["GET", "HEAD"]}],
    }
    assert (await api(service, "POST", "/api/roles", json=FRONT))[0] == 409
    status, changed = await api(service, "PUT", "/api/roles/front", json={"cameras": None})
    assert (status, changed["cameras"], changed["rules"]) == (200, None, [])
    status, presets = await api(service, "GET", "/api/roles/presets")
    assert {p["name"] for p in presets} == {"go2rtc_webrtc", "mediamtx_whep", "frigate_review"}
    assert (await api(service, "DELETE", "/api/roles/front"))[0] == 200
    status, body = await api(service, "DELETE", "/api/roles/front")
    assert (status, body["code"]) == (404, "role_not_found")


async def test_built_in_roles_cannot_be_changed_or_deleted(service: Service) -> None:
    for method, path, kwargs in [
        ("POST", "/api/roles", {"json": {"name": "viewer"}}),
        ("PUT", "/api/roles/admin", {"json": {}}),
        ("DELETE", "/api/roles/viewer", {}),
    ]:
        status, body = await api(service, method, path, **kwargs)
        assert (status, body["code"]) == (400, "builtin_role"), (method, path)


async def test_a_role_in_use_stays_and_an_unknown_one_cannot_be_given(service: Service) -> None:
    await api(service, "POST", "/api/roles", json=FRONT)
    status, _ = await api(
        service, "POST", "/api/users", json={"username": "kid", "password": STRONG, "role": "front"}
    )
    assert status == 201
    status, body = await api(service, "DELETE", "/api/roles/front")
    assert (status, body["code"]) == (409, "role_in_use")
    status, body = await api(service, "PUT", "/api/users/kid/role", json={"role": "nobody"})
    assert (status, body["code"]) == (400, "invalid_role")
    status, body = await api(service, "POST", "/api/keys", json={"name": "k", "role": "nobody"})
    assert (status, body["code"]) == (400, "invalid_role")
    users = (await api(service, "GET", "/api/users"))[1]
    assert {u["username"]: u["role"] for u in users}["kid"] == "front"


async def test_forward_auth_judges_by_the_custom_role(service: Service) -> None:
    await api(service, "POST", "/api/roles", json=FRONT)
    await api(
        service, "POST", "/api/users", json={"username": "kid", "password": STRONG, "role": "front"}
    )
    token = await service.login("kid", STRONG)
    assert await forward(service, token, "GET", "/") == (200, "front")
    assert await forward(service, token, "GET", "/api/front_door/latest.jpg") == (200, "front")
    assert (await forward(service, token, "GET", "/api/garage/latest.jpg"))[0] == 403
    assert (await forward(service, token, "GET", "/api/config"))[0] == 403  # no rule for it
    assert await forward(service, token, "POST", "/api/webrtc?src=front_door") == (200, "front")
    assert (await forward(service, token, "POST", "/api/webrtc?src=garage"))[0] == 403
    # Judged on the canonical path: spellings of another camera's path are that path.
    for uri in (
        "/api/x/../garage/latest.jpg",
        "/api//garage/latest.jpg",
        "/api/%67arage/latest.jpg",
    ):
        assert (await forward(service, token, "GET", uri))[0] == 403, uri
    # A change to the role applies to the very next request.
    changed = {key: value for key, value in FRONT.items() if key != "name"}
    await api(service, "PUT", "/api/roles/front", json={**changed, "cameras": ["garage"]})
    assert (await forward(service, token, "GET", "/api/front_door/latest.jpg"))[0] == 403
    assert (await forward(service, token, "GET", "/api/garage/latest.jpg"))[0] == 200


async def test_the_viewer_watches_over_webrtc_but_changes_nothing(service: Service) -> None:
    token = await service.login("viewer", "quiet harbor lantern 7")
    assert await forward(service, token, "POST", "/api/go2rtc/api/webrtc?src=x") == (200, "viewer")
    assert await forward(service, token, "POST", "/cam1/whep") == (200, "viewer")
    assert await forward(service, token, "POST", "/api/reviews/viewed") == (200, "viewer")
    for method, uri in [
        ("POST", "/api/config/save"),
        ("PUT", "/api/x"),
        ("DELETE", "/api/events/1"),
    ]:
        assert (await forward(service, token, method, uri))[0] == 403, (method, uri)
