"""Logging in and out, the session cookie, changing one's password, and the public surface."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from http.cookies import Morsel, SimpleCookie
from typing import Any

import jwt
import pytest
from aiohttp import ClientResponse

from camauth.const import VERSION
from camauth.core.lockouts import MAX_IN_FLIGHT

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    stop_service,
    with_auth,
)

INVALID = {"error": "Invalid username or password", "code": "invalid_credentials"}
AUTH_REQUIRED = {"error": "Authentication required", "code": "unauthorized"}
SUCCESS = {"success": True}
NEW_PASSWORD = "granite willow ferry 58"
OTHER_USER = {"admin": ("viewer", VIEWER_PASSWORD), "viewer": ("admin", ADMIN_PASSWORD)}
ISO_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_morsel(response: ClientResponse) -> Morsel[str] | None:
    """The ``camauth_token`` Set-Cookie of a response, parsed."""
    found = None
    for header in response.headers.getall("Set-Cookie", []):
        parsed: SimpleCookie = SimpleCookie(header)
        if "camauth_token" in parsed:
            assert found is None, "two session cookies in one answer"
            found = parsed["camauth_token"]
    return found


async def post_login(service: Service, username: str, password: str) -> ClientResponse:
    client = await service.fresh_client()
    return await client.post(
        service.url("/api/login"), json={"username": username, "password": password}
    )


async def auth_status(service: Service, token: str) -> int:
    """What forward-auth says about a bearer token."""
    client = await service.fresh_client()
    response = await client.get(service.url("/api/auth"), headers=bearer(token))
    return response.status


@pytest.fixture
async def relaxed(start_service: ServiceFactory) -> Service:
    """No failed-login throttling, for tests that fail logins on purpose."""
    return await start_service(
        with_auth(failed_login_rate_limit="", failed_login_user_rate_limit="")
    )


async def test_login_answer(service: Service) -> None:
    before = int(time.time())
    response = await post_login(service, "admin", ADMIN_PASSWORD)
    assert response.status == 200
    body = await response.json()
    assert set(body) == {"token", "expires_at", "username", "role"}
    assert (body["username"], body["role"]) == ("admin", "admin")
    assert ISO_Z.fullmatch(body["expires_at"]), body["expires_at"]
    expires = dt.datetime.fromisoformat(body["expires_at"]).timestamp()
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert jwt.get_unverified_header(body["token"])["alg"] == "HS256"
    assert {"sub", "role", "iat", "exp", "jti"} <= set(claims)
    assert claims["exp"] == expires
    assert before + 86400 - 5 <= expires <= time.time() + 86400
    morsel = session_morsel(response)
    assert morsel is not None
    assert morsel.value == body["token"]


@pytest.mark.parametrize(
    ("changes", "max_age", "secure"),
    [
        ({}, 86400, False),
        ({"cookie_secure": True}, 86400, True),
        ({"session_length": 3600}, 3600, False),
    ],
    ids=["default", "secure", "short-session"],
)
async def test_cookie_attributes(
    start_service: ServiceFactory, changes: dict[str, Any], max_age: int, secure: bool
) -> None:
    service = await start_service(with_auth(**changes))
    response = await post_login(service, "viewer", VIEWER_PASSWORD)
    assert response.status == 200
    morsel = session_morsel(response)
    assert morsel is not None
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert bool(morsel["secure"]) is secure
    assert max_age - 5 <= int(morsel["max-age"]) <= max_age
    raw = next(h for h in response.headers.getall("Set-Cookie") if h.startswith("camauth_token="))
    assert ("Secure" in raw.split("; ")) is secure


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("admin", "not the admin password"),
        ("admin", ADMIN_PASSWORD.upper()),
        ("nobody", ADMIN_PASSWORD),
        ("", ADMIN_PASSWORD),
        ("viewer", ADMIN_PASSWORD),
    ],
    ids=["wrong-password", "password-case", "unknown-user", "empty-username", "other-password"],
)
async def test_failed_logins_look_alike(relaxed: Service, username: str, password: str) -> None:
    response = await post_login(relaxed, username, password)
    assert response.status == 401
    assert await response.json() == INVALID
    assert session_morsel(response) is None


@pytest.mark.parametrize("username", ["ADMIN", " admin", "admin ", "Admin", "\tadmin"])
async def test_login_username_is_case_insensitive_and_trimmed(
    service: Service, username: str
) -> None:
    response = await post_login(service, username, ADMIN_PASSWORD)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["username"], body["role"]) == ("admin", "admin")


@pytest.mark.parametrize("username", ["admin", "viewer"])
async def test_profile_by_cookie_and_bearer(service: Service, username: str) -> None:
    password = ADMIN_PASSWORD if username == "admin" else VIEWER_PASSWORD
    token = await service.login(username, password)
    expected = {"username": username, "role": username, "auth_method": "session"}
    response = await service.request("GET", "/api/profile")  # the cookie in the jar
    assert (response.status, await response.json()) == (200, expected)
    client = await service.fresh_client()
    response = await client.get(service.url("/api/profile"), headers=bearer(token))
    assert (response.status, await response.json()) == (200, expected)


async def test_profile_without_credentials(service: Service) -> None:
    response = await service.request("GET", "/api/profile")
    assert (response.status, await response.json()) == (401, AUTH_REQUIRED)


async def test_logout_revokes_the_session(service: Service) -> None:
    token = await service.login("viewer", VIEWER_PASSWORD)
    other = await service.login("viewer", VIEWER_PASSWORD)
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/logout"), headers={"Cookie": f"camauth_token={token}"}
    )
    assert (response.status, await response.json()) == (200, SUCCESS)
    morsel = session_morsel(response)
    assert morsel is not None
    assert morsel.value == ""
    assert morsel["max-age"] == "0"
    assert morsel["path"] == "/"
    # Revoked on the server: the very same token, as a bearer, is refused.
    assert await auth_status(service, token) == 401
    response = await client.get(service.url("/api/profile"), headers=bearer(token))
    assert (response.status, await response.json()) == (401, AUTH_REQUIRED)
    # Only that session ended.
    assert await auth_status(service, other) == 200


async def test_logout_clears_the_browser_cookie(service: Service) -> None:
    await service.login("admin", ADMIN_PASSWORD)
    response = await service.request("POST", "/api/logout")
    assert response.status == 200
    response = await service.request("GET", "/api/profile")
    assert response.status == 401


async def test_logout_with_bearer(service: Service) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    client = await service.fresh_client()
    response = await client.post(service.url("/api/logout"), headers=bearer(token))
    assert (response.status, await response.json()) == (200, SUCCESS)
    assert await auth_status(service, token) == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
async def test_logout_when_not_logged_in(service: Service, headers: dict[str, str]) -> None:
    client = await service.fresh_client()
    response = await client.post(service.url("/api/logout"), headers=headers)
    assert (response.status, await response.json()) == (200, SUCCESS)


async def change_password(
    service: Service, old: str, new: str, headers: dict[str, str] | None = None
) -> ClientResponse:
    return await service.request(
        "PUT", "/api/auth/password", json={"old_password": old, "password": new}, headers=headers
    )


async def test_change_password_needs_the_old_one(relaxed: Service) -> None:
    token = await relaxed.login("admin", ADMIN_PASSWORD)
    response = await change_password(relaxed, "wrong old password", NEW_PASSWORD)
    assert (response.status, await response.json()) == (
        401,
        {"error": "Current password is incorrect", "code": "wrong_password"},
    )
    assert session_morsel(response) is None
    assert await auth_status(relaxed, token) == 200
    assert (await post_login(relaxed, "admin", ADMIN_PASSWORD)).status == 200
    assert (await post_login(relaxed, "admin", NEW_PASSWORD)).status == 401


@pytest.mark.parametrize(
    ("new", "error"),
    [
        ("short pass", "Password must be at least 12 characters long"),
        ("password1234", "Password is too common; choose a longer phrase of unrelated words"),
        ("admin's brand new phrase", "Password must not contain the username"),
        ("tangerine\x00comet bridge", "Password must not contain control characters"),
    ],
)
async def test_change_password_enforces_the_policy(relaxed: Service, new: str, error: str) -> None:
    token = await relaxed.login("admin", ADMIN_PASSWORD)
    response = await change_password(relaxed, ADMIN_PASSWORD, new)
    assert (response.status, (await response.json())["error"]) == (400, error)
    assert await auth_status(relaxed, token) == 200
    assert (await post_login(relaxed, "admin", ADMIN_PASSWORD)).status == 200
    assert (await post_login(relaxed, "admin", new)).status == 401


@pytest.mark.parametrize(
    ("username", "password"), [("admin", ADMIN_PASSWORD), ("viewer", VIEWER_PASSWORD)]
)
async def test_change_password(relaxed: Service, username: str, password: str) -> None:
    other, other_password = OTHER_USER[username]
    bystander = await relaxed.login(other, other_password)  # someone else
    elsewhere = await relaxed.login(username, password)  # another device
    mine = await relaxed.login(username, password)  # this browser: the cookie in the jar

    response = await change_password(relaxed, password, NEW_PASSWORD)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert set(body) == {"token", "expires_at", "username", "role"}
    assert (body["username"], body["role"]) == (username, username)
    morsel = session_morsel(response)
    assert morsel is not None
    assert morsel.value == body["token"]

    # Every earlier session of the user ended at once; the fresh one works, via cookie too.
    assert await auth_status(relaxed, elsewhere) == 401
    assert await auth_status(relaxed, mine) == 401
    assert await auth_status(relaxed, body["token"]) == 200
    response = await relaxed.request("GET", "/api/profile")
    assert response.status == 200
    # Other users' sessions are untouched.
    assert await auth_status(relaxed, bystander) == 200
    assert (await post_login(relaxed, username, password)).status == 401
    assert (await post_login(relaxed, username, NEW_PASSWORD)).status == 200


async def test_change_password_needs_a_session(service: Service) -> None:
    response = await change_password(service, ADMIN_PASSWORD, NEW_PASSWORD)
    assert (response.status, await response.json()) == (401, AUTH_REQUIRED)


async def test_simultaneous_logins(service: Service) -> None:
    """People behind one address log in at the same moment: all of them get in."""
    responses = await asyncio.gather(
        *(post_login(service, "viewer", VIEWER_PASSWORD) for _ in range(MAX_IN_FLIGHT))
    )
    assert [response.status for response in responses] == [200] * MAX_IN_FLIGHT
    tokens = [(await response.json())["token"] for response in responses]
    assert len(set(tokens)) == MAX_IN_FLIGHT
    assert [await auth_status(service, token) for token in tokens] == [200] * MAX_IN_FLIGHT


async def test_logins_beyond_the_in_flight_cap_are_told_to_retry(relaxed: Service) -> None:
    """Past the per-key cap on attempts in progress, the rest get 429 and no session."""
    count = MAX_IN_FLIGHT + 12
    responses = await asyncio.gather(
        *(post_login(relaxed, "viewer", VIEWER_PASSWORD) for _ in range(count))
    )
    statuses = [response.status for response in responses]
    assert statuses.count(200) >= MAX_IN_FLIGHT
    assert set(statuses) <= {200, 429}
    assert all(r.headers.get("Retry-After") == "1" for r in responses if r.status == 429)
    tokens = [(await r.json())["token"] for r in responses if r.status == 200]
    assert len(set(tokens)) == len(tokens)
    assert {await auth_status(relaxed, token) for token in tokens} == {200}


async def test_sessions_survive_a_restart(start_service: ServiceFactory) -> None:
    first = await start_service()
    kept = await first.login("admin", ADMIN_PASSWORD)
    ended = await first.login("viewer", VIEWER_PASSWORD)
    client = await first.fresh_client()
    response = await client.post(first.url("/api/logout"), headers=bearer(ended))
    assert response.status == 200
    await stop_service(first)

    second = await start_service(data_dir=first.data_dir)
    assert await auth_status(second, kept) == 200
    assert await auth_status(second, ended) == 401
    client = await second.fresh_client()
    response = await client.get(
        second.url("/api/profile"), headers={"Cookie": f"camauth_token={kept}"}
    )
    assert (await response.json())["username"] == "admin"


CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_cross_site_logout_with_cookie_is_refused(
    service: Service, headers: dict[str, str]
) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    response = await service.request("POST", "/api/logout", headers=headers)
    assert response.status == 403
    assert "error" in await response.json()
    assert session_morsel(response) is None
    assert await auth_status(service, token) == 200
    # The same request carrying a bearer token is not something a browser does on its own.
    client = await service.fresh_client()
    response = await client.post(service.url("/api/logout"), headers={**headers, **bearer(token)})
    assert (response.status, await response.json()) == (200, SUCCESS)
    assert await auth_status(service, token) == 401


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_cross_site_password_change_with_cookie_is_refused(
    relaxed: Service, headers: dict[str, str]
) -> None:
    token = await relaxed.login("admin", ADMIN_PASSWORD)
    response = await change_password(relaxed, ADMIN_PASSWORD, NEW_PASSWORD, headers)
    assert response.status == 403
    assert "error" in await response.json()
    assert await auth_status(relaxed, token) == 200
    assert (await post_login(relaxed, "admin", NEW_PASSWORD)).status == 401
    client = await relaxed.fresh_client()
    response = await client.put(
        relaxed.url("/api/auth/password"),
        json={"old_password": ADMIN_PASSWORD, "password": NEW_PASSWORD},
        headers={**headers, **bearer(token)},
    )
    assert response.status == 200, await response.text()
    assert (await post_login(relaxed, "admin", NEW_PASSWORD)).status == 200


async def test_same_origin_with_cookie_is_allowed(service: Service) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    origin = service.url("/").rstrip("/")
    response = await service.request(
        "POST", "/api/logout", headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    )
    assert (response.status, await response.json()) == (200, SUCCESS)
    assert await auth_status(service, token) == 401


async def test_cross_site_login_is_refused(service: Service) -> None:
    response = await service.request(
        "POST",
        "/api/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        headers={"Origin": "http://evil.example"},
    )
    assert response.status == 403
    assert session_morsel(response) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/health", {"status": "ok"}),
        ("/api/healthz", {"status": "ok"}),
        ("/api/version", {"version": VERSION}),
        (
            "/api/auth/status",
            {
                "auth_enabled": True,
                "login_url": "/camauth/login",
                "logout_url": None,
                "homeassistant_login": False,
                "version": VERSION,
            },
        ),
    ],
)
async def test_public_endpoints(service: Service, path: str, expected: dict[str, Any]) -> None:
    response = await service.request("GET", path)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == expected


async def test_auth_status_when_disabled(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(enabled=False))
    response = await service.request("GET", "/api/auth/status")
    assert (await response.json())["auth_enabled"] is False


@pytest.mark.parametrize(
    "path", ["/nope", "/api/nope", "/api/users/viewer/nope", "/static/camauth/nope.js", "/api/"]
)
async def test_unknown_route(service: Service, path: str) -> None:
    response = await service.request("GET", path)
    assert response.status == 404
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "Not Found", "code": "not_found"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/health", "GET"),
        ("POST", "/api/version", "GET"),
        ("GET", "/api/login", "POST"),
        ("GET", "/api/logout", "POST"),
        ("POST", "/api/profile", "GET"),
        ("GET", "/api/auth/password", "PUT"),
        ("PATCH", "/api/users", "GET,POST"),
        ("POST", "/login", "GET"),
    ],
)
async def test_wrong_method(service: Service, method: str, path: str, allow: str) -> None:
    response = await service.request(method, path)
    assert response.status == 405
    assert response.content_type == "application/json"
    assert await response.json() == {"error": "Method Not Allowed", "code": "method_not_allowed"}
    assert set(response.headers["Allow"].split(",")) == set(allow.split(","))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/api/profile", 401),
        ("GET", "/api/auth", 401),
        ("POST", "/api/login", 415),
        ("GET", "/api/nope", 404),
        ("GET", "/login", 200),
        ("GET", "/static/camauth/login.js", 200),
        ("GET", "/nope", 404),
    ],
)
async def test_security_headers(service: Service, method: str, path: str, status: int) -> None:
    response = await service.request(method, path, allow_redirects=False)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if path.startswith("/api/"):
        assert response.headers["Cache-Control"] == "no-store"


async def test_login_page_headers(service: Service) -> None:
    response = await service.request("GET", "/login")
    assert response.status == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/login", "text/html"),
        ("/static/camauth/login.js", "text/javascript"),
        ("/static/camauth/camauth.css", "text/css"),
    ],
)
async def test_login_page_and_assets(service: Service, path: str, content_type: str) -> None:
    response = await service.request("GET", path)
    assert response.status == 200
    assert response.content_type == content_type
    assert response.charset == "utf-8"
    assert len(await response.read()) > 100


async def test_html_is_not_served_as_an_asset(service: Service) -> None:
    response = await service.request("GET", "/static/camauth/login.html")
    assert response.status == 404


async def test_root_goes_to_login(service: Service) -> None:
    response = await service.request("GET", "/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login"
