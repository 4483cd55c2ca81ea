"""Forged, stale and malformed session tokens, through the real server.

Every token here must be refused by forward-auth (``/api/auth``) and by ``/api/profile`` with
exactly 401, whether it arrives as the ``camauth_token`` cookie or as ``Authorization: Bearer``:
never a 400, never a 500, never a 200. Forgeries are made from the claims of a real, live
session, so the only thing wrong with each one is the thing under test.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from .conftest import (
    ADMIN_PASSWORD,
    SECRET,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    stop_service,
)

TRANSPORTS = ("cookie", "bearer")
UNAUTHORIZED = {"error": "Authentication required", "code": "unauthorized"}
NEW_PASSWORD = "amber thicket compass 42"


def carry(token: str, transport: str) -> dict[str, str]:
    """The request headers that present ``token`` the way a cookie or a bearer would."""
    if transport == "cookie":
        return {"Cookie": f"camauth_token={token}"}
    return {"Authorization": f"Bearer {token}"}


async def assert_refused(service: Service, token: str, transport: str) -> None:
    """Both the forward-auth endpoint and the profile answer exactly 401 JSON."""
    client = await service.fresh_client()
    headers = {"Accept": "application/json", **carry(token, transport)}
    response = await client.get(service.url("/api/auth"), headers=headers)
    assert response.status == 401, await response.text()
    assert await response.json() == UNAUTHORIZED
    assert "Remote-User" not in response.headers
    assert "Remote-Role" not in response.headers
    response = await client.get(service.url("/api/profile"), headers=headers)
    assert response.status == 401, await response.text()
    assert await response.json() == UNAUTHORIZED


async def assert_accepted(
    service: Service, token: str, transport: str, username: str, role: str
) -> None:
    """The token is good: forward-auth and the profile both name the user and role."""
    client = await service.fresh_client()
    headers = carry(token, transport)
    response = await client.get(service.url("/api/auth"), headers=headers)
    assert response.status == 200, await response.text()
    assert (response.headers["Remote-User"], response.headers["Remote-Role"]) == (username, role)
    response = await client.get(service.url("/api/profile"), headers=headers)
    assert response.status == 200, await response.text()
    assert await response.json() == {"username": username, "role": role, "auth_method": "session"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a real token, read without checking its signature."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def sign(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key != name}


def padded_to(claims: dict[str, Any], length: int) -> str:
    """A correctly signed token of the live session, stretched to ``length`` characters."""
    padding = ""
    token = sign(claims)
    while len(token) < length:
        padding += "x" * max(1, (length - len(token)) * 3 // 4)
        token = sign({**claims, "pad": padding})
    return token


def alg_none(admin: str, viewer: str) -> str:
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims_of(admin))}."


def alg_none_capitalised(admin: str, viewer: str) -> str:
    return f"{segment({'alg': 'None', 'typ': 'JWT'})}.{segment(claims_of(admin))}."


def tampered(admin: str, viewer: str, **changes: Any) -> str:
    header, _, signature = viewer.split(".")
    return f"{header}.{segment({**claims_of(viewer), **changes})}.{signature}"


def now() -> int:
    return int(time.time())


Forgery = Callable[[str, str], str]

# Each builds a token from a live admin token and a live viewer token.
FORGERIES: dict[str, Forgery] = {
    "alg-none": alg_none,
    "alg-None": alg_none_capitalised,
    "hs512-same-secret": lambda a, v: sign(claims_of(a), algorithm="HS512"),
    "hs384-same-secret": lambda a, v: sign(claims_of(a), algorithm="HS384"),
    "other-secret": lambda a, v: sign(claims_of(a), key="o" * 64),
    "one-letter-secret": lambda a, v: sign(claims_of(a), key="s"),
    "viewer-role-set-to-admin": lambda a, v: tampered(a, v, role="admin"),
    "viewer-sub-set-to-admin": lambda a, v: tampered(a, v, sub="admin"),
    "signature-dropped": lambda a, v: a.rsplit(".", 1)[0] + ".",
    "signature-truncated": lambda a, v: a[:-2],
    "signature-of-other-token": lambda a, v: a.rsplit(".", 1)[0] + "." + v.rsplit(".", 1)[1],
    "expired": lambda a, v: sign({**claims_of(a), "iat": now() - 100, "exp": now() - 10}),
    "expired-by-one-second": lambda a, v: sign({**claims_of(a), "exp": now() - 1}),
    "issued-in-the-future": lambda a, v: sign({**claims_of(a), "iat": now() + 3600}),
    "not-before-in-the-future": lambda a, v: sign({**claims_of(a), "nbf": now() + 3600}),
    "missing-exp": lambda a, v: sign(without(claims_of(a), "exp")),
    "missing-sid": lambda a, v: sign(without(claims_of(a), "sid")),
    "missing-sub": lambda a, v: sign(without(claims_of(a), "sub")),
    "missing-role": lambda a, v: sign(without(claims_of(a), "role")),
    "missing-iat": lambda a, v: sign(without(claims_of(a), "iat")),
    "missing-jti": lambda a, v: sign(without(claims_of(a), "jti")),
    "sub-number": lambda a, v: sign({**claims_of(a), "sub": 1}),
    "sub-of-other-session": lambda a, v: sign({**claims_of(a), "sub": "viewer"}),
    "sid-of-other-user": lambda a, v: sign({**claims_of(v), "sid": claims_of(a)["sid"]}),
    "sid-unknown": lambda a, v: sign({**claims_of(a), "sid": "no-such-session"}),
    "sid-number": lambda a, v: sign({**claims_of(a), "sid": 12345}),
    "sid-null": lambda a, v: sign({**claims_of(a), "sid": None}),
    "sid-list": lambda a, v: sign({**claims_of(a), "sid": [claims_of(a)["sid"]]}),
    "role-list": lambda a, v: sign({**claims_of(a), "role": ["admin"]}),
    "jti-number": lambda a, v: sign({**claims_of(a), "jti": 7}),
    "exp-string": lambda a, v: sign({**claims_of(a), "exp": str(now() + 3600)}),
    "exp-bool": lambda a, v: sign({**claims_of(a), "exp": True}),
    "exp-list": lambda a, v: sign({**claims_of(a), "exp": [now() + 3600]}),
    "exp-object": lambda a, v: sign({**claims_of(a), "exp": {"at": now() + 3600}}),
    "exp-infinity": lambda a, v: sign({**claims_of(a), "exp": float("inf")}),
    "iat-string": lambda a, v: sign({**claims_of(a), "iat": "yesterday"}),
    "iat-list": lambda a, v: sign({**claims_of(a), "iat": [now()]}),
    "iat-infinity": lambda a, v: sign({**claims_of(a), "iat": float("-inf")}),
    "payload-is-a-list": lambda a, v: jwt.PyJWS().encode(b"[1, 2]", SECRET, algorithm="HS256"),
    "payload-not-json": lambda a, v: jwt.PyJWS().encode(b"admin", SECRET, algorithm="HS256"),
    "over-4kb-signed": lambda a, v: padded_to(claims_of(a), 5 * 1024),
    "10kb-signed": lambda a, v: padded_to(claims_of(a), 10 * 1024),
    "10kb-garbage": lambda a, v: "a" * 10 * 1024,
}

GARBAGE = [
    "garbage",
    "null",
    "a.b.c",
    "..",
    "...",
    "eyJhbGciOiJIUzI1NiJ9..",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.",
    "%00%00",
    "bm90IGEgdG9rZW4=",
    "\u00ff\u00fe.\u00fd.\u00fc",
    "\u4e2d\u6587.\u4e2d\u6587.\u4e2d\u6587",
]


@pytest.fixture
async def tokens(service: Service) -> tuple[str, str]:
    """A live admin token and a live viewer token."""
    return (
        await service.login("admin", ADMIN_PASSWORD),
        await service.login("viewer", VIEWER_PASSWORD),
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("forgery", FORGERIES)
async def test_forged_token_is_refused(
    service: Service, tokens: tuple[str, str], forgery: str, transport: str
) -> None:
    admin, viewer = tokens
    await assert_accepted(service, admin, transport, "admin", "admin")
    await assert_accepted(service, viewer, transport, "viewer", "viewer")
    await assert_refused(service, FORGERIES[forgery](admin, viewer), transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_role_claim_never_grants_a_role(
    service: Service, tokens: tuple[str, str], transport: str
) -> None:
    """A token's role is what the user holds now, whatever the (signed) claim says."""
    _, viewer = tokens
    for claimed in ("admin", "superuser"):
        forged = sign({**claims_of(viewer), "role": claimed})
        await assert_accepted(service, forged, transport, "viewer", "viewer")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("garbage", GARBAGE)
async def test_garbage_is_refused(service: Service, garbage: str, transport: str) -> None:
    await assert_refused(service, garbage, transport)


async def raw_get(service: Service, path: str, header: bytes) -> bytes:
    """One GET over a bare socket, for header bytes no HTTP client will send."""
    reader, writer = await asyncio.open_connection(service.server.host, service.server.port)
    try:
        writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: cam.local\r\nConnection: close\r\n"
            b"Accept: application/json\r\n" + header + b"\r\n\r\n"
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer \xff\xfe.\xfd.\xfc",
        b"Cookie: camauth_token=\xff\xfe.\xfd.\xfc",
        b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.\xc3\x28.sig",
    ],
    ids=["bearer", "cookie", "bearer-bad-utf8-in-payload"],
)
async def test_undecodable_bytes_are_refused(service: Service, header: bytes) -> None:
    for path in ("/api/auth", "/api/profile"):
        answer = await raw_get(service, path, header)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 401 Unauthorized", (path, answer[:200])
        assert rest.endswith(json.dumps(UNAUTHORIZED).encode()), (path, answer[:400])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_token_of_a_deleted_user(service: Service, transport: str) -> None:
    admin = await service.login("admin", ADMIN_PASSWORD)
    bearer = {"Authorization": f"Bearer {admin}"}
    response = await service.request(
        "POST",
        "/api/users",
        json={"username": "visitor", "password": NEW_PASSWORD},
        headers=bearer,
    )
    assert response.status == 201, await response.text()
    token = await service.login("visitor", NEW_PASSWORD)
    await assert_accepted(service, token, transport, "visitor", "viewer")
    response = await service.request("DELETE", "/api/users/visitor", headers=bearer)
    assert response.status == 200, await response.text()
    await assert_refused(service, token, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_token_issued_before_a_password_change(service: Service, transport: str) -> None:
    admin = await service.login("admin", ADMIN_PASSWORD)
    viewer = await service.login("viewer", VIEWER_PASSWORD)
    await assert_accepted(service, viewer, transport, "viewer", "viewer")
    response = await service.request(
        "PUT",
        "/api/users/viewer/password",
        json={"password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status == 200, await response.text()
    await assert_refused(service, viewer, transport)
    # The admin's own session is untouched, and the new password works.
    await assert_accepted(service, admin, transport, "admin", "admin")
    fresh = await service.login("viewer", NEW_PASSWORD)
    await assert_accepted(service, fresh, transport, "viewer", "viewer")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_role_change_applies_to_existing_tokens(service: Service, transport: str) -> None:
    admin = await service.login("admin", ADMIN_PASSWORD)
    viewer = await service.login("viewer", VIEWER_PASSWORD)
    client = await service.fresh_client()

    async def list_users(token: str) -> int:
        response = await client.get(service.url("/api/users"), headers=carry(token, transport))
        return response.status

    assert await list_users(viewer) == 403
    response = await client.put(
        service.url("/api/users/viewer/role"),
        json={"role": "admin"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status == 200, await response.text()
    # The viewer's token still says "viewer" inside; the role held now is what counts.
    assert claims_of(viewer)["role"] == "viewer"
    await assert_accepted(service, viewer, transport, "viewer", "admin")
    assert await list_users(viewer) == 200

    # The promoted user demotes the original admin, whose token loses admin rights at once.
    response = await client.put(
        service.url("/api/users/admin/role"),
        json={"role": "viewer"},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert response.status == 200, await response.text()
    await assert_accepted(service, admin, transport, "admin", "viewer")
    assert await list_users(admin) == 403


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_token_after_logout(service: Service, transport: str) -> None:
    token = await service.login("viewer", VIEWER_PASSWORD)
    await assert_accepted(service, token, transport, "viewer", "viewer")
    client = await service.fresh_client()
    response = await client.post(service.url("/api/logout"), headers=carry(token, transport))
    assert response.status == 200, await response.text()
    await assert_refused(service, token, transport)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_secret_change_across_restart(start_service: ServiceFactory, transport: str) -> None:
    first = await start_service()
    token = await first.login("admin", ADMIN_PASSWORD)
    await assert_accepted(first, token, transport, "admin", "admin")
    await stop_service(first)

    second = await start_service(data_dir=first.data_dir, secret="t" * 64)
    await assert_refused(second, token, transport)
    # Logging in again is all it takes.
    fresh = await second.login("admin", ADMIN_PASSWORD)
    await assert_accepted(second, fresh, transport, "admin", "admin")
