"""The hot path's memos answer exactly what a fresh look-up would, and are bounded."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from camauth.core import authn
from camauth.core.identity import Credential
from camauth.http import client_ip
from camauth.http.client_ip import ClientResolver, resolve_client
from camauth.options import AuthSettings

from .conftest import open_test_services

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
    services = await open_test_services(tmp_path, AuthSettings())
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
    services = await open_test_services(tmp_path, AuthSettings())
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
    services = await open_test_services(tmp_path, AuthSettings())
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
