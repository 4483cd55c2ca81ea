"""SSO header mode: the identity an authenticating proxy in front vouches for."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from aiohttp import ClientSession, TCPConnector

from camauth.errors import ConfigError
from camauth.options import ProxySettings, Settings, parse_options

from .conftest import ADMIN_PASSWORD, Service, ServiceFactory, trusting_loopback

HEADER_MAP = {
    "user": "X-Auth-Request-Preferred-Username",
    "email": "X-Auth-Request-Email",
    "groups": "X-Auth-Request-Groups",
    "name": "Remote-Name",
}


def sso(enabled: bool = True, **proxy: Any) -> Settings:
    settings = trusting_loopback(enabled=enabled)
    fields = {"header_map": HEADER_MAP, **proxy}
    return replace(settings, proxy=replace(ProxySettings(), **fields))


async def forward(service: Service, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    client = await service.fresh_client()
    async with client.get(service.url("/api/auth"), headers=headers) as response:
        remote = {k: v for k, v in response.headers.items() if k.startswith("Remote-")}
        return response.status, remote


KANIDM = {
    "X-Auth-Request-Preferred-Username": "zoechi",
    "X-Auth-Request-Email": "zoe@example.com",
    "X-Auth-Request-Groups": "family,frigate_admins",
    "Remote-Name": "Zoe Chi",
}


async def test_the_proxys_user_and_groups_become_remote_headers(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(sso(group_roles=(("frigate_admins", "admin"),)))
    status, remote = await forward(service, {**KANIDM, "X-Forwarded-Uri": "/api/config"})
    assert status == 200
    assert remote == {
        "Remote-User": "zoechi",
        "Remote-Role": "admin",
        "Remote-Groups": "family,frigate_admins",
        "Remote-Email": "zoe@example.com",
        "Remote-Name": "Zoe Chi",
    }
    client = await service.fresh_client()
    profile = await (await client.get(service.url("/api/profile"), headers=KANIDM)).json()
    assert (profile["username"], profile["role"], profile["auth_method"]) == (
        "zoechi",
        "admin",
        "proxy",
    )


@pytest.mark.parametrize(
    ("groups", "group_roles", "role"),
    [
        ("family", (("family", "viewer"), ("frigate_admins", "admin")), "viewer"),
        ("family,frigate_admins", (("family", "viewer"), ("frigate_admins", "admin")), "admin"),
        ("guests", (("family", "viewer"),), "viewer"),  # no match: the default role
        ("", (), "viewer"),
    ],
)
async def test_groups_map_to_roles_and_admin_wins(
    start_service: ServiceFactory, groups: str, group_roles: Any, role: str
) -> None:
    service = await start_service(sso(group_roles=group_roles))
    headers = {**KANIDM, "X-Auth-Request-Groups": groups}
    status, remote = await forward(service, headers)
    assert (status, remote["Remote-Role"]) == (200, role)


async def test_a_role_header_overrides_groups(start_service: ServiceFactory) -> None:
    header_map = {**HEADER_MAP, "role": "Remote-Role"}
    service = await start_service(sso(header_map=header_map, separator="|"))
    status, remote = await forward(service, {**KANIDM, "Remote-Role": "viewer|admin"})
    assert (status, remote["Remote-Role"]) == (200, "admin")


async def test_only_a_trusted_proxy_may_vouch(start_service: ServiceFactory) -> None:
    service = await start_service(sso())
    other = ClientSession(connector=TCPConnector(local_addr=("127.0.0.2", 0)))
    async with other, other.get(service.url("/api/auth"), headers=KANIDM) as response:
        assert response.status == 401
        assert "Remote-User" not in response.headers


async def test_the_proxy_secret_is_required_when_set(start_service: ServiceFactory) -> None:
    service = await start_service(sso(auth_secret="s3cret-shared-with-the-proxy"))
    assert (await forward(service, KANIDM))[0] == 401
    assert (await forward(service, {**KANIDM, "X-Proxy-Secret": "wrong"}))[0] == 401
    secret = {**KANIDM, "X-Proxy-Secret": "s3cret-shared-with-the-proxy"}
    assert (await forward(service, secret))[0] == 200


@pytest.mark.parametrize("value", ["zoe\nchi", "zoe\rchi", "zoe\x00", "zoe\x7f"])
async def test_control_characters_in_identity_headers_are_refused(
    start_service: ServiceFactory, value: str
) -> None:
    service = await start_service(sso())
    client = await service.fresh_client()
    raw = {**KANIDM, "X-Auth-Request-Preferred-Username": value}
    try:
        response = await client.get(service.url("/api/profile"), headers=raw)
    except ValueError:
        pytest.skip("the HTTP client refuses to send this header itself")
    assert response.status == 400
    if response.content_type == "application/json":  # else aiohttp's parser refused it first
        assert (await response.json())["code"] == "bad_credential"


async def test_with_auth_off_the_proxy_decides_as_in_frigate(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(sso(enabled=False, default_role="viewer"))
    status, remote = await forward(service, {**KANIDM, "X-Auth-Request-Groups": ""})
    assert (status, remote["Remote-User"], remote["Remote-Role"]) == (200, "zoechi", "viewer")
    status, remote = await forward(service, {})
    assert (status, remote["Remote-User"], remote["Remote-Role"]) == (200, "anonymous", "admin")
    secured = await start_service(sso(enabled=False, auth_secret="s3cret-shared-with-the-proxy"))
    assert (await forward(secured, KANIDM))[0] == 401  # never the anonymous admin then


async def test_local_logins_work_beside_the_proxy(start_service: ServiceFactory) -> None:
    service = await start_service(sso())
    token = await service.login("admin", ADMIN_PASSWORD)
    status, remote = await forward(service, {"Authorization": f"Bearer {token}"})
    assert (status, remote["Remote-User"]) == (200, "admin")


@pytest.mark.parametrize(
    ("header", "canonical"),
    [("remote_user", "Remote-User"), ("X-AUTH-REQUEST-EMAIL", "X-Auth-Request-Email")],
)
def test_header_names_are_read_in_any_spelling(header: str, canonical: str) -> None:
    settings = parse_options({"proxy": {"header_map": {"user": header}}})
    assert settings.proxy.header_map["user"] == canonical


@pytest.mark.parametrize("header", ["Authorization", "Cookie", "X-Real-IP", "X-User"])
def test_only_identity_headers_can_be_mapped(header: str) -> None:
    with pytest.raises(ConfigError, match=r"proxy\.header_map\.user"):
        parse_options({"proxy": {"header_map": {"user": header}}})
