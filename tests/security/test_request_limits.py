"""Hostile requests: big bodies, duplicate credentials, control characters, held connections,
and malformed JSON. Every one gets a 4xx and leaves stored data as it was."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from camauth.core import events

from .conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, checked_user
from .helpers import AUTH_REQUIRED, Collector, bearer, raw_exchange, raw_get, token_for

TOO_LARGE = {"error": "Content Too Large", "code": "body_too_large"}
STRONG = "granite valley orchard 5"


async def _users(service: Service) -> list[tuple[str, str]]:
    return [(user.username, user.role) for user in await service.services.users.list()]


async def test_body_over_16k_is_refused_and_nothing_is_stored(service: Service) -> None:
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    user = json.dumps({"username": "bigbody", "password": STRONG, "role": "admin"})
    body = (user + " " * (17 * 1024)).encode()
    response = await service.request(
        "POST",
        "/api/users",
        data=body,
        headers={"Content-Type": "application/json", **bearer(admin)},
    )
    assert (response.status, await response.json()) == (413, TOO_LARGE)
    assert await _users(service) == [("admin", "admin"), ("viewer", "viewer")]
    login = json.dumps({"username": "admin", "password": ADMIN_PASSWORD}) + " " * 17000
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), data=login, headers={"Content-Type": "application/json"}
    )
    assert (response.status, await response.json()) == (413, TOO_LARGE)
    assert "camauth_token" not in response.cookies
    assert seen.items == []
    # Just under the limit is read normally.
    fits = (user.replace("bigbody", "smallbody") + " " * 15000).encode()
    response = await service.request(
        "POST",
        "/api/users",
        data=fits,
        headers={"Content-Type": "application/json", **bearer(admin)},
    )
    assert response.status == 201


async def test_forward_auth_never_reads_a_body(service: Service) -> None:
    client = await service.fresh_client()
    response = await client.post(service.url("/api/auth"), data=b"x" * (1024 * 1024))
    assert (response.status, await response.json()) == (401, AUTH_REQUIRED)
    token = await token_for(service, "admin", ADMIN_PASSWORD)
    response = await client.put(
        service.url("/api/auth"), data=b"x" * (1024 * 1024), headers=bearer(token)
    )
    assert response.status == 200
    assert response.headers["Remote-User"] == "admin"


async def _tokens(service: Service) -> tuple[str, str]:
    return (
        await token_for(service, "admin", ADMIN_PASSWORD),
        await token_for(service, "viewer", VIEWER_PASSWORD),
    )


async def test_duplicate_authorization_headers(service: Service) -> None:
    admin, viewer = await _tokens(service)
    port = service.server.port
    for second in (viewer, admin):
        headers = (f"Authorization: Bearer {admin}", f"Authorization: Bearer {second}")
        response = await raw_exchange(port, raw_get("/api/profile", port, *headers))
        assert response.status == 400
        assert response.json_body() == {
            "error": "Duplicate Authorization header",
            "code": "bad_credential",
        }
        response = await raw_exchange(port, raw_get("/api/auth", port, *headers))
        assert response.status == 401
        assert response.json_body() == AUTH_REQUIRED
        assert "Remote-User" not in response.headers


async def test_duplicate_cookie_headers(service: Service) -> None:
    admin, viewer = await _tokens(service)
    port = service.server.port
    cases = [
        ((f"Cookie: camauth_token={admin}", f"Cookie: camauth_token={viewer}"), "Cookie header"),
        ((f"Cookie: camauth_token={admin}", "Cookie: theme=dark"), "Cookie header"),
        ((f"Cookie: camauth_token={admin}; camauth_token={viewer}",), "session cookie"),
        ((f"Cookie: camauth_token={viewer}; a=b; camauth_token={viewer}",), "session cookie"),
    ]
    for headers, what in cases:
        response = await raw_exchange(port, raw_get("/api/profile", port, *headers))
        assert response.status == 400, headers
        assert response.json_body() == {"error": f"Duplicate {what}", "code": "bad_credential"}
        response = await raw_exchange(port, raw_get("/api/auth", port, *headers))
        assert response.status == 401, headers
        assert "Remote-User" not in response.headers
        response = await raw_exchange(port, raw_get("/api/logout", port, *headers, method="POST"))
        assert response.status == 400, headers
    # Both sessions survived: an ambiguous logout ends neither.
    for token in (admin, viewer):
        response = await service.request("GET", "/api/profile", headers=bearer(token))
        assert response.status == 200


@pytest.mark.parametrize("character", ["\x01", "\x00", "\x1b", "\x0b"])
async def test_control_characters_in_headers_never_reach_a_handler(
    service: Service, character: str
) -> None:
    token = await token_for(service, "admin", ADMIN_PASSWORD)
    port = service.server.port
    seen = Collector(service.services.bus)
    clean = await raw_exchange(port, raw_get("/api/health", port, "X-Test: ab"))
    assert clean.status == 200
    dirty = await raw_exchange(port, raw_get("/api/health", port, f"X-Test: a{character}b"))
    assert dirty.status == 400
    forward = await raw_exchange(
        port, raw_get("/api/auth", port, f"Authorization: Bearer {token}", f"X-Test: a{character}b")
    )
    assert forward.status == 400
    assert "Remote-User" not in forward.headers
    login = json.dumps({"username": "admin", "password": ADMIN_PASSWORD})
    request = (
        f"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Test: a{character}b\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(login)}\r\n"
        f"Connection: close\r\n\r\n{login}"
    ).encode()
    response = await raw_exchange(port, request)
    assert response.status == 400
    assert seen.items == []


async def test_held_connections_do_not_block_logins(service: Service) -> None:
    port = service.server.port
    held: list[asyncio.StreamWriter] = []
    try:
        for i in range(200):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /api/hea" if i % 2 else b"POST /api/login HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
            held.append(writer)
        # Meanwhile a new connection logs in and forward-auth answers.
        client = await service.fresh_client()
        response = await client.post(
            service.url("/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert response.status == 200
        token = (await response.json())["token"]
        response = await client.get(service.url("/api/auth"), headers=bearer(token))
        assert response.status == 200
        response = await raw_exchange(port, raw_get("/api/health", port))
        assert response.status == 200
    finally:
        for writer in held:
            writer.close()
        for writer in held:
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await writer.wait_closed()


BAD_JSON: list[Any] = [
    pytest.param(b"{", "Request body is not valid JSON", id="truncated"),
    pytest.param(b"", "Request body is not valid JSON", id="empty"),
    pytest.param(b"\xff\xfe{}", "Request body is not valid JSON", id="not-utf8"),
    pytest.param(b'{"username": "x",}', "Request body is not valid JSON", id="trailing-comma"),
    pytest.param(b"null", "Request body must be a JSON object", id="null"),
    pytest.param(b"[]", "Request body must be a JSON object", id="array"),
    pytest.param(b'"admin"', "Request body must be a JSON object", id="string"),
    pytest.param(b"1e999999", "Request body must be a JSON object", id="huge-float-top"),
    pytest.param(b"[" * 8000 + b"]" * 8000, "Request body must be a JSON object", id="deep-8000"),
    pytest.param(
        b'{"username":' + b"[" * 7000 + b"]" * 7000 + b"}",
        None,
        id="deep-7000-in-a-field",
    ),
    pytest.param(b'{"username": 1e999999, "password": 1}', None, id="huge-float"),
    pytest.param(
        b'{"username": ' + b"9" * 5000 + b', "password": "x"}',
        "Request body is not valid JSON",
        id="huge-int",
    ),
    pytest.param(b'{"username": NaN, "password": Infinity}', None, id="nan"),
    pytest.param(b'{"username": ["admin"], "password": {"a": 1}}', None, id="wrong-types"),
    pytest.param(b'{"username": null, "password": null}', None, id="nulls"),
    pytest.param(b'{"username": true, "password": false}', None, id="booleans"),
]


@pytest.mark.parametrize(("body", "error"), BAD_JSON)
async def test_malformed_json_is_a_4xx(service: Service, body: bytes, error: str | None) -> None:
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    before = await _users(service)
    headers = {"Content-Type": "application/json"}
    for path, auth in (("/api/users", bearer(admin)), ("/api/login", {})):
        response = await service.request("POST", path, data=body, headers={**headers, **auth})
        assert response.status == 400, (path, await response.text())
        payload = await response.json()
        assert set(payload) == {"error", "code"}
        if error is not None:
            assert payload["error"] == error
    assert await _users(service) == before


async def test_deep_nesting_over_the_body_limit(service: Service) -> None:
    body = b"[" * 10_000 + b"]" * 10_000
    response = await service.request(
        "POST", "/api/login", data=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status, await response.json()) == (413, TOO_LARGE)


async def test_duplicate_keys_are_refused(service: Service) -> None:
    """A proxy or WAF may read the first of two keys and CamAuth the last: refuse both."""
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    body = (
        f'{{"username": "mallory", "username": "eve", "password": "{STRONG}",'
        ' "role": "viewer", "role": "admin"}'
    ).encode()
    response = await service.request(
        "POST",
        "/api/users",
        data=body,
        headers={"Content-Type": "application/json", **bearer(admin)},
    )
    assert response.status == 400, await response.text()
    assert await _users(service) == [("admin", "admin"), ("viewer", "viewer")]
    login = (
        f'{{"username": "viewer", "password": "wrong", "password": "{VIEWER_PASSWORD}"}}'
    ).encode()
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), data=login, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400, await response.text()
    assert seen.of(events.LOGIN_SUCCEEDED) == []


UNICODE_BODIES = [
    pytest.param('{"username": "\\u0000admin", "password": "x"}', id="nul-in-name"),
    pytest.param('{"username": "\\ud800", "password": "x"}', id="lone-surrogate-name"),
    pytest.param('{"username": "admin", "password": "\\udfff"}', id="lone-surrogate-password"),
    pytest.param('{"username": "viewer", "password": "\\ud83d"}', id="half-an-emoji"),
]


@pytest.mark.parametrize("body", UNICODE_BODIES)
async def test_unicode_escapes_at_login_are_a_4xx(service: Service, body: str) -> None:
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), data=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status in (400, 401), await response.text()
    payload = await response.json()
    assert set(payload) == {"error", "code"}


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\u0000admin", "password": "granite valley orchard 5"}',
        '{"username": "\\ud800x", "password": "granite valley orchard 5"}',
        '{"username": "newbie", "password": "granite valley \\ud800 orchard"}',
        '{"username": "newbie", "password": "granite valley \\u0007 orchard"}',
        '{"username": "ad\\u006din", "password": "granite valley orchard 5"}',
    ],
)
async def test_unicode_escapes_when_creating_users_are_a_4xx(service: Service, body: str) -> None:
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    response = await service.request(
        "POST",
        "/api/users",
        data=body.encode(),
        headers={"Content-Type": "application/json", **bearer(admin)},
    )
    assert response.status in (400, 409), await response.text()
    assert set(await response.json()) == {"error", "code"}
    assert await _users(service) == [("admin", "admin"), ("viewer", "viewer")]


@pytest.mark.parametrize(
    "password",
    ["granite valley \ud800 orchard", "\udfff orchard granite valley"],
    ids=["high-surrogate", "low-surrogate"],
)
async def test_lone_surrogates_in_new_passwords_are_a_400(service: Service, password: str) -> None:
    admin, viewer = await _tokens(service)
    headers = {"Content-Type": "application/json"}
    changes = [
        ("PUT", "/api/users/viewer/password", {"password": password}, admin),
        (
            "PUT",
            "/api/auth/password",
            {"old_password": VIEWER_PASSWORD, "password": password},
            viewer,
        ),
    ]
    for method, path, body, token in changes:
        data = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as \\udxxx
        response = await service.request(
            method, path, data=data, headers={**headers, **bearer(token)}
        )
        assert response.status == 400, (path, await response.text())
        assert set(await response.json()) == {"error", "code"}
    assert await checked_user(service, "viewer", VIEWER_PASSWORD) is not None
