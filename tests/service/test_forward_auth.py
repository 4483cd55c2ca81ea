"""Forward-auth (``/api/auth``) as reverse proxies call it.

It answers 200 with ``Remote-User``/``Remote-Role``, 401 (with the way to the login page for
browser navigations) or 403, and nothing else; it never reads the proxied request's body, never
believes identity headers from the client, and sends people back only to paths on this host.
"""

from __future__ import annotations

import asyncio
import html
import time
from http.cookies import SimpleCookie
from ipaddress import ip_network
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import jwt
import pytest
from aiohttp import ClientResponse
from multidict import CIMultiDict

from camauth.core.redirects import safe_return_path
from tests.data import DATA

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    with_auth,
)

PAYLOADS = DATA / "openredirects.txt"
# The tests ask as a proxy on 127.0.0.1, which is trusted like a configured reverse proxy.
TRUSTING = with_auth(trusted_proxies=(ip_network("127.0.0.1/32"),))
UNAUTHORIZED = {"error": "Authentication required", "code": "unauthorized"}
READ_ONLY = {"error": "Viewers have read-only access", "code": "read_only"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
PASSWORDS = {"admin": ADMIN_PASSWORD, "viewer": VIEWER_PASSWORD}


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """CamAuth that trusts this test as its reverse proxy."""
    return await start_service(TRUSTING)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"camauth_token={token}"}


async def forward_auth(
    service: Service, headers: Any = None, method: str = "GET", **kwargs: Any
) -> ClientResponse:
    """Ask forward-auth from a client without cookies, as a proxy would."""
    client = await service.fresh_client()
    return await client.request(
        method, service.url("/api/auth"), headers=headers, allow_redirects=False, **kwargs
    )


async def assert_identity(response: ClientResponse, username: str, role: str) -> None:
    assert response.status == 200, await response.text()
    assert response.headers["Remote-User"] == username
    assert response.headers["Remote-Role"] == role


async def assert_unauthorized_json(response: ClientResponse) -> None:
    assert response.status == 401, await response.text()
    assert await response.json() == UNAUTHORIZED
    assert "Location" not in response.headers
    assert "Remote-User" not in response.headers


async def login_location(service: Service, headers: dict[str, str]) -> str:
    """The ``Location`` of a browser navigation without credentials, as nginx asks for it
    (``?proxy=nginx``: a 401 with the way to the login page); checks the page too."""
    client = await service.fresh_client()
    response = await client.get(
        service.url("/api/auth?proxy=nginx"),
        headers={**BROWSER, **headers},
        allow_redirects=False,
    )
    assert response.status == 401, await response.text()
    assert response.content_type == "text/html"
    assert "Remote-User" not in response.headers
    location = response.headers["Location"]
    page = await response.text()
    escaped = html.escape(location, quote=True)
    assert f'<a href="{escaped}">' in page
    assert f'content="0;url={escaped}"' in page
    return location


@pytest.fixture
async def tokens(service: Service) -> dict[str, str]:
    return {name: await service.login(name, password) for name, password in PASSWORDS.items()}


@pytest.mark.parametrize("carrier", [bearer, cookie], ids=["bearer", "cookie"])
@pytest.mark.parametrize("username", ["admin", "viewer"])
async def test_identity_headers(
    service: Service, tokens: dict[str, str], username: str, carrier: Any
) -> None:
    response = await forward_auth(service, carrier(tokens[username]))
    await assert_identity(response, username, username)
    assert await response.read() == b""


async def test_no_credentials_answers_json(service: Service) -> None:
    response = await forward_auth(service, {"Accept": "application/json"})
    await assert_unauthorized_json(response)
    response = await forward_auth(service)
    await assert_unauthorized_json(response)


@pytest.mark.parametrize(
    ("header", "value", "target"),
    [
        ("X-Forwarded-Uri", "/cams/front?zoom=2&x=<b>", "/cams/front?zoom=2&x=<b>"),
        ("X-Forwarded-Uri", '/"onmouseover="alert(1)', '/"onmouseover="alert(1)'),
        ("X-Original-URI", "/cams/back?t=1", "/cams/back?t=1"),
        ("X-Original-URL", "http://cam.local:8971/cams/side?a=1&b=2", "/cams/side?a=1&b=2"),
        ("X-Original-URL", "https://cam.local/live", "/live"),
    ],
)
async def test_browser_navigation_goes_to_login(
    service: Service, header: str, value: str, target: str
) -> None:
    location = await login_location(service, {header: value})
    assert location == "/camauth/login?rd=" + quote(target, safe="")


async def test_reflected_value_is_escaped_in_the_page(service: Service) -> None:
    response = await forward_auth(
        service, {**BROWSER, "X-Forwarded-Uri": "/x?<script>alert(1)</script>&q='\""}
    )
    page = await response.text()
    assert "<script>alert" not in page
    assert "'\"" not in page


@pytest.mark.parametrize("value", ["", "/"])
async def test_browser_navigation_to_the_root(service: Service, value: str) -> None:
    assert await login_location(service, {"X-Forwarded-Uri": value}) == "/camauth/login"
    assert await login_location(service, {}) == "/camauth/login"


async def test_forwarded_uri_comes_first(service: Service) -> None:
    headers = {"X-Forwarded-Uri": "/first", "X-Original-URI": "/second"}
    assert await login_location(service, headers) == "/camauth/login?rd=%2Ffirst"


@pytest.mark.parametrize(
    "value",
    [
        "//evil.com",
        "//evil.com/x",
        "/\\evil.com",
        "\\\\evil.com",
        "https://evil.com/x",
        "javascript:alert(1)",
        "evil.com",
        "/\t/evil.com",
        "/cams\tfront",
        "/cams\u0085front",
        "/cams\u009bfront",
    ],
)
@pytest.mark.parametrize("header", ["X-Forwarded-Uri", "X-Original-URI"])
async def test_hostile_return_address_collapses(service: Service, header: str, value: str) -> None:
    assert await login_location(service, {header: value}) == "/camauth/login"


async def test_undecodable_return_address_collapses(service: Service) -> None:
    reader, writer = await asyncio.open_connection(service.server.host, service.server.port)
    writer.write(
        b"GET /api/auth?proxy=nginx HTTP/1.1\r\nHost: cam.local\r\nConnection: close\r\n"
        b"Accept: text/html\r\nX-Forwarded-Uri: /cams\xff\x85front\r\n\r\n"
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    await writer.wait_closed()
    head = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert head[0] == b"HTTP/1.1 401 Unauthorized", answer
    assert b"Location: /camauth/login" in head, answer


def read_payloads() -> list[str]:
    return PAYLOADS.read_text(encoding="utf-8").split("\n")


async def test_every_open_redirect_payload_stays_on_this_host(service: Service) -> None:
    payloads = read_payloads()
    assert len(payloads) > 500
    client = await service.fresh_client()
    wrong: dict[str, str] = {}
    for payload in payloads:
        response = await client.get(
            service.url("/api/auth"),
            headers={**BROWSER, "X-Forwarded-Uri": payload},
            allow_redirects=False,
        )
        assert response.status == 302, (payload, await response.text())  # Traefik, Caddy
        location = response.headers["Location"]
        await response.read()
        if location == "/camauth/login":
            continue
        prefix, _, quoted = location.partition("?rd=")
        target = unquote(quoted)
        ok = (
            prefix == "/camauth/login"
            and quote(target, safe="") == quoted
            and safe_return_path(target) == target
            and urlsplit(urljoin("http://cam.local/", target)).netloc == "cam.local"
        )
        if not ok:
            wrong[payload] = location
    assert wrong == {}


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("POST", {}),
        ("DELETE", {}),
        ("PUT", {}),
        ("PATCH", {}),
        ("GET", {"X-Forwarded-Method": "POST"}),
        ("GET", {"X-Forwarded-Method": "delete"}),
        ("GET", {"X-Original-Method": "DELETE"}),
        ("GET", {"X-Forwarded-Method": "GET", "X-Original-Method": "PUT"}),
        ("POST", {"X-Forwarded-Method": "GET"}),
        ("GET", {"X-Forwarded-Method": ""}),
    ],
)
async def test_viewer_is_read_only(
    service: Service, tokens: dict[str, str], method: str, headers: dict[str, str]
) -> None:
    response = await forward_auth(service, {**bearer(tokens["viewer"]), **headers}, method)
    assert response.status == 403, await response.text()
    assert await response.json() == READ_ONLY
    assert "Remote-User" not in response.headers
    response = await forward_auth(service, {**cookie(tokens["viewer"]), **headers}, method)
    assert response.status == 403
    response = await forward_auth(service, {**bearer(tokens["admin"]), **headers}, method)
    await assert_identity(response, "admin", "admin")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Forwarded-Method": "GET"},
        {"X-Original-Method": "HEAD"},
        {"X-Forwarded-Method": "OPTIONS"},
    ],
)
async def test_viewer_may_read(
    service: Service, tokens: dict[str, str], headers: dict[str, str]
) -> None:
    response = await forward_auth(service, {**bearer(tokens["viewer"]), **headers})
    await assert_identity(response, "viewer", "viewer")


@pytest.mark.parametrize("method", METHODS)
async def test_every_method_is_accepted(
    service: Service, tokens: dict[str, str], method: str
) -> None:
    response = await forward_auth(service, bearer(tokens["admin"]), method)
    await assert_identity(response, "admin", "admin")
    response = await forward_auth(service, {"Accept": "application/json"}, method)
    assert response.status == 401
    if method != "HEAD":
        assert await response.json() == UNAUTHORIZED


async def test_big_body_is_never_read(service: Service, tokens: dict[str, str]) -> None:
    body = b"x" * (1024 * 1024)
    response = await forward_auth(service, {"Accept": "application/json"}, "POST", data=body)
    await assert_unauthorized_json(response)
    response = await forward_auth(service, bearer(tokens["admin"]), "POST", data=body)
    await assert_identity(response, "admin", "admin")


async def test_answer_does_not_wait_for_a_body(service: Service, tokens: dict[str, str]) -> None:
    """A body announced but never sent: the answer comes anyway (nothing waits to read it)."""
    reader, writer = await asyncio.open_connection(service.server.host, service.server.port)
    writer.write(
        b"POST /api/auth HTTP/1.1\r\nHost: cam.local\r\nContent-Length: 100000000\r\n"
        b"Authorization: Bearer " + tokens["admin"].encode() + b"\r\n\r\n"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    writer.close()
    await writer.wait_closed()
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Remote-User: admin" in lines


@pytest.mark.parametrize(
    "values",
    [
        ["Bearer a", "Bearer b"],
        ["admin-token", "Bearer b"],
        ["admin-token", "admin-token"],
        ["Bearer b", "admin-token"],
    ],
)
async def test_duplicate_authorization_headers(
    service: Service, tokens: dict[str, str], values: list[str]
) -> None:
    token = f"Bearer {tokens['admin']}"
    headers = CIMultiDict(
        [("Accept", "application/json")]
        + [("Authorization", token if value == "admin-token" else value) for value in values]
    )
    response = await forward_auth(service, headers)
    await assert_unauthorized_json(response)


async def test_duplicate_session_cookies(service: Service, tokens: dict[str, str]) -> None:
    headers = {
        "Accept": "application/json",
        "Cookie": f"camauth_token={tokens['viewer']}; camauth_token={tokens['admin']}",
    }
    await assert_unauthorized_json(await forward_auth(service, headers))


SPOOFED = [
    {"Remote-User": "admin"},
    {"Remote-Role": "admin"},
    {"Remote-User": "admin", "Remote-Role": "admin", "Remote-Groups": "admins"},
    {"X-Forwarded-User": "admin"},
    {"Remote_User": "admin", "Remote_Role": "admin"},
    {"X-Remote-User": "admin"},
    {"X-Forwarded-Preferred-Username": "admin", "X-Forwarded-Groups": "admin"},
    {"User-Agent": "kube-probe/1.29"},
    {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"},
]


@pytest.mark.parametrize("spoofed", SPOOFED)
async def test_spoofed_identity_headers(
    service: Service, tokens: dict[str, str], spoofed: dict[str, str]
) -> None:
    response = await forward_auth(service, {"Accept": "application/json", **spoofed})
    await assert_unauthorized_json(response)
    response = await forward_auth(service, {**spoofed, **cookie(tokens["viewer"])})
    await assert_identity(response, "viewer", "viewer")
    assert response.headers.getall("Remote-User") == ["viewer"]
    assert response.headers.getall("Remote-Role") == ["viewer"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_auth_disabled(start_service: ServiceFactory, method: str) -> None:
    service = await start_service(with_auth(enabled=False))
    response = await forward_auth(service, {"X-Forwarded-Method": method}, method)
    await assert_identity(response, "anonymous", "admin")


def session_cookie(response: ClientResponse) -> str | None:
    for header in response.headers.getall("Set-Cookie", []):
        parsed: SimpleCookie = SimpleCookie(header)
        if "camauth_token" in parsed:
            return parsed["camauth_token"].value
    return None


def expiry(token: str) -> int:
    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


async def test_cookie_is_refreshed_near_expiry(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(session_length=3600, refresh_time=3599))
    token = await service.login("viewer", VIEWER_PASSWORD)
    # Wait until less than refresh_time remains (at most about a second).
    await asyncio.sleep(max(0.0, expiry(token) - 3599 - time.time() + 0.05))

    response = await forward_auth(service, cookie(token))
    await assert_identity(response, "viewer", "viewer")
    refreshed = session_cookie(response)
    assert refreshed is not None
    assert refreshed != token
    assert expiry(refreshed) > expiry(token)
    response = await forward_auth(service, cookie(refreshed))
    await assert_identity(response, "viewer", "viewer")

    # A bearer token is not a cookie: nothing to refresh.
    response = await forward_auth(service, bearer(token))
    await assert_identity(response, "viewer", "viewer")
    assert session_cookie(response) is None


async def test_cookie_is_not_refreshed_early(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(session_length=3600, refresh_time=60))
    token = await service.login("viewer", VIEWER_PASSWORD)
    response = await forward_auth(service, cookie(token))
    await assert_identity(response, "viewer", "viewer")
    assert response.headers.getall("Set-Cookie", []) == []


CROSS_SITE_CASES = [
    # (headers of the browser's request, as the proxy passes them along; refused?)
    ({"Origin": "https://evil.example.com"}, True),
    ({"Origin": "null"}, True),
    ({"Origin": "http://[::1"}, True),  # not even a URL
    ({"Sec-Fetch-Site": "cross-site"}, True),
    ({"Origin": "https://evil.example.com", "Sec-Fetch-Site": "same-site"}, True),
    ({"Origin": "https://cam.example.com", "X-Forwarded-Host": "cam.example.com"}, False),
    ({"Sec-Fetch-Site": "same-origin"}, False),
    ({}, False),  # no Origin: not a browser's cross-site form or fetch
]


@pytest.mark.parametrize(("sent", "refused"), CROSS_SITE_CASES)
@pytest.mark.parametrize("ask", ["X-Forwarded-Method", "X-Original-Method"])
async def test_a_cookie_s_unsafe_request_from_another_site_is_refused(
    service: Service, tokens: dict[str, str], ask: str, sent: dict[str, str], refused: bool
) -> None:
    headers = {**cookie(tokens["admin"]), ask: "POST", "X-Forwarded-Uri": "/api/config", **sent}
    for _ in range(2):  # and the same again, which a remembered answer may serve
        response = await forward_auth(service, headers)
        if refused:
            assert response.status == 403, await response.text()
            assert (await response.json())["code"] == "cross_site"
        else:
            await assert_identity(response, "admin", "admin")


async def test_a_remembered_allow_is_not_served_to_another_site(
    service: Service, tokens: dict[str, str]
) -> None:
    asked = {**cookie(tokens["admin"]), "X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/x"}
    for _ in range(2):
        await assert_identity(await forward_auth(service, asked), "admin", "admin")
    evil = {**asked, "Origin": "https://evil.example.com"}
    assert (await forward_auth(service, evil)).status == 403


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
async def test_a_safe_request_from_another_site_passes(
    service: Service, tokens: dict[str, str], method: str
) -> None:
    headers = {**cookie(tokens["viewer"]), "X-Forwarded-Method": method}
    response = await forward_auth(service, {**headers, "Origin": "https://elsewhere.example"})
    await assert_identity(response, "viewer", "viewer")


async def test_a_bearer_token_from_another_site_is_not_a_browser_s(
    service: Service, tokens: dict[str, str]
) -> None:
    headers = {**bearer(tokens["admin"]), "X-Forwarded-Method": "POST"}
    response = await forward_auth(service, {**headers, "Origin": "https://elsewhere.example"})
    await assert_identity(response, "admin", "admin")
