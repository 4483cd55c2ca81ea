"""Forward-auth as each proxy needs it, the login page under a prefix, and across subdomains."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import ClientSession, TCPConnector

from .conftest import VIEWER_PASSWORD, Service, ServiceFactory, trusting_loopback

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Mode": "navigate"}


async def ask(service: Service, headers: dict[str, str], query: str = "") -> Any:
    client = await service.fresh_client()
    return await client.get(
        service.url("/api/auth" + query), headers=headers, allow_redirects=False
    )


@pytest.mark.parametrize(
    ("headers", "query", "status"),
    [
        ({"X-Original-URI": "/cams"}, "", 401),  # nginx: error_page 401 turns it into a login
        ({"X-Original-URL": "https://cams.lan/cams"}, "", 401),  # Nginx Proxy Manager
        ({"X-Forwarded-Uri": "/cams", "X-Forwarded-Method": "GET"}, "", 302),  # Traefik, Caddy
        ({"X-Forwarded-Uri": "/cams"}, "?proxy=nginx", 401),
        ({"X-Original-URI": "/cams"}, "?proxy=traefik", 302),
        ({"X-Original-URI": "/cams"}, "?proxy=caddy", 302),
    ],
)
async def test_each_proxy_gets_what_it_can_turn_into_a_login(
    proxied: Service, headers: dict[str, str], query: str, status: int
) -> None:
    response = await ask(proxied, {**BROWSER, **headers}, query)
    assert response.status == status
    assert response.headers["Location"].startswith("/camauth/login?rd=")


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/json"},
        {"Accept": "*/*"},
        {**BROWSER, "X-Requested-With": "XMLHttpRequest"},
        {**BROWSER, "Sec-Fetch-Mode": "cors"},  # fetch() from Frigate's frontend
        {**BROWSER, "Sec-Fetch-Mode": "no-cors"},
    ],
)
async def test_an_api_call_gets_a_plain_401(proxied: Service, headers: dict[str, str]) -> None:
    response = await ask(proxied, {**headers, "X-Forwarded-Uri": "/api/stats"})
    assert response.status == 401
    assert "Location" not in response.headers
    assert (await response.json())["code"] == "unauthorized"


async def test_an_untrusted_proxy_is_not_believed(start_service: ServiceFactory) -> None:
    service = await start_service()  # trusts nobody
    viewer = await service.login("viewer", VIEWER_PASSWORD)
    asking = {"Authorization": f"Bearer {viewer}", "X-Forwarded-Uri": "/cams"}
    response = await ask(service, asking)
    assert (response.status, (await response.json())["code"]) == (403, "untrusted_proxy")
    # Without forwarded headers, the call is judged as itself (nginx sends the method).
    response = await ask(service, {"Authorization": f"Bearer {viewer}"})
    assert response.status == 200
    admin = await service.login("admin", "copper meadow falcon 3")
    response = await ask(service, {"Authorization": f"Bearer {admin}", "X-Forwarded-Uri": "/x"})
    assert response.status == 200  # an admin may do anything: nothing to judge
    warnings = service.services.warnings.current()
    assert [warning.id for warning in warnings] == ["forward_auth_untrusted_proxy"]


async def test_a_second_loopback_address_is_not_the_trusted_proxy(proxied: Service) -> None:
    viewer = await proxied.login("viewer", VIEWER_PASSWORD)
    headers = {"Authorization": f"Bearer {viewer}", "X-Forwarded-Uri": "/cams"}
    async with ClientSession(connector=TCPConnector(local_addr=("127.0.0.2", 0))) as other:
        response = await other.get(proxied.url("/api/auth"), headers=headers)
        assert response.status == 403
    assert (await ask(proxied, headers)).status == 200  # from the trusted 127.0.0.1


async def test_a_login_page_on_another_host_gets_the_whole_address(
    start_service: ServiceFactory,
) -> None:
    settings = trusting_loopback(login_url="https://auth.example.com/login")
    service = await start_service(settings)
    traefik = {
        **BROWSER,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "cams.example.com",
        "X-Forwarded-Uri": "/live?cam=front",
    }
    response = await ask(service, traefik)
    assert response.status == 302
    wanted = quote("https://cams.example.com/live?cam=front", safe="")
    assert response.headers["Location"] == f"https://auth.example.com/login?rd={wanted}"
    npm = {**BROWSER, "X-Original-URL": "https://cams.example.com/review?x=1"}
    response = await ask(service, npm)
    wanted = quote("https://cams.example.com/review?x=1", safe="")
    assert response.headers["Location"] == f"https://auth.example.com/login?rd={wanted}"


@pytest.mark.parametrize(
    ("rd", "expected"),
    [
        ("https://cams.example.com/live", "https://cams.example.com/live"),
        ("https://nvr.example.com/x?y=1#z", "https://nvr.example.com/x?y=1#z"),
        ("https://example.com/", "https://example.com/"),
        ("https://evilexample.com/", "/"),
        ("https://example.com.evil.net/", "/"),
        ("https://cams.example.com@evil.net/", "/"),
        ("javascript://cams.example.com/%0aalert(1)", "/"),
        ("ftp://cams.example.com/", "/"),
        ("https://cams.example.com/a/..//evil.net", "/"),
        ("/cams", "/cams"),
        ("//evil.net/", "/"),
    ],
)
async def test_the_login_page_returns_only_to_allowed_hosts(
    start_service: ServiceFactory, rd: str, expected: str
) -> None:
    service = await start_service(trusting_loopback(return_domains=(".example.com",)))
    client = await service.fresh_client()
    page = await (await client.get(service.url("/login?rd=" + quote(rd, safe="")))).text()
    assert f'name="camauth-return-to" content="{expected}"' in page.replace("&amp;", "&")


async def test_the_login_page_works_under_the_reserved_prefix_and_a_proxys_prefix(
    proxied: Service,
) -> None:
    client = await proxied.fresh_client()
    page = await (await client.get(proxied.url("/camauth/login"))).text()
    assert 'name="camauth-base" content="/camauth"' in page
    assert 'src="/camauth/static/camauth/login.js"' in page
    assert (await client.get(proxied.url("/camauth/static/camauth/login.js"))).status == 200
    login = await client.post(
        proxied.url("/camauth/api/login"),
        json={"username": "viewer", "password": VIEWER_PASSWORD},
    )
    assert login.status == 200
    prefixed = await client.get(proxied.url("/login"), headers={"X-Forwarded-Prefix": "/auth/"})
    assert 'name="camauth-base" content="/auth"' in await prefixed.text()
    for bogus in ("auth", "/a b", "//evil", "/a/../b", "/x?y"):
        page = await (
            await client.get(proxied.url("/login"), headers={"X-Forwarded-Prefix": bogus})
        ).text()
        assert 'name="camauth-base" content=""' in page, bogus


async def test_a_prefix_from_an_untrusted_peer_is_ignored(service: Service) -> None:
    client = await service.fresh_client()
    page = await (
        await client.get(service.url("/login"), headers={"X-Forwarded-Prefix": "/auth"})
    ).text()
    assert 'name="camauth-base" content=""' in page


async def test_the_session_cookie_covers_the_parent_domain(start_service: ServiceFactory) -> None:
    service = await start_service(trusting_loopback(cookie_domain="example.com"))
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": "viewer", "password": VIEWER_PASSWORD}
    )
    cookies = SimpleCookie()
    for header in response.headers.getall("Set-Cookie"):
        cookies.load(header)
    assert cookies["camauth_token"]["domain"] == "example.com"
    logout = await client.post(
        service.url("/api/logout"),
        headers={"Authorization": f"Bearer {(await response.json())['token']}"},
    )
    cleared = SimpleCookie()
    cleared.load(logout.headers["Set-Cookie"])
    assert cleared["camauth_token"]["domain"] == "example.com"
