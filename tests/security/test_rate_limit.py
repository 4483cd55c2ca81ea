"""Failure counting: the notation, moving windows, the per-username ceiling, bounded memory."""

from __future__ import annotations

import math
import random
import string
import time
from collections import deque

import limits
import pytest
from hypothesis import given
from hypothesis import strategies as st

from camauth.core import lockouts
from camauth.core.lockouts import Attempt
from camauth.core.rate_limit import Counter, Window, failures_per_hour, parse_windows, wait_time
from camauth.errors import ConfigError, TooManyRequests, Unauthorized
from camauth.options import parse_options

from .conftest import ADMIN_PASSWORD, Service, ServiceFactory, with_auth
from .helpers import PROPERTY

SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
GRANULARITY = st.sampled_from(sorted(SECONDS))


@st.composite
def notation(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A valid rate-limit text and the (amount, seconds) windows it means."""
    parts, expected = [], []
    for _ in range(draw(st.integers(1, 4))):
        amount = draw(st.integers(1, 10_000))
        unit = draw(GRANULARITY)
        if draw(st.booleans()):
            parts.append(f"{amount}/{unit}")
            expected.append((amount, SECONDS[unit]))
        else:
            multiple = draw(st.integers(1, 50))
            parts.append(f"{amount} per {multiple} {unit}s")
            expected.append((amount, multiple * SECONDS[unit]))
    return draw(st.sampled_from([";", "; ", ","])).join(parts), expected


@PROPERTY
@given(notation())
def test_parse_windows_agrees_with_limits(case: tuple[str, list[tuple[int, int]]]) -> None:
    text, expected = case
    ours = [(window.amount, window.seconds) for window in parse_windows(text)]
    theirs = [(item.amount, item.get_expiry()) for item in limits.parse_many(text)]
    assert ours == theirs == expected


@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_empty_notation_means_no_windows(text: str) -> None:
    assert parse_windows(text) == ()
    assert failures_per_hour(()) == math.inf


@pytest.mark.parametrize(
    ("text", "hourly"),
    [
        ("5/minute", 300),
        ("1/second", 3600),
        ("1/second;5/minute;20/hour", 20),
        ("10/minute;50/hour", 50),
        ("5/minute;100/hour", 100),
        ("100/hour", 100),
        ("3/day", 3),
        ("10 per 2 minutes", 300),
        ("7 per 7 minutes", 63),
        ("2 per 3 hours", 2),
    ],
)
def test_failures_per_hour(text: str, hourly: int) -> None:
    assert failures_per_hour(parse_windows(text)) == hourly


def _greedy_failures_in_an_hour(windows: tuple[Window, ...]) -> int:
    """Fail as early as the windows allow, for one hour; count the failures."""
    stamps: deque[float] = deque(maxlen=max(window.amount for window in windows))
    now, count = 0.0, 0
    while True:
        now += wait_time(stamps, windows, now)
        if now >= 3600:
            return count
        stamps.append(now)
        count += 1


WINDOWS = st.lists(
    st.builds(Window, st.integers(1, 12), st.sampled_from([5, 10, 60, 90, 600, 3600, 7200])),
    min_size=1,
    max_size=3,
).map(tuple)


@PROPERTY
@given(WINDOWS)
def test_failures_per_hour_is_an_upper_bound(windows: tuple[Window, ...]) -> None:
    """The ceiling check must never under-estimate what the windows allow."""
    greedy = _greedy_failures_in_an_hour(windows)
    assert greedy <= failures_per_hour(windows)
    if len(windows) == 1:
        assert greedy == failures_per_hour(windows)


def test_counter_moving_window() -> None:
    counter = Counter(parse_windows("3/minute"))
    for stamp in (1000.0, 1010.0, 1020.0):
        assert counter.wait("k", stamp) == 0
        counter.add("k", stamp)
    assert counter.wait("k", 1020.0) == 40.0
    assert counter.wait("k", 1059.0) == 1.0
    assert counter.wait("k", 1060.0) == 0  # the failure at 1000 has left the window
    counter.add("k", 1060.0)
    assert counter.wait("k", 1060.0) == 10.0  # now 1010, 1020, 1060: wait for 1010 to leave
    assert counter.wait("other", 1060.0) == 0


def test_counter_several_windows_the_longest_wait_wins() -> None:
    counter = Counter(parse_windows("1/second;5/minute"))
    counter.add("k", 100.0)
    assert counter.wait("k", 100.25) == 0.75
    assert counter.wait("k", 101.0) == 0
    for stamp in (101.0, 102.0, 103.0, 104.0):
        counter.add("k", stamp)
    assert counter.wait("k", 104.5) == 55.5
    assert counter.wait("k", 160.0) == 0


def test_counter_clear_prune_and_cap() -> None:
    counter = Counter(parse_windows("2/minute"), max_keys=2)
    counter.add("a", 0.0)
    counter.add("a", 1.0)
    assert counter.wait("a", 1.0) == 59.0
    counter.clear("a")  # a lifted lockout forgets the failures
    assert counter.wait("a", 2.0) == 0
    counter.add("a", 10.0)
    counter.add("b", 11.0)
    counter.add("a", 12.0)  # 'a' is now the most recent key
    counter.add("c", 13.0)  # over the cap: the least recent key ('b') is forgotten
    assert len(counter) == 2
    assert counter.wait("b", 13.0) == 0
    assert counter.wait("a", 13.0) == 57.0  # failures at 10 and 12: wait for 10 to leave
    counter.prune(72.0)  # a's last failure (12) has left every window; c's (13) has not
    assert len(counter) == 1
    counter.prune(73.0)
    assert len(counter) == 0


def test_no_windows_count_nothing() -> None:
    counter = Counter(())
    counter.add("k", 0.0)
    assert counter.wait("k", 0.0) == 0
    assert len(counter) == 0


@pytest.mark.parametrize("value", ["1/second", "200/hour", "2/minute", "101/hour", "", "   "])
def test_per_username_limit_refuses_more_than_100_an_hour(value: str) -> None:
    with pytest.raises(ConfigError, match=r"auth\.failed_login_user_rate_limit"):
        parse_options({"auth": {"failed_login_user_rate_limit": value}})


@pytest.mark.parametrize("value", ["0/minute", "0/hour", "0 per 2 hours"])
def test_per_username_limit_refuses_zero_amounts(value: str) -> None:
    """``0/minute`` counts nothing at all: it switches the per-username limit off."""
    with pytest.raises(ConfigError, match=r"auth\.failed_login_user_rate_limit"):
        parse_options({"auth": {"failed_login_user_rate_limit": value}})


@pytest.mark.parametrize("value", ["0/minute", "0/second;5/minute"])
def test_client_limit_refuses_zero_amounts(value: str) -> None:
    with pytest.raises(ConfigError, match=r"auth\.failed_login_rate_limit"):
        parse_options({"auth": {"failed_login_rate_limit": value}})


@pytest.mark.parametrize(
    ("value", "hourly"), [("5/minute;100/hour", 100), ("10/minute;50/hour", 50), ("3/day", 3)]
)
def test_per_username_limit_accepts_up_to_100_an_hour(value: str, hourly: int) -> None:
    settings = parse_options({"auth": {"failed_login_user_rate_limit": value}})
    assert settings.auth.failed_login_user_rate_limit == value
    assert failures_per_hour(parse_windows(value)) == hourly


@pytest.mark.parametrize("value", ["lots", "5/fortnight", "5", 5])
def test_bad_client_limit_names_the_option(value: object) -> None:
    with pytest.raises(ConfigError, match=r"auth\.failed_login_rate_limit"):
        parse_options({"auth": {"failed_login_rate_limit": value}})


async def _try(service: Service, username: str, password: str, client: str) -> str:
    try:
        await service.services.logins.login(username, password, client)
    except Unauthorized:
        return "401"
    except TooManyRequests:
        return "429"
    return "200"


async def test_username_spellings_share_one_counter(start_service: ServiceFactory) -> None:
    """Authelia CVE-2026-47203: ``Admin`` and ``admin`` had separate ban counters."""
    service = await start_service()
    full_width = "\uff41\uff44\uff4d\uff49\uff4e"  # "admin" in full-width letters
    spellings = ["Admin", "ADMIN", " admin", "admin ", full_width, full_width.upper(), "aDmIn"]
    answers = [
        await _try(service, spellings[i % len(spellings)], "wrong password", f"192.0.2.{i}")
        for i in range(10)
    ]
    assert answers == ["401"] * 10
    # The default 10/minute per username is used up, whichever spelling comes next.
    for i, name in enumerate(spellings):
        assert await _try(service, name, "wrong password", f"198.51.100.{i}") == "429"
    assert await _try(service, "admin", ADMIN_PASSWORD, "203.0.113.1") == "429"
    found = [(lock.kind, lock.key) for lock in service.services.lockouts.lockouts()]
    assert found == [("username", "admin")]


def _random_name(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=12))


async def test_random_username_flood_is_bounded(start_service: ServiceFactory) -> None:
    """tinyauth GHSA-9xhm-w3wj-xhqh: random usernames must not grow memory or lock users out."""
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    guard = service.services.lockouts
    rng = random.Random(1234)
    now = time.time()
    for i in range(10_000):
        attempt = Attempt(
            f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", _random_name(rng), False, now
        )
        assert guard.wait(attempt) == 0
        guard.begin(attempt)
        guard.failed(attempt, now)
    assert len(guard._unknown) == lockouts.MAX_UNKNOWN_USER_KEYS
    assert len(guard._unknown) <= lockouts.MAX_UNKNOWN_USER_KEYS
    assert len(guard._clients) <= lockouts.MAX_CLIENT_KEYS
    assert guard.tracked_keys() <= 10_000 + lockouts.MAX_UNKNOWN_USER_KEYS
    assert guard.lockouts() == []
    status, body = await _server_login(service)
    assert status == 200, body


async def test_client_flood_is_bounded(start_service: ServiceFactory) -> None:
    service = await start_service()
    guard = service.services.lockouts
    rng = random.Random(99)
    now = time.time()
    for i in range(lockouts.MAX_CLIENT_KEYS + 5_000):
        attempt = Attempt(
            f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", _random_name(rng), False, now
        )
        guard.begin(attempt)
        guard.failed(attempt, now)
    assert len(guard._clients) == lockouts.MAX_CLIENT_KEYS
    assert len(guard._unknown) == lockouts.MAX_UNKNOWN_USER_KEYS
    assert len(guard._users) == 0
    status, body = await _server_login(service)
    assert status == 200, body


async def _server_login(service: Service) -> tuple[int, object]:
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    return response.status, await response.json()
