"""A failed-login storm seen live, and /api/stats agreeing with the audit log afterwards."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network
from typing import Any

from aiohttp import ClientSession

from tests.service.conftest import VIEWER_PASSWORD, Service, ServiceFactory, with_auth

from .helpers import admin_key, call, events_until, last_event_id, logged_after, open_stream

MARKER = "test_marker"
WRONG = {"username": "admin", "password": "wrong guess here"}


async def attempt(service: Service, attacker: ClientSession) -> int:
    """One wrong-password login from the attacker's own client; returns the status."""
    async with attacker.post(service.url("/api/login"), json=WRONG) as response:
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
        return response.status


async def check_stats_agree(
    service: Service, admin: dict[str, str], lockout_event: dict[str, Any]
) -> None:
    """``/api/stats`` tells the same story as ``/api/events`` and ``/api/lockouts``."""
    stats = await call(service, "GET", "/api/stats", 200, headers=admin)
    events = await call(service, "GET", "/api/events?limit=500", 200, headers=admin)
    failed = [e for e in events if e["type"] == "login_failed"]
    assert stats["failed_logins_last_hour"] == len(failed)
    assert stats["failed_logins_last_day"] == len(failed)
    assert stats["failed_logins_total"] == len(failed)
    assert [e["type"] for e in events].count("lockout_started") == 1
    [lockout] = stats["lockouts"]
    assert lockout["kind"] == "client"
    assert lockout["key"] == "127.0.0.1"
    assert lockout["id"] == lockout_event["detail"]["lockout_id"]
    assert lockout["retry_after"] >= 1
    assert lockout["until"] >= lockout_event["detail"]["until"]  # later failures extend it
    listed = await call(service, "GET", "/api/lockouts", 200, headers=admin)
    same = ("id", "kind", "key", "started_at", "until")
    assert [{k: item[k] for k in same} for item in listed] == [{k: lockout[k] for k in same}]
    latest = next(e for e in events if e["type"] == "login_succeeded")
    assert latest["username"] == "viewer"
    assert stats["last_login"] == {
        "username": latest["username"],
        "timestamp": latest["timestamp"],
        "client": latest["client"],
    }


async def test_storm_shows_failures_then_exactly_one_lockout_and_stats_agree(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    key = await admin_key(service)
    admin = {"X-API-Key": key}
    async with ClientSession() as watcher, ClientSession() as attacker:
        ws = await open_stream(watcher, service, key)
        before = await last_event_id(service, admin)
        await service.login("viewer", VIEWER_PASSWORD)  # the latest successful login
        statuses = [await attempt(service, attacker) for _ in range(10)]
        service.services.bus.emit(MARKER)
        streamed = await events_until(ws, MARKER)
        await ws.close()

    assert statuses == [401] * 5 + [429] * 5
    kinds = [event["type"] for event in streamed]
    assert kinds == ["login_succeeded"] + ["login_failed"] * 5 + ["lockout_started"]
    for event in streamed[1:]:
        assert event["client"] == "127.0.0.1"
    assert all(e["username"] == "admin" for e in streamed[1:-1])
    logged = [e for e in await logged_after(service, admin, before) if e["type"] != MARKER]
    assert [e["type"] for e in logged] == kinds
    await check_stats_agree(service, admin, streamed[-1])


async def test_a_concurrent_storm_still_gives_one_lockout_and_stats_agree(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    key = await admin_key(service)
    admin = {"X-API-Key": key}
    async with ClientSession() as watcher, ClientSession() as attacker:
        ws = await open_stream(watcher, service, key)
        await service.login("viewer", VIEWER_PASSWORD)
        statuses = await asyncio.wait_for(
            asyncio.gather(*(attempt(service, attacker) for _ in range(10))), 60
        )
        service.services.bus.emit(MARKER)
        streamed = await events_until(ws, MARKER)
        await ws.close()

    kinds = [event["type"] for event in streamed]
    assert kinds.count("lockout_started") == 1
    assert sorted(set(statuses)) <= [401, 429]
    # Every 401 is one login_failed event; every 429 is refused without one.
    assert kinds.count("login_failed") == statuses.count(401) >= 5
    assert kinds.index("lockout_started") == 6  # after the login and the fifth failure
    await check_stats_agree(service, admin, streamed[kinds.index("lockout_started")])


async def test_stats_name_the_instance_and_each_users_activity(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    admin = {"X-API-Key": await admin_key(service)}
    first = await call(service, "GET", "/api/stats", 200, headers=admin)
    assert len(first["instance_id"]) == 32
    activity = {entry["username"]: entry for entry in first["user_activity"]}
    assert set(activity) == {"admin", "viewer"}
    assert activity["viewer"] == {
        "username": "viewer",
        "role": "viewer",
        "last_login": None,
        "last_login_client": None,
        "active_sessions": 0,
        "locked_out": False,
    }
    await service.login("viewer", VIEWER_PASSWORD)
    stranger = await service.fresh_client()  # no device cookie: counted against the name
    wrong = {"username": "viewer", "password": "x"}
    for _ in range(10):  # the per-username limit: viewer is locked out
        await stranger.post(service.url("/api/login"), json=wrong)
    later = await call(service, "GET", "/api/stats", 200, headers=admin)
    assert later["instance_id"] == first["instance_id"]
    viewer = {entry["username"]: entry for entry in later["user_activity"]}["viewer"]
    assert viewer["active_sessions"] == 1
    assert viewer["last_login_client"] == "127.0.0.1"
    assert viewer["last_login"] >= first["timestamp"]
    assert viewer["locked_out"] is True


async def test_warnings_report_what_requests_show(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(trusted_proxies=()))
    admin = {"X-API-Key": await admin_key(service)}
    assert await call(service, "GET", "/api/warnings", 200, headers=admin) == {"warnings": []}
    # A proxy that is not trusted: its clients all share its address.
    await call(service, "GET", "/api/health", 200, headers={"X-Forwarded-For": "203.0.113.9"})
    # Users arrive over HTTPS while the cookie may travel over HTTP too.
    await call(service, "GET", "/api/health", 200, headers={"X-Forwarded-Proto": "https"})
    found = (await call(service, "GET", "/api/warnings", 200, headers=admin))["warnings"]
    assert [w["id"] for w in found] == ["forwarded_for_untrusted", "cookie_secure_off_over_https"]
    assert "127.0.0.1" in found[0]["message"]
    assert "auth.trusted_proxies" in found[0]["message"]
    assert "auth.cookie_secure" in found[1]["message"]
    viewer = await call(
        service,
        "POST",
        "/api/login",
        200,
        json={"username": "viewer", "password": VIEWER_PASSWORD},
    )
    headers = {"Authorization": f"Bearer {viewer['token']}"}
    await call(service, "GET", "/api/warnings", 403, headers=headers)


async def test_a_trusted_proxy_and_a_secure_cookie_raise_no_warning(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(
        with_auth(trusted_proxies=(ip_network("127.0.0.1/32"),), cookie_secure=True)
    )
    admin = {"X-API-Key": await admin_key(service)}
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    await call(service, "GET", "/api/health", 200, headers=headers)
    assert await call(service, "GET", "/api/warnings", 200, headers=admin) == {"warnings": []}
