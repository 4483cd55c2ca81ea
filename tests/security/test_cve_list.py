"""One test per applicable row of PRODUCT.md's CVE list, named after the advisory."""

from __future__ import annotations

import json
import random
import re
import string
import time
from dataclasses import replace
from ipaddress import ip_network
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from aiohttp import ClientSession

from camauth.core.lockouts import MAX_CLIENT_KEYS, MAX_UNKNOWN_USER_KEYS, Attempt
from camauth.options import ProxySettings, Settings
from tests.data import DATA
from tests.service.test_access_matrix import PUBLIC

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    checked_user,
    with_auth,
)
from .helpers import (
    ADMIN_REQUIRED,
    AUTH_REQUIRED,
    INVALID_CREDENTIALS,
    TOO_MANY,
    bearer,
    login_status,
    raw_exchange,
    raw_get,
    token_for,
)

PAYLOADS = DATA / "openredirects.txt"
STRONG = "granite valley orchard 5"

# Routes anyone may call (one list, kept by the access matrix); the rest answer 401.
PUBLIC_ROUTES = PUBLIC
PAGES = {("GET", "/admin")}  # for admins; an anonymous browser is sent to the login page
# Routes a viewer may call besides the public ones; everything else answers 403.
VIEWER_ROUTES = {("GET", "/api/profile"), ("PUT", "/api/auth/password"), ("*", "/api/auth")}
PARAMS = {"name": "admin", "lockout_id": "1", "key_id": "1", "session_id": "0123456789abcdef"}
ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _routes(service: Service) -> list[tuple[str, str]]:
    found = set()
    for route in service.server.app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        found.add((route.method, canonical))
    return sorted(found)


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PARAMS[match.group(1)], path)


async def _state(service: Service) -> list[tuple[str, str]]:
    users = await service.services.users.list()
    assert await checked_user(service, "admin", ADMIN_PASSWORD) is not None
    return [(user.username, user.role) for user in users]


async def _call(
    client: ClientSession, service: Service, method: str, path: str, headers: dict[str, str]
) -> tuple[int, Any]:
    body = None if method in ("GET", "HEAD", "OPTIONS") else {}
    response = await client.request(
        method, service.url(path), json=body, headers=headers, allow_redirects=False
    )
    text = await response.text()
    is_json = response.content_type == "application/json" and method != "HEAD"
    return response.status, json.loads(text) if text and is_json else None


async def test_ghsa_vg28_83rp_8xx4_every_route_denies_by_default(service: Service) -> None:
    """Frigate GHSA-vg28-83rp-8xx4 / CVE-2026-75607 / CVE-2026-75608: walk every route."""
    routes = _routes(service)
    assert set(routes) >= PUBLIC_ROUTES
    assert set(routes) >= VIEWER_ROUTES
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    before = await _state(service)
    anonymous = await service.fresh_client()
    checked = 0
    for route_method, path in routes:
        if (route_method, path) in PUBLIC_ROUTES:
            continue
        methods = ANY_METHOD if route_method == "*" else (route_method,)
        for method in methods:
            status, body = await _call(anonymous, service, method, _concrete(path), {})
            if (route_method, path) in PAGES:  # a page sends the browser to log in instead
                assert status == 302, (method, path, body)
            else:
                assert status == 401, (method, path, body)
                assert body in (AUTH_REQUIRED, None), (method, path)
            status, body = await _call(anonymous, service, method, _concrete(path), bearer(viewer))
            if (route_method, path) == ("*", "/api/auth"):
                expected = 200 if method in ("GET", "HEAD", "OPTIONS") else 403
                assert status == expected, (method, path, body)
            elif (route_method, path) == ("GET", "/api/profile"):
                assert (status, body["username"], body["role"]) == (200, "viewer", "viewer")
            elif (route_method, path) == ("PUT", "/api/auth/password"):
                assert status == 400, body  # allowed: it fails only on the empty body
                assert body["error"].startswith("Missing field"), body
            elif (route_method, path) == ("GET", "/api/onboarding"):
                assert (status, body["code"]) == (403, "ingress_required"), body
            else:
                assert (status, body) == (403, ADMIN_REQUIRED), (method, path)
            checked += 1
    assert checked >= 20
    assert await _state(service) == before


async def test_ghsa_vg28_83rp_8xx4_websocket_needs_admin(service: Service) -> None:
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    client = await service.fresh_client()
    for headers, status in (({}, 401), (bearer(viewer), 403)):
        response = await client.get(
            service.url("/api/ws"),
            headers={
                **headers,
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert response.status == status


SNEAKY_PATHS = [
    "/api/users/../users",
    "/api/users/./",
    "/api//users",
    "//api/users",
    "/API/users",
    "/Api/Users",
    "%2Fapi%2Fusers",
    "/%2Fapi%2Fusers",
    "/api%2Fusers",
    "/api/users/",
    "/api/./users",
    "/api/users%2f",
    "/api/%2e%2e/api/users",
    "/api/users/%2e%2e/users",
    "/api../users",
    "/api/health/../users",
    "/login/../api/users",
    "/static/camauth/..%2f..%2fapi/users",
    "/api/users;/",
    "/api/users%00",
    "/api/users%20",
    "/api/users?/api/health",
    "/api/health/..;/users",
    "/api/%75sers",
]
DENIED = (400, 401, 403, 404, 405)


@pytest.mark.parametrize("path", SNEAKY_PATHS)
async def test_ghsa_x2ch_xx8f_normalised_paths_never_leak_users(
    service: Service, path: str
) -> None:
    """Frigate GHSA-x2ch-x8hv-75xf and Traefik CVE-2025-66490 / CVE-2026-40912 / -48020."""
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    port = service.server.port
    for headers in ((f"Authorization: Bearer {viewer}",), ()):
        response = await raw_exchange(port, raw_get(path, port, *headers))
        assert response.status in DENIED, (path, response.status, response.body[:200])
        assert b'"username"' not in response.body


SNEAKY_CHANGES = [
    ("DELETE", "/api/users/viewer/../admin"),
    ("DELETE", "/api/users/admin%2F"),
    ("DELETE", "/api/users/%61dmin"),
    ("DELETE", "/api/users/ADMIN"),
    ("PUT", "/api/users/admin/./role"),
    ("PUT", "/api/users/admin%2Frole"),
    ("PUT", "/api/users//admin/password"),
    ("DELETE", "/api/lockouts/../users/admin"),
]


@pytest.mark.parametrize(("method", "path"), SNEAKY_CHANGES)
async def test_ghsa_x2ch_xx8f_sneaky_changes_by_a_viewer(
    service: Service, method: str, path: str
) -> None:
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    port = service.server.port
    body = json.dumps({"role": "viewer", "password": STRONG})
    request = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {viewer}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
    ).encode()
    response = await raw_exchange(port, request)
    assert response.status in DENIED, (path, response.status)
    assert response.status != 200
    assert await _state(service) == [("admin", "admin"), ("viewer", "viewer")]


MALFORMED_REQUESTS = [
    pytest.param(b"GET /api/auth HTTP/1.1 extra\r\n", id="extra-token"),
    pytest.param(b"GET /api/auth\x00 HTTP/1.1\r\n", id="nul-in-uri"),
    pytest.param(b"GET /api/au th HTTP/1.1\r\n", id="space-in-uri"),
    pytest.param(b"GET /api/auth HTTP/7.0\r\n", id="bad-version"),
    pytest.param(b"GET /api/auth HTTP/1.1\r\n\x01bad: header\r\n", id="bad-header-name"),
    pytest.param(b"G\x01T /api/auth HTTP/1.1\r\n", id="bad-method"),
    pytest.param(b"GET /api/auth?" + b"a" * 100_000 + b" HTTP/1.1\r\n", id="absurd-uri"),
    pytest.param(
        b"GET /api/auth HTTP/1.1\r\nX-Long: " + b"a" * 100_000 + b"\r\n", id="huge-header"
    ),
    pytest.param(
        b"GET /api/auth HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        id="cl-and-te",
    ),
    pytest.param(b"GET /api/auth HTTP/1.1\r\nContent-Length: -1\r\n", id="negative-length"),
    pytest.param(b"GET /api/auth HTTP/1.1\r\n folded: header\r\n", id="obs-fold"),
]


@pytest.mark.parametrize("start", MALFORMED_REQUESTS)
async def test_cve_2021_32637_malformed_requests_never_pass(service: Service, start: bytes) -> None:
    """Authelia CVE-2021-32637: a malformed request through auth_request returned 200."""
    token = await token_for(service, "admin", ADMIN_PASSWORD)
    port = service.server.port
    request = start + f"Cookie: camauth_token={token}\r\nConnection: close\r\n\r\n".encode()
    response = await raw_exchange(port, request)
    assert response.status != 200
    assert "Remote-User" not in response.headers
    assert response.status in (None, 400, 401, 403, 413, 414, 431), response.status


async def test_cve_2021_32637_bad_request_line_answers_400(service: Service) -> None:
    token = await token_for(service, "admin", ADMIN_PASSWORD)
    port = service.server.port
    good = await raw_exchange(port, raw_get("/api/auth", port, f"Cookie: camauth_token={token}"))
    assert good.status == 200  # the harness works: the same request, well-formed, passes
    for line in (b"GET /api/auth HTTP/1.1 extra", b"GET /api/auth HTTP/7.0", b"GET  HTTP/1.1"):
        request = line + f"\r\nCookie: camauth_token={token}\r\nConnection: close\r\n\r\n".encode()
        response = await raw_exchange(port, request)
        assert response.status == 400, line


async def test_cve_2026_47203_admin_and_Admin_share_a_counter(service: Service) -> None:
    """Authelia CVE-2026-47203: ``Admin`` and ``admin`` had separate ban counters."""
    answers = []
    for i, name in enumerate(["admin", "Admin", "ADMIN", "aDMIN", " admin"] * 2):
        try:
            await service.services.logins.login(name, "wrong", f"192.0.2.{i}")
        except Exception as err:
            answers.append(type(err).__name__)
    assert answers == ["Unauthorized"] * 10
    for name in ("admin", "Admin", "ADMIN"):
        try:
            await service.services.logins.login(name, ADMIN_PASSWORD, "198.51.100.3")
        except Exception as err:
            answers.append(type(err).__name__)
    assert answers[10:] == ["TooManyRequests"] * 3
    locks = [(lock.kind, lock.key) for lock in service.services.lockouts.lockouts()]
    assert locks == [("username", "admin")]


async def test_ghsa_9xhm_w3wj_xhqh_random_usernames_cannot_lock_everyone_out(
    start_service: ServiceFactory,
) -> None:
    """tinyauth GHSA-9xhm-w3wj-xhqh: 257 random usernames filled the map and locked everyone."""
    service = await start_service()
    guard = service.services.lockouts
    rng = random.Random(257)
    now = time.time()
    for i in range(MAX_UNKNOWN_USER_KEYS * 2):
        name = "".join(rng.choices(string.ascii_lowercase, k=8))
        for repeat in range(2):
            attempt = Attempt(f"10.2.{i // 256}.{i % 256}", name, False, now + repeat)
            guard.begin(attempt)
            guard.failed(attempt, now + repeat)
    assert guard.tracked_keys() <= MAX_CLIENT_KEYS + MAX_UNKNOWN_USER_KEYS
    assert len(guard._unknown) <= MAX_UNKNOWN_USER_KEYS
    for username, password in (("admin", ADMIN_PASSWORD), ("viewer", VIEWER_PASSWORD)):
        status, body, _ = await login_status(service, username, password)
        assert status == 200, body


EMPTY_FORWARDED = (
    "X-Forwarded-For: ",
    "X-Forwarded-Uri: ",
    "X-Forwarded-Method: ",
    "X-Forwarded-Host: ",
    "X-Forwarded-Proto: ",
    "X-Original-URI: ",
    "X-Original-URL: ",
    "X-Real-IP: ",
)


@pytest.mark.parametrize("trusted", [(), (ip_network("127.0.0.1/32"),)], ids=["direct", "proxy"])
async def test_ghsa_xg2q_62g2_cvcm_empty_forwarded_headers_deny(
    start_service: ServiceFactory, trusted: tuple[Any, ...]
) -> None:
    """tinyauth GHSA-xg2q-62g2-cvcm: empty X-Forwarded-* headers let a request through."""
    service = await start_service(with_auth(trusted_proxies=trusted))
    port = service.server.port
    response = await raw_exchange(port, raw_get("/api/auth", port, *EMPTY_FORWARDED))
    assert (response.status, response.json_body()) == (401, AUTH_REQUIRED)
    for header in EMPTY_FORWARDED:
        response = await raw_exchange(port, raw_get("/api/auth", port, header))
        assert response.status == 401, header
    response = await raw_exchange(
        port, raw_get("/api/auth", port, *EMPTY_FORWARDED, "Accept: text/html")
    )
    assert response.status == 401
    assert response.headers["Location"] == "/login"


async def test_cve_2026_40575_spoofed_forwarded_headers_from_an_untrusted_peer(
    service: Service,
) -> None:
    """oauth2-proxy CVE-2026-40575 / CVE-2026-76835: forwarded headers from anyone."""
    client = await service.fresh_client()
    for uri in ("/api/health", "/login", "/static/camauth/login.js", "/api/auth/status", "/"):
        response = await client.get(
            service.url("/api/auth"),
            headers={
                "X-Forwarded-Uri": uri,
                "X-Original-URI": uri,
                "X-Forwarded-For": "127.0.0.1",
                "X-Real-IP": "127.0.0.1",
                "X-Forwarded-Host": "localhost",
            },
        )
        assert (response.status, await response.json()) == (401, AUTH_REQUIRED), uri
    assert Settings().auth.trusted_proxies == ()


IDENTITY_HEADERS = {
    "Remote-User": "admin",
    "Remote_User": "admin",
    "remote-user": "admin",
    "Remote-Role": "admin",
    "Remote_Role": "admin",
    "Remote-Groups": "admins",
    "Remote-Email": "admin@example.com",
    "Remote-Name": "Admin",
    "X-Forwarded-User": "admin",
    "X_Forwarded_User": "admin",
    "X-Forwarded-Preferred-Username": "admin",
    "X-Forwarded-Groups": "admin",
    "X-Auth-Request-User": "admin",
    "X-authentik-username": "admin",
    "X-authentik-groups": "admins",
    "X-Remote-User": "admin",
    "X-WEBAUTH-USER": "admin",
    "X-Proxy-Secret": "",
}


def _header_mapped_settings() -> Settings:
    proxy = ProxySettings(header_map={"user": "Remote-User", "role": "Remote-Role"})
    return replace(Settings(), proxy=proxy)


@pytest.mark.parametrize("mapped", [False, True], ids=["no-header-map", "header-map"])
async def test_cve_2025_64484_identity_headers_from_clients_grant_nothing(
    start_service: ServiceFactory, mapped: bool
) -> None:
    """oauth2-proxy CVE-2025-64484, Traefik GHSA-5m6w-wvh7-57vm: ``_`` read as ``-``."""
    service = await start_service(_header_mapped_settings() if mapped else None)
    client = await service.fresh_client()
    for name, value in IDENTITY_HEADERS.items():
        headers = {name: value}
        for method, path in (("GET", "/api/auth"), ("GET", "/api/profile"), ("GET", "/api/users")):
            response = await client.request(method, service.url(path), headers=headers)
            assert (response.status, await response.json()) == (401, AUTH_REQUIRED), (name, path)
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    response = await client.get(
        service.url("/api/auth"), headers={**IDENTITY_HEADERS, **bearer(viewer)}
    )
    assert response.status == 200
    assert response.headers.getall("Remote-User") == ["viewer"]
    assert response.headers.getall("Remote-Role") == ["viewer"]
    response = await client.get(
        service.url("/api/users"), headers={**IDENTITY_HEADERS, **bearer(viewer)}
    )
    assert (response.status, await response.json()) == (403, ADMIN_REQUIRED)


@pytest.mark.parametrize(
    "connection",
    ["Remote-User", "close, Remote-Role", "Remote-User, Remote-Role, keep-alive", "Remote_User"],
)
async def test_cve_2024_45410_hop_by_hop_cannot_remove_identity(
    service: Service, connection: str
) -> None:
    """Traefik CVE-2024-45410: ``Connection: Remote-User`` removed headers the proxy set."""
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    port = service.server.port
    request = (
        f"GET /api/auth HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: camauth_token={viewer}\r\nConnection: {connection}\r\n"
        "Remote-User: admin\r\nRemote-Role: admin\r\n\r\n"
    ).encode()
    response = await raw_exchange(port, request)
    assert response.status == 200
    assert response.headers.getall("Remote-User") == ["viewer"]
    assert response.headers.getall("Remote-Role") == ["viewer"]


def _payloads() -> list[str]:
    lines = PAYLOADS.read_text("utf-8").splitlines()
    return [line for line in lines if line.strip()]


def _assert_same_host(location: str, payload: str) -> None:
    assert urlsplit(location).scheme == "", payload
    assert urlsplit(location).netloc == "", payload
    if location == "/login":
        return
    assert location.startswith("/login?rd="), (payload, location)
    quoted = location[len("/login?rd=") :]
    assert re.fullmatch(r"[A-Za-z0-9_.~%-]+", quoted), (payload, location)
    target = unquote(quoted)
    assert target.startswith("/"), (payload, target)
    assert not target.startswith("//"), (payload, target)
    assert "\\" not in target, (payload, target)
    assert all(ord(ch) >= 0x20 and ord(ch) != 0x7F for ch in target), (payload, target)
    joined = urlsplit(urljoin("http://cam.local/", target))
    assert (joined.scheme, joined.netloc) == ("http", "cam.local"), (payload, target)


async def test_cve_2020_5233_open_redirect_payloads_stay_on_host(service: Service) -> None:
    """oauth2-proxy CVE-2020-5233, CVE-2020-4037, CVE-2021-21291: redirects through ``rd``."""
    payloads = _payloads()
    assert len(payloads) > 500
    client = await service.fresh_client()
    for payload in payloads:
        for header in ("X-Forwarded-Uri", "X-Original-URI", "X-Original-URL"):
            response = await client.get(
                service.url("/api/auth"),
                headers={header: payload, "Accept": "text/html"},
                allow_redirects=False,
            )
            assert response.status == 401, payload
            _assert_same_host(response.headers["Location"], payload)
            page = await response.text()
            assert "<script" not in page.lower(), payload


async def test_cve_2023_45671_reflected_values_are_escaped(service: Service) -> None:
    """Frigate CVE-2023-45671: reflected XSS through paths."""
    client = await service.fresh_client()
    for uri in ('/"><script>alert(1)</script>', "/'onmouseover='alert(1)", "/<img src=x>"):
        response = await client.get(
            service.url("/api/auth"), headers={"X-Forwarded-Uri": uri, "Accept": "text/html"}
        )
        assert response.status == 401
        page = await response.text()
        assert "<script" not in page
        assert "<img" not in page
        assert "'onmouseover" not in page
        assert unquote(response.headers["Location"].split("rd=", 1)[1]) == uri


@pytest.mark.parametrize("agent", ["kube-probe/1.27", "GoogleHC/1.0", "ELB-HealthChecker/2.0"])
async def test_cve_2026_34457_health_check_user_agents_get_nothing(
    service: Service, agent: str
) -> None:
    """oauth2-proxy CVE-2026-34457: the health-check User-Agent bypassed auth."""
    client = await service.fresh_client()
    for path in ("/api/auth", "/api/profile", "/api/users", "/api/lockouts"):
        for uri in ("/", "/healthz", "/ping", "/api/health"):
            response = await client.get(
                service.url(path), headers={"User-Agent": agent, "X-Forwarded-Uri": uri}
            )
            assert (response.status, await response.json()) == (401, AUTH_REQUIRED), (path, uri)


async def test_bcrypt_5_long_passwords_never_500(start_service: ServiceFactory) -> None:
    """pyca/bcrypt 5.0 raises on passwords over 72 bytes: never a 500."""
    service = await start_service(with_auth(failed_login_rate_limit="50/minute"))
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    for length in (72, 73, 100, 1000, 4096):
        status, body, _ = await login_status(service, "admin", "p" * length)
        assert (status, body) == (401, INVALID_CREDENTIALS), length
    status, body, _ = await login_status(service, "admin", "ü" * 2000)  # 4000 bytes
    assert (status, body) == (401, INVALID_CREDENTIALS)
    long_password = ("winter orchard lantern river " * 40)[:1000]
    response = await service.request(
        "POST",
        "/api/users",
        json={"username": "longone", "password": long_password},
        headers=bearer(admin),
    )
    assert response.status == 201
    assert (await login_status(service, "longone", long_password))[0] == 200
    assert (await login_status(service, "longone", long_password + "x"))[0] == 401
    assert (await login_status(service, "longone", long_password[:72]))[0] == 401
    response = await service.request(
        "POST",
        "/api/users",
        json={"username": "toolong", "password": "w" * 1025},
        headers=bearer(admin),
    )
    assert (response.status, await response.json()) == (
        400,
        {"error": "Password must be at most 1024 characters long", "code": "password_too_long"},
    )


async def test_frigate_logout_revokes_server_side(service: Service) -> None:
    """Frigate's logout only deleted the cookie; here the session ends for every copy."""
    token = await service.login("admin", ADMIN_PASSWORD)
    copy = await service.fresh_client()
    response = await copy.get(
        service.url("/api/auth"), headers={"Cookie": f"camauth_token={token}"}
    )
    assert response.status == 200
    response = await service.request("POST", "/api/logout")
    assert (response.status, await response.json()) == (200, {"success": True})
    for headers in (bearer(token), {"Cookie": f"camauth_token={token}"}):
        for path in ("/api/auth", "/api/profile"):
            response = await copy.get(service.url(path), headers=headers)
            assert (response.status, await response.json()) == (401, AUTH_REQUIRED), path


async def test_frigate_password_change_revokes_tokens(service: Service) -> None:
    """Frigate: tokens survived password changes; here they end on the next request."""
    first = await token_for(service, "viewer", VIEWER_PASSWORD)
    second = await token_for(service, "viewer", VIEWER_PASSWORD)
    response = await service.request(
        "PUT",
        "/api/auth/password",
        json={"old_password": VIEWER_PASSWORD, "password": STRONG},
        headers=bearer(first),
    )
    assert response.status == 200
    fresh = (await response.json())["token"]
    for token in (first, second):
        response = await service.request("GET", "/api/auth", headers=bearer(token))
        assert response.status == 401
    response = await service.request("GET", "/api/auth", headers=bearer(fresh))
    assert response.status == 200
    assert response.headers["Remote-User"] == "viewer"
    # An admin's reset ends the new session too.
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    response = await service.request(
        "PUT",
        "/api/users/viewer/password",
        json={"password": "another fine meadow 8"},
        headers=bearer(admin),
    )
    assert response.status == 200
    response = await service.request("GET", "/api/auth", headers=bearer(fresh))
    assert response.status == 401
    status, body, _ = await login_status(service, "viewer", VIEWER_PASSWORD)
    assert (status, body) == (401, INVALID_CREDENTIALS)


async def test_cve_2025_66490_webhook_key_paths_are_not_normalised_past(service: Service) -> None:
    """Traefik CVE-2025-66490: ``%2F`` / ``..`` must not carry a webhook key off its paths."""
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    response = await service.request(
        "POST",
        "/api/keys",
        json={"name": "doorbell", "role": "admin", "paths": ["/api/webhook"]},
        headers=bearer(admin),
    )
    assert response.status == 201, await response.text()
    key = (await response.json())["key"]
    client = await service.fresh_client()

    async def forward(uri: str) -> int:
        response = await client.post(
            service.url("/api/auth"), headers={"X-API-Key": key, "X-Forwarded-Uri": uri}
        )
        return response.status

    # Judged as what the upstream serves (core.paths): canonical spellings of its own path pass.
    for uri in ("/api/webhook", "/api/webhook/event?x=1", "//api/webhook", "/x/../api/webhook"):
        assert await forward(uri) == 200, uri
    # Off its paths once resolved: refused (403, the key is valid but not for this path).
    for uri in (
        "/api/webhook/../config",
        "/api/webhook/%2e%2e/config",
        "/api/webhookX",
        "/API/webhook",
        "/config?/api/webhook",
        "http://evil.example/api/webhook/../../config",
    ):
        assert await forward(uri) == 403, uri
    # What servers read two ways is refused, never guessed at (also 403).
    for uri in (
        "/api/webhook%2F..%2Fconfig",
        "/api/webhook/..%2fconfig",
        "/api/webhook\\..\\config",
        "/api/webhook/..;/config",
        "/api/webhook/%00",
    ):
        assert await forward(uri) == 403, uri
    response = await client.get(service.url("/api/users"), headers={"X-API-Key": key})
    assert response.status == 401


async def test_too_many_over_limit_answers_alike(start_service: ServiceFactory) -> None:
    """The lockout answer carries no hint of which part of the credentials was right."""
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    for _ in range(5):
        await login_status(service, "admin", "wrong")
    right = await login_status(service, "admin", ADMIN_PASSWORD)
    wrong = await login_status(service, "nobody", "wrong")
    assert right[:2] == wrong[:2] == (429, TOO_MANY)
