"""Statistics for dashboards and the Home Assistant integration (cheap to poll)."""

from __future__ import annotations

import time
from typing import Any

from ..const import ROLES, VERSION
from ..storage.db import Database
from ..storage.stats import stored_stats
from .audit import AuditLog
from .lockouts import KIND_USERNAME, LoginGuard
from .names import lookup_key
from .sessions import SessionDirectory


class StatsService:
    """Everything ``/api/stats`` reports, consistent with the audit log."""

    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        directory: SessionDirectory,
        guard: LoginGuard,
        *,
        instance_id: str,
        auth_enabled: bool,
    ) -> None:
        """Wire the parts."""
        self._db = db
        self._audit = audit
        self._directory = directory
        self._guard = guard
        self.instance_id = instance_id
        self._auth_enabled = auth_enabled

    async def collect(self) -> dict[str, Any]:
        """The current statistics."""
        now = time.time()
        await self._audit.flush()
        stored = await self._db.run(stored_stats, now)
        lockouts = self._guard.lockouts()
        locked = {lock.key for lock in lockouts if lock.kind == KIND_USERNAME}
        for entry in stored["user_activity"]:
            entry["locked_out"] = lookup_key(entry["username"]) in locked
        roles = stored.pop("roles")
        counts = {role: roles.get(role, 0) for role in ROLES}
        return {
            "instance_id": self.instance_id,
            "users": {**counts, "total": sum(roles.values())},
            **stored,
            "active_sessions": self._directory.active_sessions(now),
            "lockouts": [lockout.as_json(now) for lockout in lockouts],
            "auth_enabled": self._auth_enabled,
            "version": VERSION,
            "timestamp": now,
        }
