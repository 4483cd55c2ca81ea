"""A login racing a change to its user: the change wins, whether it commits before or during.

Each race is driven on purpose, without sleeps: the service is built with a hasher whose next
``verify`` (real bcrypt) signals when the password has been checked and then waits to be
released. While the login waits there (after it read the user, before it stores a session),
the test commits a change through the public API, then releases the login.

The invariant (``storage/sessions.py``, ``insert_session``): a session, once created, never
carries a role, a password generation or a user that is no longer current.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from camauth.core.passwords import PasswordHasher
from tests.helpers import TEST_ROUNDS
from tests.machine.helpers import WAIT
from tests.service.test_serve_process import session_exists

from .conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory, with_auth
from .helpers import ADMIN_REQUIRED, AUTH_REQUIRED, INVALID_CREDENTIALS

ALICE = "amber lattice comet 4"
NEW_PASSWORD = "granite willow ferry 58"
ORDERINGS = ["before-the-read", "during-the-login"]

Change = Callable[[], Awaitable[None]]
AdminAction = Callable[["Race"], Awaitable[None]]  # a change that needs the race to run in


class Hold:
    """One held ``verify``: ``reached`` is set when it waits, ``release`` lets it go on."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self._go = asyncio.Event()

    def release(self) -> None:
        self._go.set()

    async def wait(self) -> None:
        self.reached.set()
        await self._go.wait()


class HoldingHasher(PasswordHasher):
    """Real bcrypt at the test cost; the next ``verify`` waits, with its answer, when asked."""

    def __init__(self) -> None:
        super().__init__(rounds=TEST_ROUNDS, workers=2)
        self._next: Hold | None = None

    @property
    def armed(self) -> bool:
        """Whether a hold is waiting for the next ``verify``."""
        return self._next is not None

    def hold_next_verify(self) -> Hold:
        self._next = Hold()
        return self._next

    async def verify(self, password: str, stored: str | None, **options: Any) -> bool:
        ok = await super().verify(password, stored, **options)
        hold, self._next = self._next, None  # one-shot: the change's own checks pass through
        if hold is not None:
            await hold.wait()
        return ok


@dataclass
class Race:
    """A service whose logins can be held, and an admin's bearer token on it."""

    service: Service
    hasher: HoldingHasher
    admin_token: str

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        """One request from a client without cookies, as ``token`` (the admin by default)."""
        client = await self.service.fresh_client()
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        async with client.request(
            method, self.service.url(path), headers=headers, **kwargs
        ) as response:
            return response.status, await response.json()

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """An admin request that must succeed."""
        status, body = await self.call(method, path, **kwargs)
        assert status == 200, (method, path, status, body)
        return body

    async def login(self, username: str, password: str) -> tuple[int, Any]:
        client = await self.service.fresh_client()
        body = {"username": username, "password": password}
        async with client.post(self.service.url("/api/login"), json=body) as response:
            return response.status, await response.json()

    async def login_racing(
        self, ordering: str, username: str, password: str, change: Change
    ) -> tuple[int, Any]:
        """Log in with ``change`` committed before the user is read, or while the login is held.

        Held: the password has been checked against the user as first read, and no session
        is stored yet; the change commits completely (its answer has arrived) before the
        login goes on.
        """
        if ordering == "before-the-read":
            await change()
            return await self.login(username, password)
        hold = self.hasher.hold_next_verify()
        login = asyncio.create_task(self.login(username, password))
        try:
            await asyncio.wait_for(hold.reached.wait(), WAIT)
            assert not login.done()
            await change()
            assert not login.done()  # the change did not wait for the login
        finally:
            hold.release()
        return await asyncio.wait_for(login, WAIT)

    def sids(self) -> set[str]:
        """Every stored session, read from the database file by another connection."""
        path = self.service.data_dir / "camauth.db"
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {row[0] for row in conn.execute("SELECT sid FROM sessions")}
        finally:
            conn.close()

    async def logged_logins(self, username: str) -> int:
        """How many ``login_succeeded`` events the audit log holds for ``username``."""
        events = await self.admin("GET", f"/api/events?type=login_succeeded&username={username}")
        return len(events)


@pytest.fixture
async def race(start_service: ServiceFactory) -> Race:
    """Users admin, viewer and alice (viewer); no throttling (some logins fail on purpose)."""
    hasher = HoldingHasher()
    service = await start_service(
        with_auth(failed_login_rate_limit="", failed_login_user_rate_limit=""), hasher=hasher
    )
    await service.services.users.create("alice", ALICE, "viewer")
    race = Race(service, hasher, "")
    status, body = await race.login("admin", ADMIN_PASSWORD)
    assert status == 200, body
    race.admin_token = body["token"]
    return race


async def assert_acts_as(race: Race, token: str, username: str, role: str) -> None:
    """Every way of asking says the session is ``username`` with ``role``, as stored now."""
    assert jwt.decode(token, options={"verify_signature": False})["role"] == role
    assert await race.call("GET", "/api/profile", token) == (
        200,
        {"username": username, "role": role, "auth_method": "session"},
    )
    status, body = await race.call("GET", "/api/users", token)
    if role == "admin":
        assert status == 200, body
    else:
        assert (status, body) == (403, ADMIN_REQUIRED)
    client = await race.service.fresh_client()
    headers = {"Authorization": f"Bearer {token}"}
    async with client.get(race.service.url("/api/auth"), headers=headers) as answer:
        assert answer.status == 200
        assert answer.headers["Remote-User"] == username
        assert answer.headers["Remote-Role"] == role


# (a) A role change


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize(("before", "after"), [("admin", "viewer"), ("viewer", "admin")])
async def test_a_role_change_applies_to_the_login_it_races(
    race: Race, ordering: str, before: str, after: str
) -> None:
    if before != "viewer":
        await race.admin("PUT", "/api/users/alice/role", json={"role": before})

    async def change_role() -> None:
        await race.admin("PUT", "/api/users/alice/role", json={"role": after})

    status, body = await race.login_racing(ordering, "alice", ALICE, change_role)
    assert status == 200, body
    assert (body["username"], body["role"]) == ("alice", after)
    await assert_acts_as(race, body["token"], "alice", after)


# (b, c) A password change: by the user from another session, or by an admin


async def own_change(race: Race) -> Change:
    """The viewer changes their own password from a session opened beforehand."""
    status, body = await race.login("viewer", VIEWER_PASSWORD)
    assert status == 200, body
    other_session = body["token"]

    async def change() -> None:
        answer = await race.call(
            "PUT",
            "/api/auth/password",
            other_session,
            json={"old_password": VIEWER_PASSWORD, "password": NEW_PASSWORD},
        )
        assert answer[0] == 200, answer

    return change


async def admin_set(race: Race) -> Change:
    async def change() -> None:
        await race.admin("PUT", "/api/users/viewer/password", json={"password": NEW_PASSWORD})

    return change


async def admin_reset(race: Race) -> Change:
    async def change() -> None:
        body = await race.admin("POST", "/api/users/viewer/reset_password", json={})
        assert len(body["password"]) >= 16

    return change


async def admin_reset_to(race: Race) -> Change:
    async def change() -> None:
        body = {"password": NEW_PASSWORD}
        await race.admin("POST", "/api/users/viewer/reset_password", json=body)

    return change


PASSWORD_CHANGES = {
    "by-the-user": own_change,
    "set-by-an-admin": admin_set,
    "reset-by-an-admin-generated": admin_reset,
    "reset-by-an-admin-given": admin_reset_to,
}


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("how", PASSWORD_CHANGES)
async def test_a_login_with_the_old_password_loses_to_a_password_change(
    race: Race, ordering: str, how: str
) -> None:
    change = await PASSWORD_CHANGES[how](race)
    logged = await race.logged_logins("viewer")
    sids: set[str] = set()

    async def change_and_note_sessions() -> None:
        await change()
        sids.update(race.sids())  # every session there is once the change has committed

    status, body = await race.login_racing(
        ordering, "viewer", VIEWER_PASSWORD, change_and_note_sessions
    )
    assert (status, body) == (401, INVALID_CREDENTIALS)
    assert race.sids() == sids  # no session was stored for the login that lost
    assert await race.logged_logins("viewer") == logged  # nor a login_succeeded event


# (d) Deletion


@pytest.mark.parametrize("ordering", ORDERINGS)
async def test_a_login_racing_the_deletion_of_its_user_is_refused(
    race: Race, ordering: str
) -> None:
    sids: set[str] = set()

    async def delete() -> None:
        await race.admin("DELETE", "/api/users/alice")
        sids.update(race.sids())

    status, body = await race.login_racing(ordering, "alice", ALICE, delete)
    assert (status, body) == (401, INVALID_CREDENTIALS)  # never a 500
    assert race.sids() == sids
    assert await race.logged_logins("alice") == 0
    status, users = await race.call("GET", "/api/users")
    assert status == 200
    assert "alice" not in [user["username"] for user in users]


# (e) Revoking every session


async def test_a_session_started_during_revoke_all_does_not_survive_it(race: Race) -> None:
    status, body = await race.login("alice", ALICE)
    assert status == 200
    earlier = body["token"]
    sids: set[str] = set()

    async def revoke_all() -> None:
        answer = await race.admin("POST", "/api/users/alice/revoke_sessions")
        assert answer["revoked"] == 1
        sids.update(race.sids())

    status, body = await race.login_racing("during-the-login", "alice", ALICE, revoke_all)
    assert await race.call("GET", "/api/profile", earlier) == (401, AUTH_REQUIRED)
    if status == 200:  # a session may be issued only if it is already over
        token = body["token"]
        assert await race.call("GET", "/api/profile", token) == (401, AUTH_REQUIRED)
        assert not session_exists(race.service.data_dir, token)
    else:
        assert (status, body) == (401, INVALID_CREDENTIALS)
    assert race.sids() == sids
    # Revoking is not a ban: the next login of alice works and lasts.
    status, body = await race.login("alice", ALICE)
    assert status == 200
    await assert_acts_as(race, body["token"], "alice", "viewer")


async def test_a_login_after_revoke_all_is_a_new_session_that_lasts(race: Race) -> None:
    async def revoke_all() -> None:
        await race.admin("POST", "/api/users/alice/revoke_sessions")

    status, body = await race.login_racing("before-the-read", "alice", ALICE, revoke_all)
    assert status == 200, body
    await assert_acts_as(race, body["token"], "alice", "viewer")
    assert session_exists(race.service.data_dir, body["token"])


# The hold itself: a login that is released without a change succeeds as usual.


async def test_a_held_login_without_a_change_succeeds(race: Race) -> None:
    async def nothing() -> None:
        assert not race.hasher.armed  # the login is the one being held

    status, body = await race.login_racing("during-the-login", "alice", ALICE, nothing)
    assert status == 200, body
    await assert_acts_as(race, body["token"], "alice", "viewer")


# A password change by the user is a login too: it proved the current password, and must not
# win over an admin's reset or revoke-all that commits while it is being checked (an admin
# who resets a stolen account must not be overridden by the thief's change in flight).

ADMIN_CHOICE = "orchid basalt kettle 62"


async def admin_set_to_choice(race: Race) -> None:
    await race.admin("PUT", "/api/users/viewer/password", json={"password": ADMIN_CHOICE})


async def admin_reset_to_choice(race: Race) -> None:
    await race.admin("POST", "/api/users/viewer/reset_password", json={"password": ADMIN_CHOICE})


async def admin_revokes_all(race: Race) -> None:
    await race.admin("POST", "/api/users/viewer/revoke_sessions")


async def admin_deletes(race: Race) -> None:
    await race.admin("DELETE", "/api/users/viewer")


# The admin's action, and the password that logs in afterwards (None: the user is gone).
ADMIN_ACTIONS: dict[str, tuple[AdminAction, str | None]] = {
    "set": (admin_set_to_choice, ADMIN_CHOICE),
    "reset": (admin_reset_to_choice, ADMIN_CHOICE),
    "revoke-all": (admin_revokes_all, VIEWER_PASSWORD),
    "delete": (admin_deletes, None),
}


@pytest.mark.parametrize("action", ADMIN_ACTIONS)
async def test_an_own_password_change_loses_to_an_admin_change_made_while_it_is_checked(
    race: Race, action: str
) -> None:
    admin_action, password_after = ADMIN_ACTIONS[action]
    status, body = await race.login("viewer", VIEWER_PASSWORD)
    assert status == 200
    session = body["token"]
    hold = race.hasher.hold_next_verify()
    change = asyncio.create_task(
        race.call(
            "PUT",
            "/api/auth/password",
            session,
            json={"old_password": VIEWER_PASSWORD, "password": NEW_PASSWORD},
        )
    )
    try:
        await asyncio.wait_for(hold.reached.wait(), WAIT)
        await admin_action(race)
        sids = race.sids()
    finally:
        hold.release()
    status, body = await asyncio.wait_for(change, WAIT)

    assert status == 401, body
    assert "token" not in body
    assert race.sids() == sids  # no session for the change that lost
    # The admin's decision stands: the password is the one it left, not the change's.
    assert (await race.login("viewer", NEW_PASSWORD))[0] == 401
    if password_after is not None:
        status, body = await race.login("viewer", password_after)
        assert status == 200, body
    else:
        assert (await race.login("viewer", VIEWER_PASSWORD))[0] == 401
