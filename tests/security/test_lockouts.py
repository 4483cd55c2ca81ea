"""Lockouts through the server: 401 until the limit, then 429 for right and wrong alike."""

from __future__ import annotations

import random
import string
import time
from typing import Any

from camauth.core import events
from camauth.core.lockouts import Attempt
from camauth.errors import TooManyRequests, Unauthorized

from .conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory, with_auth
from .helpers import (
    ADMIN_REQUIRED,
    AUTH_REQUIRED,
    INVALID_CREDENTIALS,
    TOO_MANY,
    Collector,
    bearer,
    login_status,
    token_for,
)

FIVE_A_MINUTE = with_auth(failed_login_rate_limit="5/minute")


async def _lockouts(service: Service, token: str) -> list[dict[str, Any]]:
    response = await service.request("GET", "/api/lockouts", headers=bearer(token))
    assert response.status == 200
    return list(await response.json())


async def test_default_limits_throttle_the_second_failure_within_a_second(
    service: Service,
) -> None:
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    assert await login_status(service, "admin", "wrong password") == (
        401,
        INVALID_CREDENTIALS,
        None,
    )
    # 1/second: the next failure at once is throttled, but that is no lockout (window < 10 s).
    assert await login_status(service, "admin", "wrong password") == (429, TOO_MANY, "1")
    assert await login_status(service, "admin", ADMIN_PASSWORD) == (429, TOO_MANY, "1")
    assert await _lockouts(service, admin) == []
    assert seen.of(events.LOCKOUT_STARTED) == []


async def test_lockout_after_the_limit_is_identical_for_right_and_wrong_passwords(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(FIVE_A_MINUTE)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    for _ in range(5):
        assert await login_status(service, "admin", "wrong password") == (
            401,
            INVALID_CREDENTIALS,
            None,
        )
    client = await service.fresh_client()
    answers: list[tuple[int, Any]] = []
    for password in ("wrong password", ADMIN_PASSWORD, "another wrong one", ADMIN_PASSWORD):
        response = await client.post(
            service.url("/api/login"), json={"username": "admin", "password": password}
        )
        retry = response.headers.get("Retry-After", "")
        assert retry.isdigit(), retry
        assert 1 <= int(retry) <= 60
        assert "camauth_token" not in response.cookies
        answers.append((response.status, await response.json()))
    assert answers == [(429, TOO_MANY)] * 4
    # The right password did not log in.
    response = await client.get(service.url("/api/profile"))
    assert response.status == 401
    assert await response.json() == AUTH_REQUIRED
    started = seen.of(events.LOCKOUT_STARTED)
    assert len(started) == 1
    assert started[0].detail["kind"] == "client"
    assert started[0].detail["key"] == "127.0.0.1"
    assert seen.of(events.LOGIN_SUCCEEDED) == []
    listed = await _lockouts(service, admin)
    assert len(listed) == 1
    item = listed[0]
    assert set(item) == {"id", "kind", "key", "started_at", "until", "retry_after", "client"}
    assert (item["id"], item["kind"], item["key"]) == (
        started[0].detail["lockout_id"],
        "client",
        "127.0.0.1",
    )
    assert item["started_at"] < item["until"] <= item["started_at"] + 60
    assert 1 <= item["retry_after"] <= 60


async def test_successful_logins_do_not_count(start_service: ServiceFactory) -> None:
    service = await start_service(FIVE_A_MINUTE)
    for _ in range(30):
        status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD)
        assert status == 200, body
    # Interleaved with failures, only the failures count.
    for _ in range(4):
        assert (await login_status(service, "admin", "wrong"))[0] == 401
        assert (await login_status(service, "admin", ADMIN_PASSWORD))[0] == 200
    assert (await login_status(service, "admin", "wrong"))[0] == 401
    status, body, retry = await login_status(service, "admin", ADMIN_PASSWORD)
    assert (status, body, _retry_ok(retry)) == (429, TOO_MANY, True)


async def test_lockout_expires_once(start_service: ServiceFactory) -> None:
    service = await start_service(FIVE_A_MINUTE)
    seen = Collector(service.services.bus)
    for _ in range(7):
        await login_status(service, "admin", "wrong password")
    assert len(seen.of(events.LOCKOUT_STARTED)) == 1
    service.services.lockouts.sweep(time.time() + 30)  # not yet
    assert seen.of(events.LOCKOUT_ENDED) == []
    service.services.lockouts.sweep(time.time() + 4000)
    service.services.lockouts.sweep(time.time() + 8000)
    ended = seen.of(events.LOCKOUT_ENDED)
    assert len(ended) == 1
    assert ended[0].detail["reason"] == "expired"
    assert ended[0].detail["key"] == "127.0.0.1"
    assert ended[0].detail["lockout_id"] == seen.of(events.LOCKOUT_STARTED)[0].detail["lockout_id"]
    assert service.services.lockouts.lockouts() == []
    assert service.services.lockouts.tracked_keys() == 0
    status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD)
    assert status == 200, body


async def test_lift_one_lockout_through_the_api(start_service: ServiceFactory) -> None:
    service = await start_service(FIVE_A_MINUTE)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    for _ in range(5):
        await login_status(service, "admin", "wrong password")
    assert (await login_status(service, "admin", ADMIN_PASSWORD))[0] == 429
    [lockout] = await _lockouts(service, admin)
    for bad_id in ("999999", "abc", "-1", "1.0"):
        response = await service.request("DELETE", f"/api/lockouts/{bad_id}", headers=bearer(admin))
        assert response.status == 404, bad_id
        assert await response.json() == {"error": "Lockout not found", "code": "lockout_not_found"}
    assert len(await _lockouts(service, admin)) == 1
    response = await service.request(
        "DELETE", f"/api/lockouts/{lockout['id']}", headers=bearer(admin)
    )
    assert response.status == 200
    assert await response.json() == {"success": True}
    assert await _lockouts(service, admin) == []
    ended = seen.of(events.LOCKOUT_ENDED)
    assert [(e.detail["reason"], e.detail["lockout_id"], e.detail.get("by")) for e in ended] == [
        ("lifted", lockout["id"], "admin")
    ]
    status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD)
    assert status == 200, body
    service.services.lockouts.sweep(time.time() + 4000)
    assert len(seen.of(events.LOCKOUT_ENDED)) == 1  # never ended twice
    response = await service.request(
        "DELETE", f"/api/lockouts/{lockout['id']}", headers=bearer(admin)
    )
    assert response.status == 404


async def test_lift_all_lockouts(start_service: ServiceFactory) -> None:
    service = await start_service(FIVE_A_MINUTE)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    for client, username in (("198.51.100.1", "viewer"), ("198.51.100.2", "nobody")):
        for _ in range(5):
            assert await _direct(service, username, "wrong password", client) == "401"
    assert len(await _lockouts(service, admin)) == 2
    response = await service.request("DELETE", "/api/lockouts", headers=bearer(admin))
    assert response.status == 200
    assert await response.json() == {"success": True, "lifted": 2}
    assert await _lockouts(service, admin) == []
    assert [e.detail["reason"] for e in seen.of(events.LOCKOUT_ENDED)] == ["lifted", "lifted"]
    assert await _direct(service, "viewer", VIEWER_PASSWORD, "198.51.100.1") == "200"


async def test_lockout_api_is_admin_only(service: Service) -> None:
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    anonymous = await service.fresh_client()
    for method, path in (
        ("GET", "/api/lockouts"),
        ("DELETE", "/api/lockouts"),
        ("DELETE", "/api/lockouts/1"),
    ):
        response = await service.request(method, path, headers=bearer(viewer))
        assert (response.status, await response.json()) == (403, ADMIN_REQUIRED), path
        response = await anonymous.request(method, service.url(path))
        assert (response.status, await response.json()) == (401, AUTH_REQUIRED), path


async def _direct(service: Service, username: str, password: str, client: str) -> str:
    """One login through Accounts (any client address), as '200', '401' or '429'."""
    try:
        await service.services.logins.login(username, password, client)
    except Unauthorized as err:
        message, answer = err.message, "401"
    except TooManyRequests as err:
        message, answer = err.message, "429"
    else:
        return "200"
    expected = INVALID_CREDENTIALS if answer == "401" else TOO_MANY
    assert message == expected["error"]
    return answer


async def test_username_lockout_from_many_clients(start_service: ServiceFactory) -> None:
    service = await start_service()
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    seen = Collector(service.services.bus)
    answers = [await _direct(service, "admin", "wrong password", f"192.0.2.{i}") for i in range(10)]
    assert answers == ["401"] * 10  # no client is over its own limit (one failure each)
    assert await _direct(service, "admin", ADMIN_PASSWORD, "203.0.113.50") == "429"
    status, body, retry = await login_status(service, "admin", ADMIN_PASSWORD)
    assert (status, body, _retry_ok(retry)) == (429, TOO_MANY, True)
    listed = await _lockouts(service, admin)
    assert [(item["kind"], item["key"]) for item in listed] == [("username", "admin")]
    started = seen.of(events.LOCKOUT_STARTED)
    assert [(e.detail["kind"], e.username) for e in started] == [("username", "admin")]
    # Other users are unaffected.
    assert await _direct(service, "viewer", VIEWER_PASSWORD, "203.0.113.51") == "200"


async def _sequence(service: Service, username: str) -> list[tuple[int, Any, bool]]:
    """Status, body and whether a sane Retry-After came (its value depends on the clock)."""
    answers = []
    for _ in range(8):
        status, body, retry = await login_status(service, username, "wrong password")
        answers.append((status, body, _retry_ok(retry) if status == 429 else retry is None))
    return answers


def _retry_ok(retry: str | None) -> bool:
    return retry is not None and retry.isdigit() and 1 <= int(retry) <= 60


async def test_unknown_and_known_usernames_look_the_same(
    start_service: ServiceFactory, tmp_path: Any
) -> None:
    known = await start_service(FIVE_A_MINUTE, data_dir=_subdir(tmp_path, "known"))
    unknown = await start_service(FIVE_A_MINUTE, data_dir=_subdir(tmp_path, "unknown"))
    known_answers = await _sequence(known, "admin")
    unknown_answers = await _sequence(unknown, "no-such-user")
    assert known_answers == unknown_answers
    assert [status for status, _, _ in known_answers] == [401] * 5 + [429] * 3
    # The per-username limit, from many clients, also looks the same.
    known_direct = [await _direct(known, "viewer", "x", f"192.0.2.{i}") for i in range(12)]
    unknown_direct = [await _direct(unknown, "nobody", "x", f"192.0.2.{i}") for i in range(12)]
    assert known_direct == unknown_direct == ["401"] * 10 + ["429"] * 2
    known_kinds = [(lock.kind, lock.key) for lock in known.services.lockouts.lockouts()]
    unknown_kinds = [(lock.kind, lock.key) for lock in unknown.services.lockouts.lockouts()]
    assert known_kinds == [("client", "127.0.0.1"), ("username", "viewer")]
    assert unknown_kinds == [("client", "127.0.0.1"), ("username", "nobody")]


def _subdir(tmp_path: Any, name: str) -> Any:
    path = tmp_path / name
    path.mkdir()
    return path


async def test_unknown_username_lockout_survives_a_flood(start_service: ServiceFactory) -> None:
    """A flood of random names must not make a locked unknown name behave unlike a known one."""
    service = await start_service()
    for base, name in ((0, "admin"), (100, "ghost")):
        answers = [await _direct(service, name, "wrong", f"192.0.2.{base + i}") for i in range(10)]
        assert answers == ["401"] * 10
    guard = service.services.lockouts
    rng = random.Random(7)
    now = time.time()
    for i in range(6_000):
        name = "".join(rng.choices(string.ascii_lowercase, k=10))
        attempt = Attempt(f"10.1.{i // 256}.{i % 256}", name, False, now)
        guard.begin(attempt)
        guard.failed(attempt, now)
    assert await _direct(service, "admin", "wrong", "198.51.100.77") == "429"
    assert await _direct(service, "ghost", "wrong", "198.51.100.78") == "429"


async def test_every_attempt_costs_one_verification_and_refusals_cost_none(
    start_service: ServiceFactory, monkeypatch: Any
) -> None:
    service = await start_service(FIVE_A_MINUTE)
    hasher = service.services.hasher
    calls: list[bool] = []
    original = hasher.verify

    async def counting(password: str, stored: str | None, **options: Any) -> bool:
        calls.append(stored is None)
        return await original(password, stored, **options)

    monkeypatch.setattr(hasher, "verify", counting)
    for _ in range(5):
        assert (await login_status(service, "no-such-user", "wrong"))[0] == 401
    assert calls == [True] * 5  # unknown users cost a (dummy) verification each
    for _ in range(5):
        assert (await login_status(service, "admin", ADMIN_PASSWORD))[0] == 429
    assert len(calls) == 5  # over the limit: no hashing at all
    service.services.lockouts.lift_all(by="test")
    calls.clear()
    for _ in range(5):
        assert (await login_status(service, "admin", "wrong"))[0] == 401
    assert calls == [False] * 5
    for _ in range(5):
        assert (await login_status(service, "no-such-user", "wrong"))[0] == 429
    assert len(calls) == 5
