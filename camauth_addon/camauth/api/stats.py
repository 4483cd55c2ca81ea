"""Statistics for dashboards and the Home Assistant integration (cheap to poll)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from aiohttp import web

from ..accounts import Accounts
from ..audit import audit_stats
from ..const import ADMIN_USERNAME, ROLES, VERSION
from .app_keys import ACCOUNTS, SETTINGS


def _user_stats(conn: sqlite3.Connection) -> dict[str, Any]:
    counts = dict.fromkeys(ROLES, 0)
    for role, count in conn.execute("SELECT role, COUNT(*) FROM users GROUP BY role"):
        counts[role] = count
    row = conn.execute(
        "SELECT password_generated FROM users WHERE username_key = ?", (ADMIN_USERNAME,)
    ).fetchone()
    return {
        "users": {**counts, "total": sum(counts.values())},
        "admin_password_generated": bool(row and row[0]),
    }


def _stored_stats(conn: sqlite3.Connection, now: float) -> dict[str, Any]:
    return {**_user_stats(conn), **audit_stats(conn, now)}


async def collect_stats(accounts: Accounts, auth_enabled: bool) -> dict[str, Any]:
    """Everything ``/api/stats`` reports, consistent with the audit log."""
    now = time.time()
    await accounts.audit.flush()
    stored = await accounts.db.run(_stored_stats, now)
    return {
        **stored,
        "active_sessions": accounts.directory.active_sessions(now),
        "lockouts": [lockout.as_json(now) for lockout in accounts.guard.lockouts()],
        "auth_enabled": auth_enabled,
        "version": VERSION,
        "timestamp": now,
    }


async def stats(request: web.Request) -> web.Response:
    """The current statistics."""
    settings = request.app[SETTINGS]
    return web.json_response(await collect_stats(request.app[ACCOUNTS], settings.auth.enabled))
