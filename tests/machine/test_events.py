"""Events: each caused through the API is logged once and streamed once; the log's query API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

from camauth.core.events import EVENT_TYPES, Event
from camauth.storage.db import connect
from camauth.storage.events import (
    EventQuery,
    audit_stats,
    insert_events,
    prune_events,
    query_events,
)
from tests.service.conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    with_auth,
)

from .helpers import (
    admin_key,
    admin_token,
    assert_no_secret,
    call,
    create_key,
    events_until,
    last_event_id,
    logged_after,
    open_stream,
)

MARKER = "test_marker"  # emitted last: everything before it on the stream has been sent

# The order the API calls below cause them in; each type of the contract exactly once.
CAUSED = [
    ("login_succeeded", "viewer"),
    ("user_created", "bob"),
    ("role_changed", "bob"),
    ("password_reset", "bob"),
    ("password_changed", "viewer"),
    ("logout", "viewer"),
    ("api_key_created", "ha"),  # the acting key is the username of key events
    ("api_key_revoked", "ha"),
    ("user_deleted", "bob"),
    ("role_created", "ha"),  # the acting key is the username of role events
    ("role_updated", "ha"),
    ("role_deleted", "ha"),
    ("login_failed", "viewer"),
    ("lockout_started", None),  # a lockout of the client address
    ("lockout_ended", None),
]


def test_the_scenario_covers_every_event_type() -> None:
    assert sorted(kind for kind, _ in CAUSED) == sorted(EVENT_TYPES)


async def test_every_event_type_is_logged_once_and_streamed_once(
    start_service: ServiceFactory,
) -> None:
    # 1/minute: the first wrong password locks the client out, so each type happens once.
    service = await start_service(with_auth(failed_login_rate_limit="1/minute"))
    token = await admin_token(service)
    key = await admin_key(service)
    admin = {"X-API-Key": key}
    async with ClientSession() as session:
        ws = await open_stream(session, service, key)
        before = await last_event_id(service, admin)
        started = time.time()

        viewer_login = {"username": "viewer", "password": VIEWER_PASSWORD}
        viewer_token = (await call(service, "POST", "/api/login", 200, json=viewer_login))["token"]
        bob = {"username": "bob", "password": "walnut harbor signal 8", "role": "viewer"}
        await call(service, "POST", "/api/users", 201, json=bob, headers=admin)
        await call(
            service, "PUT", "/api/users/bob/role", 200, json={"role": "admin"}, headers=admin
        )
        reset = await call(
            service, "POST", "/api/users/bob/reset_password", 200, json={}, headers=admin
        )
        change = {"old_password": VIEWER_PASSWORD, "password": "violet canyon ember 2"}
        fresh = await call(
            service,
            "PUT",
            "/api/auth/password",
            200,
            json=change,
            headers={"Authorization": f"Bearer {viewer_token}"},
        )
        await call(
            service,
            "POST",
            "/api/logout",
            200,
            headers={"Authorization": f"Bearer {fresh['token']}"},
        )
        temp = await create_key(service, "temp", "viewer", auth=admin)
        await call(service, "DELETE", f"/api/keys/{temp['id']}", 200, headers=admin)
        await call(service, "DELETE", "/api/users/bob", 200, headers=admin)
        role = {"name": "family", "cameras": ["front_door"]}
        await call(service, "POST", "/api/roles", 201, json=role, headers=admin)
        await call(service, "PUT", "/api/roles/family", 200, json={}, headers=admin)
        await call(service, "DELETE", "/api/roles/family", 200, headers=admin)
        wrong = {"username": "viewer", "password": "not the password at all"}
        # From a browser that has not logged in as viewer (no device cookie): a stranger.
        stranger = await service.fresh_client()
        await call(service, "POST", "/api/login", 401, json=wrong, session=stranger)
        locked = await call(service, "POST", "/api/login", 429, json=viewer_login, session=stranger)
        assert locked["code"] == "rate_limited"  # locked: no event
        lifted = await call(service, "DELETE", "/api/lockouts", 200, headers=admin)
        assert lifted["lifted"] == 1
        service.services.bus.emit(MARKER)
        finished = time.time()

        streamed = await events_until(ws, MARKER)
        logged = [e for e in await logged_after(service, admin, before) if e["type"] != MARKER]
        await ws.close()

    assert [(e["type"], e["username"]) for e in streamed] == CAUSED
    assert [(e["type"], e["username"]) for e in logged] == CAUSED
    for stream_event, log_event in zip(streamed, logged, strict=True):
        assert {k: v for k, v in log_event.items() if k != "id"} == stream_event
    for event in logged:
        assert event["client"] == "127.0.0.1", event
        assert started <= event["timestamp"] <= finished, event
    assert [e["timestamp"] for e in logged] == sorted(e["timestamp"] for e in logged)
    by_type = {event["type"]: event for event in logged}
    assert by_type["lockout_started"]["detail"]["kind"] == "client"
    assert by_type["lockout_ended"]["detail"]["reason"] == "lifted"
    assert by_type["api_key_created"]["detail"]["name"] == "temp"
    assert by_type["password_reset"]["detail"]["by"] == "ha"

    secrets = [
        ADMIN_PASSWORD,
        VIEWER_PASSWORD,
        bob["password"],
        reset["password"],
        change["password"],
        wrong["password"],
        token,
        viewer_token,
        fresh["token"],
        key,
        temp["key"],
    ]
    assert_no_secret(json.dumps(streamed), secrets)
    everything = await call(service, "GET", "/api/events?limit=500", 200, headers=admin)
    assert_no_secret(json.dumps(everything), secrets)


async def test_a_lifted_username_lockout_names_user_and_client(
    start_service: ServiceFactory,
) -> None:
    # A generous client limit, the default per-username one (10/minute): the name locks first.
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    admin = {"X-API-Key": await admin_key(service)}
    async with ClientSession() as session:
        ws = await open_stream(session, service, admin["X-API-Key"])
        before = await last_event_id(service, admin)
        wrong = {"username": "viewer", "password": "not the password at all"}
        for _ in range(10):
            await call(service, "POST", "/api/login", 401, json=wrong)
        await call(service, "POST", "/api/login", 429, json=wrong)
        await call(service, "DELETE", "/api/lockouts", 200, headers=admin)
        service.services.bus.emit(MARKER)
        streamed = await events_until(ws, MARKER)
        await ws.close()
    logged = [e for e in await logged_after(service, admin, before) if e["type"] != MARKER]
    assert [e["type"] for e in streamed] == [e["type"] for e in logged]
    assert [e["type"] for e in logged] == ["login_failed"] * 10 + [
        "lockout_started",
        "lockout_ended",
    ]
    started, ended = logged[-2], logged[-1]
    assert started["detail"]["kind"] == ended["detail"]["kind"] == "username"
    assert started["username"] == ended["username"] == "viewer"
    assert started["client"] == "127.0.0.1"
    # The contract: every event carries the client address (here the only one there is).
    assert ended["client"] == "127.0.0.1", ended


# --- GET /api/events -----------------------------------------------------------------------


async def seed(service: Service, count: int) -> None:
    """``count`` events of three types and three users, emitted on the service's bus."""
    kinds = ("logout", "login_failed", "user_created")
    users = ("alice", "bob", "carol")
    for n in range(count):  # every pair of type and user occurs
        service.services.bus.emit(kinds[n % 3], username=users[n // 3 % 3], n=n)


async def test_events_are_newest_first_and_page_with_before_and_limit(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    await seed(service, 150)
    everything = await call(service, "GET", "/api/events?limit=500", 200, headers=admin)
    ids = [event["id"] for event in everything]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids))
    assert everything[0]["detail"] == {"n": 149}  # the last emitted comes first
    seeded = [e["detail"]["n"] for e in everything if "n" in e["detail"]]
    assert seeded == list(range(149, -1, -1))

    default = await call(service, "GET", "/api/events", 200, headers=admin)
    assert default == everything[:100]

    pages: list[dict[str, Any]] = []
    path = "/api/events?limit=7"
    while True:
        page = await call(service, "GET", path, 200, headers=admin)
        assert len(page) <= 7
        if not page:
            break
        pages.extend(page)
        path = f"/api/events?limit=7&before={page[-1]['id']}"
    assert pages == everything

    middle = everything[40]["id"]
    below = await call(service, "GET", f"/api/events?before={middle}&limit=3", 200, headers=admin)
    assert below == everything[41:44]


async def test_events_filter_by_type_username_and_since(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    await seed(service, 60)
    everything = await call(service, "GET", "/api/events?limit=500", 200, headers=admin)

    logouts = await call(service, "GET", "/api/events?type=logout&limit=500", 200, headers=admin)
    assert logouts == [e for e in everything if e["type"] == "logout"]
    assert len(logouts) == 20

    bobs = await call(service, "GET", "/api/events?username=bob&limit=500", 200, headers=admin)
    assert bobs == [e for e in everything if e["username"] == "bob"]
    assert bobs

    both = await call(
        service, "GET", "/api/events?type=login_failed&username=carol", 200, headers=admin
    )
    assert both == [
        e for e in everything if e["type"] == "login_failed" and e["username"] == "carol"
    ]
    assert both

    pivot = everything[25]["timestamp"]
    recent = await call(
        service, "GET", f"/api/events?since={pivot!r}&limit=500", 200, headers=admin
    )
    assert recent == [e for e in everything if e["timestamp"] >= pivot]
    assert 26 <= len(recent) < len(everything)
    future = await call(
        service, "GET", f"/api/events?since={time.time() + 3600}", 200, headers=admin
    )
    assert future == []
    nobody = await call(service, "GET", "/api/events?username=nobody", 200, headers=admin)
    assert nobody == []


async def test_bad_event_queries_are_each_a_400(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    for query in (
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-5",
        "limit=1.5",
        "type=nope",
        "type=",
        "since=abc",
        "since=-1",
        "since=nan",
        "since=inf",
        "before=x",
        "before=-1",
        "bogus=1",
        "type=logout&type=logout",
        "limit=5&limit=6",
        "username=a&username=b",
    ):
        body = await call(service, "GET", f"/api/events?{query}", 400, headers=admin)
        assert isinstance(body["error"], str), query
        assert body["error"], query
    # limits at the edges are fine
    await call(service, "GET", "/api/events?limit=1", 200, headers=admin)
    await call(service, "GET", "/api/events?limit=500", 200, headers=admin)


async def test_events_need_an_admin(service: Service) -> None:
    viewer_token = await service.login("viewer", VIEWER_PASSWORD)
    await call(
        service,
        "GET",
        "/api/events",
        403,
        headers={"Authorization": f"Bearer {viewer_token}"},
    )
    viewer_key = (await create_key(service, "watcher", "viewer"))["key"]
    await call(service, "GET", "/api/events", 403, headers={"X-API-Key": viewer_key})
    async with ClientSession() as anonymous:
        await call(service, "GET", "/api/events", 401, session=anonymous)
        await call(service, "GET", "/api/events?limit=abc", 401, session=anonymous)


# --- retention -------------------------------------------------------------------------------


def test_prune_removes_old_events_and_keeps_the_newest(tmp_path: Path) -> None:
    conn = connect(tmp_path / "audit.db")
    try:
        now = time.time()
        old = [Event("login_failed", 1000.0 + n, "old", "10.0.0.1", {"n": n}) for n in range(5)]
        new = [Event("login_failed", now - 60 + n, "new", "10.0.0.2", {"n": n}) for n in range(20)]
        insert_events(conn, old, "tests")
        insert_events(conn, new, "tests")
        assert audit_stats(conn, now)["failed_logins_total"] == 25

        assert prune_events(conn, older_than=now - 3600, keep=100) == 5
        left = query_events(conn, EventQuery(limit=500))
        assert [e.username for e in left] == ["new"] * 20

        assert prune_events(conn, older_than=now - 3600, keep=8) == 12
        left = query_events(conn, EventQuery(limit=500))
        assert [e.detail["n"] for e in left] == list(range(19, 11, -1))

        assert prune_events(conn, older_than=now - 3600, keep=8) == 0
        assert len(query_events(conn, EventQuery(limit=500))) == 8
        stats = audit_stats(conn, now)
        assert stats["failed_logins_last_hour"] == 8
        assert stats["failed_logins_total"] == 25  # an all-time count survives retention
    finally:
        conn.close()
