"""A cookie renewal that fails because the database is locked changes no answer.

Another connection really holds the database (``BEGIN EXCLUSIVE`` on the same file), so the
renewal's write fails with SQLite's "database is locked". Forward-auth must still answer 200
with the identity, and an API route its usual JSON: the renewal is skipped, never turned into
a 500. Once the lock is gone, the same cookie is renewed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie

import jwt
import pytest
from aiohttp import ClientResponse

from camauth.const import DATABASE_FILE
from camauth.core.tokens import TokenCodec

from .conftest import SECRET, VIEWER_PASSWORD, Service

# How long the service's connection waits for a lock (ms): short, so the test is quick.
BUSY_TIMEOUT_MS = 50


@contextmanager
def locked(service: Service) -> Iterator[None]:
    """Another connection holds the database's write lock for the block."""
    conn = sqlite3.connect(service.data_dir / DATABASE_FILE, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def renewed_cookie(response: ClientResponse) -> str | None:
    for header in response.headers.getall("Set-Cookie", []):
        parsed: SimpleCookie = SimpleCookie(header)
        if "camauth_token" in parsed:
            return parsed["camauth_token"].value
    return None


def due_for_renewal(token: str) -> str:
    """The cookie this service signed for the same session earlier, now 60 s from expiry.

    Signed with the service's own secret for the live session behind ``token``: what a
    browser holds shortly before ``refresh_time`` runs out, without waiting for it.
    """
    claims = jwt.decode(token, options={"verify_signature": False})
    now = time.time()
    return TokenCodec(SECRET).issue(
        username=claims["sub"],
        role=claims["role"],
        sid=claims["sid"],
        now=now - 86_000,
        expires_at=now + 60,
    )


async def test_a_locked_database_skips_the_renewal_and_changes_no_answer(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await service.services.db.run(
        lambda conn: conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    )
    cookie = due_for_renewal(await service.login("viewer", VIEWER_PASSWORD))
    client = await service.fresh_client()
    headers = {"Cookie": f"camauth_token={cookie}"}

    with locked(service):
        async with client.get(service.url("/api/auth"), headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            assert answer.headers["Remote-User"] == "viewer"
            assert answer.headers["Remote-Role"] == "viewer"
            assert renewed_cookie(answer) is None
        async with client.get(service.url("/api/profile"), headers=headers) as answer:
            assert answer.status == 200, await answer.text()
            assert answer.content_type == "application/json"
            body = await answer.json()
            assert (body["username"], body["role"]) == ("viewer", "viewer")
            assert renewed_cookie(answer) is None
        async with client.get(service.url("/api/nowhere"), headers=headers) as answer:
            assert answer.status == 404
            assert answer.content_type == "application/json"
            assert (await answer.json())["error"]
    failures = [r for r in caplog.records if "Could not renew the session cookie" in r.message]
    assert len(failures) == 3  # each answer above tried, and failed, to renew
    assert all("database is locked" in str(r.exc_info[1]) for r in failures if r.exc_info)

    # The lock was the only obstacle: the same cookie is renewed now.
    async with client.get(service.url("/api/auth"), headers=headers) as answer:
        assert answer.status == 200
        fresh = renewed_cookie(answer)
    assert fresh is not None
    expiry = jwt.decode(fresh, options={"verify_signature": False})["exp"]
    assert expiry > jwt.decode(cookie, options={"verify_signature": False})["exp"]
