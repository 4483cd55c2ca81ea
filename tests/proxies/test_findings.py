"""What CamAuth did wrong behind a real proxy, found by these tests and fixed."""

from __future__ import annotations

from aiohttp import ClientSession

from tests.service.conftest import ADMIN_PASSWORD

from .harness import TIMEOUT, client_from
from .stack import BROWSER, FAMILY, Stack, sign_in, status_of


async def test_the_reported_login_page_is_the_one_browsers_are_sent_to(stack: Stack) -> None:
    async with ClientSession(timeout=TIMEOUT) as client:
        async with client.get(stack.url("/camauth/api/auth/status")) as response:
            reported = (await response.json())["login_url"]
        async with client.get(
            stack.url("/live"), headers=BROWSER, allow_redirects=False
        ) as response:
            sent_to = response.headers["Location"].split("?")[0]
    assert reported == sent_to


async def test_a_cross_origin_post_with_the_cookie_is_refused(stack: Stack) -> None:
    # A sibling subdomain is same-site, so a browser sends the SameSite=Lax cookie along.
    sibling = {"Origin": "https://evil.example.com", "Sec-Fetch-Site": "same-site"}
    async with client_from(FAMILY) as client:
        await sign_in(client, stack, "admin", ADMIN_PASSWORD)
        status = await status_of(client, "POST", stack.url("/api/config"), headers=sibling)
    assert status == 403
