"""CSRF: cookie-authenticated state changes from another site are refused; bearers are not."""

from __future__ import annotations

import contextlib
from ipaddress import ip_network
from typing import Any

import pytest

from camauth.core import events
from camauth.errors import Unauthorized

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    checked_user,
    with_auth,
)
from .helpers import Collector, bearer, token_for

NEW_PASSWORD = "granite valley orchard 5"
CROSS_SITE = {"error": "Cross-site request refused", "code": "cross_site"}
CROSS_ORIGIN = {"error": "Cross-origin request refused", "code": "cross_site"}

STATE_CHANGES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/logout", None),
    ("PUT", "/api/auth/password", {"old_password": ADMIN_PASSWORD, "password": NEW_PASSWORD}),
    ("POST", "/api/users", {"username": "mallory", "password": NEW_PASSWORD, "role": "admin"}),
    ("DELETE", "/api/users/viewer", None),
    ("PUT", "/api/users/viewer/role", {"role": "admin"}),
    ("PUT", "/api/users/viewer/password", {"password": NEW_PASSWORD}),
    ("POST", "/api/users/viewer/reset_password", {"password": NEW_PASSWORD}),
    ("POST", "/api/users/viewer/revoke_sessions", None),
    ("POST", "/api/keys", {"name": "stolen", "role": "admin"}),
    ("DELETE", "/api/lockouts", None),
    ("DELETE", "/api/lockouts/1", None),
]


async def _snapshot(service: Service, admin: str, viewer: str) -> dict[str, Any]:
    users = await (await service.request("GET", "/api/users", headers=bearer(admin))).json()
    keys = await (await service.request("GET", "/api/keys", headers=bearer(admin))).json()
    lockouts = await (await service.request("GET", "/api/lockouts", headers=bearer(admin))).json()
    profile = await service.request("GET", "/api/profile")  # the cookie session
    viewer_profile = await service.request("GET", "/api/profile", headers=bearer(viewer))
    return {
        "users": users,
        "keys": keys,
        "lockouts": [(item["id"], item["key"]) for item in lockouts],
        "cookie_session": profile.status,
        "viewer_session": viewer_profile.status,
        "admin_password": await checked_user(service, "admin", ADMIN_PASSWORD) is not None,
        "viewer_password": await checked_user(service, "viewer", VIEWER_PASSWORD) is not None,
    }


async def _cookie_service(start_service: ServiceFactory) -> tuple[Service, str, str]:
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    await service.login("admin", ADMIN_PASSWORD)  # the cookie lands in the shared jar
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    for _ in range(5):  # a lockout, so that lifting it would show
        with contextlib.suppress(Unauthorized):
            await service.services.logins.login("viewer", "wrong", "198.51.100.9")
    assert len(service.services.lockouts.lockouts()) == 1
    return service, admin, viewer


HOSTILE = [
    pytest.param({"Sec-Fetch-Site": "cross-site"}, CROSS_SITE, id="sec-fetch-cross-site"),
    pytest.param({"Sec-Fetch-Site": "Cross-Site"}, CROSS_SITE, id="sec-fetch-mixed-case"),
    pytest.param({"Origin": "http://evil.example"}, CROSS_ORIGIN, id="foreign-origin"),
    pytest.param({"Origin": "null"}, CROSS_ORIGIN, id="null-origin"),
    pytest.param({"Origin": ""}, CROSS_ORIGIN, id="empty-origin"),
    pytest.param({"Origin": "http://127.0.0.1.evil.example"}, CROSS_ORIGIN, id="lookalike"),
    pytest.param({"Origin": "http://[::1"}, CROSS_ORIGIN, id="not-a-url"),  # was a 500
    pytest.param(
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"},
        CROSS_ORIGIN,
        id="foreign-origin-despite-sec-fetch",
    ),
]


@pytest.mark.parametrize(("headers", "error"), HOSTILE)
async def test_cross_site_cookie_requests_are_refused(
    start_service: ServiceFactory, headers: dict[str, str], error: dict[str, str]
) -> None:
    service, admin, viewer = await _cookie_service(start_service)
    seen = Collector(service.services.bus)
    before = await _snapshot(service, admin, viewer)
    assert before["cookie_session"] == 200
    for method, path, body in STATE_CHANGES:
        response = await service.request(method, path, json=body, headers=headers)
        assert response.status == 403, (method, path)
        assert await response.json() == error, (method, path)
    assert await _snapshot(service, admin, viewer) == before
    assert seen.items == []


async def test_another_port_is_another_origin(start_service: ServiceFactory) -> None:
    service, admin, viewer = await _cookie_service(start_service)
    before = await _snapshot(service, admin, viewer)
    port = service.server.port
    for origin in (f"http://127.0.0.1:{port + 1}", "http://127.0.0.1", "http://localhost"):
        response = await service.request(
            "PUT", "/api/users/viewer/role", json={"role": "admin"}, headers={"Origin": origin}
        )
        assert (response.status, await response.json()) == (403, CROSS_ORIGIN), origin
    assert await _snapshot(service, admin, viewer) == before


def _same_origin(service: Service) -> list[dict[str, str]]:
    own = f"http://127.0.0.1:{service.server.port}"
    return [
        {"Origin": own},
        {"Origin": own.upper()},
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": own, "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
        {},  # no browser headers at all (curl, scripts)
    ]


async def test_same_origin_cookie_requests_are_allowed(start_service: ServiceFactory) -> None:
    service, _, _ = await _cookie_service(start_service)
    for i, headers in enumerate(_same_origin(service)):
        name = f"family{i}"
        body = {"username": name, "password": NEW_PASSWORD, "role": "viewer"}
        response = await service.request("POST", "/api/users", json=body, headers=headers)
        assert response.status == 201, (headers, await response.text())
        response = await service.request(
            "PUT", f"/api/users/{name}/role", json={"role": "admin"}, headers=headers
        )
        assert (response.status, await response.json()) == (200, {"success": True})
        response = await service.request("DELETE", f"/api/users/{name}", headers=headers)
        assert (response.status, await response.json()) == (200, {"success": True})
    response = await service.request(
        "DELETE", "/api/lockouts", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert (response.status, await response.json()) == (200, {"success": True, "lifted": 1})


async def test_bearer_requests_are_not_ambient(start_service: ServiceFactory) -> None:
    service, admin, _ = await _cookie_service(start_service)
    client = await service.fresh_client()
    hostile = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site", **bearer(admin)}
    body = {"username": "scripted", "password": NEW_PASSWORD, "role": "viewer"}
    response = await client.post(service.url("/api/users"), json=body, headers=hostile)
    assert response.status == 201, await response.text()
    response = await client.put(
        service.url("/api/users/scripted/role"), json={"role": "admin"}, headers=hostile
    )
    assert (response.status, await response.json()) == (200, {"success": True})
    response = await client.delete(service.url("/api/users/scripted"), headers=hostile)
    assert (response.status, await response.json()) == (200, {"success": True})
    response = await client.delete(service.url("/api/lockouts"), headers=hostile)
    assert (response.status, await response.json()) == (200, {"success": True, "lifted": 1})
    response = await client.post(service.url("/api/logout"), headers=hostile)
    assert (response.status, await response.json()) == (200, {"success": True})
    response = await client.get(service.url("/api/profile"), headers=bearer(admin))
    assert response.status == 401


async def test_a_bad_bearer_does_not_lend_its_exemption_to_the_cookie(
    start_service: ServiceFactory,
) -> None:
    service, admin, viewer = await _cookie_service(start_service)
    before = await _snapshot(service, admin, viewer)
    for authorization in ("Bearer not-a-token", "Bearer ", "Basic YWRtaW46eA=="):
        response = await service.request(
            "DELETE",
            "/api/users/viewer",
            headers={"Authorization": authorization, "Origin": "http://evil.example"},
        )
        assert (response.status, await response.json()) == (403, CROSS_ORIGIN), authorization
    assert await _snapshot(service, admin, viewer) == before


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"Origin": "http://evil.example"}, CROSS_ORIGIN),
        ({"Origin": "null"}, CROSS_ORIGIN),
        ({"Sec-Fetch-Site": "cross-site"}, CROSS_SITE),
    ],
)
async def test_login_csrf_is_refused(
    service: Service, headers: dict[str, str], error: dict[str, str]
) -> None:
    seen = Collector(service.services.bus)
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"),
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers=headers,
    )
    assert (response.status, await response.json()) == (403, error)
    assert "camauth_token" not in response.cookies
    assert seen.of(events.LOGIN_SUCCEEDED) == []
    assert seen.of(events.LOGIN_FAILED) == []


async def _login_via_proxy(service: Service, headers: dict[str, str]) -> tuple[int, Any]:
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"),
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers=headers,
    )
    return response.status, await response.json()


async def test_forwarded_host_counts_from_a_trusted_proxy(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(trusted_proxies=(ip_network("127.0.0.1/32"),)))
    origin = {"Origin": "http://cams.example"}
    status, body = await _login_via_proxy(service, {**origin, "X-Forwarded-Host": "cams.example"})
    assert status == 200, body
    assert await _login_via_proxy(service, origin) == (403, CROSS_ORIGIN)
    assert await _login_via_proxy(service, {**origin, "X-Forwarded-Host": "other.example"}) == (
        403,
        CROSS_ORIGIN,
    )


async def test_forwarded_host_is_ignored_from_anyone_else(service: Service) -> None:
    headers = {"Origin": "http://cams.example", "X-Forwarded-Host": "cams.example"}
    assert await _login_via_proxy(service, headers) == (403, CROSS_ORIGIN)


UNSUPPORTED = {"error": "Content-Type must be application/json", "code": "not_json"}
NON_JSON_BODIES = [
    pytest.param("text/plain", b'{"username": "admin", "password": "x"}', id="text-plain"),
    pytest.param(
        "application/x-www-form-urlencoded", b"username=admin&password=x", id="form-urlencoded"
    ),
    pytest.param(
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin\r\n--b--\r\n',
        id="multipart",
    ),
    pytest.param("", b'{"username": "admin", "password": "x"}', id="no-content-type"),
]


@pytest.mark.parametrize(("content_type", "body"), NON_JSON_BODIES)
async def test_json_endpoints_refuse_other_bodies(
    service: Service, content_type: str, body: bytes
) -> None:
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    headers = {"Content-Type": content_type} if content_type else {}
    response = await service.request("POST", "/api/login", data=body, headers=headers)
    assert (response.status, await response.json()) == (415, UNSUPPORTED)
    user_body = body.replace(b'"x"', b'"granite valley orchard 5"')
    response = await service.request(
        "POST", "/api/users", data=user_body, headers={**headers, **bearer(admin)}
    )
    assert (response.status, await response.json()) == (415, UNSUPPORTED)
    response = await service.request(
        "PUT", "/api/users/viewer/role", data=b"role=admin", headers={**headers, **bearer(admin)}
    )
    assert (response.status, await response.json()) == (415, UNSUPPORTED)
    users = await service.services.users.list()
    assert [(user.username, user.role) for user in users] == [
        ("admin", "admin"),
        ("viewer", "viewer"),
    ]
