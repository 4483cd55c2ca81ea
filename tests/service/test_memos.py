"""The hot path's memos answer exactly what a fresh look-up would, and are bounded."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from camauth.core import authn
from camauth.core.identity import Credential
from camauth.core.memo import Remembered
from camauth.core.roles import parse_role
from camauth.errors import BadRequest
from camauth.http import client_ip, credentials, middlewares
from camauth.http.client_ip import ClientResolver, resolve_client
from camauth.http.credentials import session_cookie
from camauth.options import AuthSettings, Settings

from .conftest import (
    ADMIN_PASSWORD,
    SECRET,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    open_test_services,
    trusting_loopback,
    with_auth,
)

PASSWORD = "copper meadow falcon 3"
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


def _request(peer: str | None, forwarded: list[str]) -> Any:
    class Headers:
        def getall(self, name: str, default: Any) -> list[str]:
            assert name.lower() == "x-forwarded-for"
            return forwarded or default

    return SimpleNamespace(remote=peer, headers=Headers())


@pytest.mark.parametrize("trusted", [(), LOOPBACK])
@pytest.mark.parametrize(
    ("peer", "forwarded"),
    [
        ("127.0.0.1", []),
        ("127.0.0.1", ["203.0.113.9"]),
        ("127.0.0.1", ["198.51.100.1, 203.0.113.9"]),
        ("10.0.0.1", ["203.0.113.9"]),
        (None, ["203.0.113.9"]),
        ("garbage", []),
    ],
)
def test_the_client_memo_answers_as_the_resolver_does(
    trusted: tuple[ipaddress.IPv4Network, ...], peer: str | None, forwarded: list[str]
) -> None:
    resolver = ClientResolver(trusted)
    expected = resolve_client(peer, forwarded if trusted else [], trusted)
    for _ in range(3):  # the first answer is computed, the others remembered
        assert resolver.client(_request(peer, forwarded)) == expected


def test_the_client_memo_is_bounded_and_skips_long_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_ip, "MEMO_SIZE", 8)
    resolver = ClientResolver(LOOPBACK)
    for n in range(50):
        assert resolver.client(_request("127.0.0.1", [f"203.0.113.{n}"])) == f"203.0.113.{n}"
        assert len(resolver._memo) <= 8
    long = ", ".join(["198.51.100.7"] * 40) + ", 203.0.113.77"
    assert resolver.client(_request("127.0.0.1", [long])) == "203.0.113.77"
    assert all(len(forwarded) == 0 or len(forwarded[0]) < 100 for _, forwarded in resolver._memo)


async def test_a_remembered_session_ends_with_its_token_or_any_change(tmp_path: Path) -> None:
    services = await open_test_services(tmp_path, AuthSettings(), SECRET)
    try:
        await services.users.create("root", PASSWORD, "admin")  # the last admin stays
        await services.users.create("alice", PASSWORD, "admin")
        done = await services.logins.login("alice", PASSWORD, "127.0.0.1")
        token, expires = done.result.token, done.result.expires_at
        cookie = Credential(token, "cookie")
        authenticate = services.authenticator.authenticate
        first = authenticate(cookie, expires - 100)
        assert first is not None
        assert authenticate(cookie, expires - 99) is first  # remembered
        assert authenticate(cookie, expires + 1) is None  # expired, remembered or not
        await services.users.set_role("alice", "viewer")
        demoted = authenticate(cookie, expires - 98)
        assert demoted is not None
        assert demoted.identity.role == "viewer"  # the change wins at once
        await services.sessions.logout(demoted.identity)
        assert authenticate(cookie, expires - 97) is None
    finally:
        await services.close()


async def test_a_remembered_api_key_ends_when_it_is_revoked(tmp_path: Path) -> None:
    services = await open_test_services(tmp_path, AuthSettings(), SECRET)
    try:
        new = await services.keys.create("nvr", "viewer", ())
        key = Credential(new.secret, "api_key")
        found = services.authenticator.authenticate(key, 1.0)
        assert found is not None
        assert services.authenticator.authenticate(key, 2.0) is found
        assert services.authenticator.authenticate(Credential(new.secret, "bearer"), 2.0) is None
        await services.keys.revoke(new.key.id)
        assert services.authenticator.authenticate(key, 3.0) is None
    finally:
        await services.close()


async def test_the_credential_memo_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authn, "MEMO_SIZE", 2)
    services = await open_test_services(tmp_path, AuthSettings(), SECRET)
    try:
        await services.users.create("alice", PASSWORD, "admin")
        tokens = [
            (await services.logins.login("alice", PASSWORD, "127.0.0.1")).result.token
            for _ in range(4)
        ]
        for token in tokens:
            assert services.authenticator.authenticate(Credential(token, "bearer"), 1.0)
            assert len(services.authenticator._session_memo) <= 2
    finally:
        await services.close()


async def _auth(service: Service, headers: dict[str, str], method: str = "GET") -> int:
    async with service.client.request(
        method, service.url("/api/auth"), headers=headers, cookies={}
    ) as response:
        return response.status


async def test_a_remembered_allow_holds_only_for_the_very_same_request(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    token = await service.login("viewer", VIEWER_PASSWORD)
    service.client.cookie_jar.clear()
    cookie = {"Cookie": f"camauth_token={token}"}
    for _ in range(3):  # the first answer is decided, the others remembered
        assert await _auth(service, cookie) == 200
    assert await _auth(service, cookie, "POST") == 403  # viewers read only
    assert await _auth(service, cookie | {"X-Forwarded-Method": "DELETE"}) == 403
    assert await _auth(service, cookie | {"X-Forwarded-Uri": "/a%2fb"}) == 403
    assert await _auth(service, cookie | {"X-Forwarded-Uri": ""}) == 403
    twice = {"Cookie": f"camauth_token={token}; camauth_token={token}"}
    assert await _auth(service, twice) == 401
    assert await _auth(service, {"Authorization": f"Bearer {token}x"}) == 401
    assert await _auth(service, cookie) == 200


async def test_a_remembered_allow_ends_with_any_change(start_service: ServiceFactory) -> None:
    service = await start_service()
    await service.services.users.create("alice", PASSWORD, "admin")
    token = await service.login("alice", PASSWORD)
    service.client.cookie_jar.clear()
    cookie = {"Cookie": f"camauth_token={token}"}
    assert await _auth(service, cookie, "POST") == 200
    assert await _auth(service, cookie, "POST") == 200
    await service.services.users.set_role("alice", "viewer")
    assert await _auth(service, cookie, "POST") == 403  # demoted: at once
    assert await _auth(service, cookie) == 200
    await service.services.sessions.revoke_user("alice")
    assert await _auth(service, cookie) == 401  # revoked: at once
    key = await service.services.keys.create("nvr", "admin", ())
    by_key = {"X-API-Key": key.secret}
    assert await _auth(service, by_key, "POST") == 200
    assert await _auth(service, by_key, "POST") == 200
    await service.services.keys.revoke(key.key.id)
    assert await _auth(service, by_key, "POST") == 401


async def test_a_remembered_allow_ends_when_the_token_expires(
    start_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await start_service()
    token = await service.login("admin", ADMIN_PASSWORD)
    service.client.cookie_jar.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert await _auth(service, bearer) == 200
    assert await _auth(service, bearer) == 200
    later = time.time() + Settings().auth.session_length + 1
    monkeypatch.setattr(middlewares, "time", SimpleNamespace(time=lambda: later))
    assert await _auth(service, bearer) == 401


async def test_a_cookie_due_for_renewal_is_renewed_on_every_answer(
    start_service: ServiceFactory,
) -> None:
    auth = Settings().auth
    service = await start_service(with_auth(refresh_time=auth.session_length))  # always due
    token = await service.login("admin", ADMIN_PASSWORD)
    service.client.cookie_jar.clear()
    for _ in range(3):
        async with service.client.get(
            service.url("/api/auth"), headers={"Cookie": f"camauth_token={token}"}
        ) as response:
            assert response.status == 200
            assert "camauth_token" in response.cookies


COOKIE_HEADERS = [
    "camauth_token=abc",
    "a=1; camauth_token=abc; b=2",
    'camauth_token="abc"',
    "camauth_token=",
    "x=1",
    "camauth_token=a; camauth_token=b",  # two: refused, remembered or not
    "camauth_token=" + "x" * 200,  # too long to remember
]


def test_the_cookie_memo_reads_as_session_cookie_does() -> None:
    memo = Remembered(credentials._session_credential, size=4, longest=100)
    for _ in range(2):
        for header in COOKIE_HEADERS:
            try:
                expected = session_cookie(header) or None
            except BadRequest:
                with pytest.raises(BadRequest, match="Duplicate session cookie"):
                    memo(header)
                continue
            found = memo(header)
            assert (found.token if found else None) == expected
            assert found is None or found.source == "cookie"
            assert len(memo._memo) <= 4


async def test_a_remembered_allow_ends_when_the_role_s_rules_change(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(trusting_loopback())
    rules = {"rules": [{"paths": ["/cams/**"], "methods": ["GET"]}]}
    await service.services.roles.save(parse_role("family", rules), create=True)
    await service.services.users.create("bob", PASSWORD, "family")
    token = await service.login("bob", PASSWORD)
    service.client.cookie_jar.clear()
    asked = {"Cookie": f"camauth_token={token}", "X-Original-URI": "/cams/door"}
    assert await _auth(service, asked) == 200
    assert await _auth(service, asked) == 200  # remembered
    narrower = {"rules": [{"paths": ["/cams/garden"], "methods": ["GET"]}]}
    await service.services.roles.save(parse_role("family", narrower), create=False)
    assert await _auth(service, asked) == 403  # the new rules, at once


async def test_a_remembered_allow_is_the_asking_peer_s_own(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(trusting_loopback())  # 127.0.0.1 is the proxy, not .2
    token = await service.login("viewer", VIEWER_PASSWORD)
    asked = {"Cookie": f"camauth_token={token}", "X-Original-URI": "/cams/door"}
    assert await _auth(service, asked) == 200
    assert await _auth(service, asked) == 200
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with (
        aiohttp.ClientSession(connector=connector) as stranger,
        stranger.get(service.url("/api/auth"), headers=asked) as response,
    ):
        assert response.status == 403  # an untrusted peer's say about the path is not believed
        assert (await response.json())["code"] == "untrusted_proxy"
