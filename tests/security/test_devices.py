"""Device cookies (OWASP): the owner gets in while strangers have the account locked."""

from __future__ import annotations

import asyncio
import threading
from http.cookies import SimpleCookie

from aiohttp import ClientSession

from camauth.core.passwords import PasswordHasher

from .conftest import VIEWER_PASSWORD, Service, ServiceFactory, with_auth

WRONG = "not the password at all"
# Strangers may fail often per address; the username allows 10 a minute (the default).
GENEROUS = with_auth(failed_login_rate_limit="100/minute")


async def login(client: ClientSession, service: Service, password: str) -> int:
    async with client.post(
        service.url("/api/login"), json={"username": "viewer", "password": password}
    ) as response:
        return response.status


async def lock_username_as_strangers(service: Service) -> None:
    stranger = await service.fresh_client()
    statuses = [await login(stranger, service, WRONG) for _ in range(11)]
    assert statuses[-1] == 429, statuses
    assert await login(await service.fresh_client(), service, VIEWER_PASSWORD) == 429


async def test_a_known_device_gets_in_while_strangers_locked_the_name(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(GENEROUS)
    phone = await service.fresh_client()
    assert await login(phone, service, VIEWER_PASSWORD) == 200  # the phone becomes known
    await lock_username_as_strangers(service)
    assert await login(phone, service, VIEWER_PASSWORD) == 200
    assert await login(phone, service, WRONG) == 401  # its own typo is a plain failure


async def test_a_device_that_fails_too_often_is_a_stranger_again(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(GENEROUS)
    phone = await service.fresh_client()
    assert await login(phone, service, VIEWER_PASSWORD) == 200
    statuses = [await login(phone, service, WRONG) for _ in range(10)]
    assert statuses == [401] * 10  # counted against the device, not the name
    await lock_username_as_strangers(service)
    assert await login(phone, service, VIEWER_PASSWORD) == 429


async def test_a_device_known_to_another_user_or_forged_opens_nothing(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(GENEROUS)
    laptop = await service.fresh_client()
    async with laptop.post(
        service.url("/api/login"), json={"username": "admin", "password": "copper meadow falcon 3"}
    ) as response:
        assert response.status == 200  # known to admin, not to viewer
    await lock_username_as_strangers(service)
    assert await login(laptop, service, VIEWER_PASSWORD) == 429
    forged = await service.fresh_client()
    forged.cookie_jar.update_cookies({"camauth_device": "v1.dmlld2Vy.abc.forged"})
    assert await login(forged, service, VIEWER_PASSWORD) == 429


async def test_the_device_cookie_is_private_and_issued_once_per_user(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(with_auth(cookie_secure=True))
    client = await service.fresh_client()
    body = {"username": "viewer", "password": VIEWER_PASSWORD}
    async with client.post(service.url("/api/login"), json=body) as response:
        assert response.status == 200
        cookies = SimpleCookie()
        for header in response.headers.getall("Set-Cookie"):
            cookies.load(header)
    device = cookies["camauth_device"]
    assert device["httponly"] is True
    assert device["samesite"] == "Strict"
    assert device["secure"] is True
    assert int(device["max-age"]) == 365 * 86400
    client.cookie_jar.update_cookies({"camauth_device": device.value})
    async with client.post(service.url("/api/login"), json=body) as response:
        assert response.status == 200
        again = [h for h in response.headers.getall("Set-Cookie") if "camauth_device" in h]
    assert again == []  # the browser is already known as viewer: nothing new to set


async def test_a_known_device_goes_before_strangers_waiting_to_hash() -> None:
    hasher = PasswordHasher(rounds=4, workers=1)
    release = threading.Event()
    finished: list[str] = []

    async def job(name: str, client: str, priority: bool) -> None:
        await hasher._run(release.wait if name == "busy" else lambda: True, client, priority)
        finished.append(name)

    try:
        busy = asyncio.create_task(job("busy", "192.0.2.1", False))
        await asyncio.sleep(0)
        strangers = [
            asyncio.create_task(job(f"stranger{n}", f"192.0.2.{n + 2}", False)) for n in range(5)
        ]
        owner = asyncio.create_task(job("owner", "198.51.100.9", True))
        while hasher.waiting < 6:  # everyone is queued behind the busy worker
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(busy, owner, *strangers)
    finally:
        hasher.close()
    assert finished[:2] == ["busy", "owner"]
