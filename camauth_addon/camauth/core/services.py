"""The services, built in one place: what HTTP handlers, the shell and the panel call.

No handler or command touches storage directly: each asks one of these services, and each
service emits the events of what it changes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from ..const import DATABASE_FILE
from ..options import AuthSettings
from ..storage.db import Database, instance_id
from .api_keys import KeyService
from .audit import AuditLog
from .authn import Authenticator
from .devices import DeviceCookies
from .events import EventBus
from .first_password import FirstPassword
from .live import LiveConnections
from .lockouts import LoginGuard
from .logins import LoginService
from .passwords import PasswordHasher
from .rate_limit import parse_windows
from .roles import RoleService
from .sessions import SessionService
from .stats import StatsService
from .tokens import TokenCodec
from .users import UserService
from .warnings import ConfigWarnings


@dataclass(frozen=True, slots=True)
class Services:
    """Every service of one CamAuth, sharing one database, event bus and set of mirrors."""

    db: Database
    bus: EventBus
    live: LiveConnections
    hasher: PasswordHasher
    users: UserService
    sessions: SessionService
    keys: KeyService
    logins: LoginService
    lockouts: LoginGuard
    audit: AuditLog
    stats: StatsService
    authenticator: Authenticator
    warnings: ConfigWarnings
    roles: RoleService

    async def sync(self) -> None:
        """Follow changes the shell made: reload the mirrors and stream its events."""
        if await self.db.changed_elsewhere():
            await self.roles.load()
            await self.sessions.load()
            await self.keys.load()
            await self.audit.follow()

    async def close(self) -> None:
        """Write what is pending, then release the database and hashing threads."""
        await self.audit.close()
        await self.keys.record_use()
        await self.sessions.record_seen()
        await self.db.close()
        self.hasher.close()


async def open_services(
    data_dir: Path,
    auth: AuthSettings,
    secret: str | None = None,
    *,
    hasher: PasswordHasher | None = None,
) -> Services:
    """Open the database in ``data_dir`` and build every service on it.

    Without a ``secret`` (the shell, which never issues or checks a token) a random one is used.
    """
    db = Database(data_dir / DATABASE_FILE)
    await db.open()
    origin = secrets.token_hex(8)  # names this process's events in the shared audit log
    secret = secret or secrets.token_hex(32)
    bus, live = EventBus(), LiveConnections()
    hasher = hasher or PasswordHasher()
    guard = LoginGuard(
        parse_windows(auth.failed_login_rate_limit),
        parse_windows(auth.failed_login_user_rate_limit),
        bus,
    )
    sessions = SessionService(db, TokenCodec(secret), auth, bus, live, origin)
    roles = RoleService(db, bus, live, origin)
    keys = KeyService(db, bus, live, origin, roles.book)
    users = UserService(db, hasher, bus, sessions.directory, origin, roles.book)
    users.first_password = FirstPassword(data_dir)
    audit = AuditLog(db, bus, origin)
    stats = StatsService(
        db,
        audit,
        sessions.directory,
        guard,
        instance_id=await db.run(instance_id),
        auth_enabled=auth.enabled,
    )
    services = Services(
        db=db,
        bus=bus,
        live=live,
        hasher=hasher,
        users=users,
        sessions=sessions,
        keys=keys,
        logins=LoginService(db, hasher, guard, users, sessions, bus, DeviceCookies(secret)),
        lockouts=guard,
        audit=audit,
        stats=stats,
        authenticator=Authenticator(sessions, keys),
        warnings=ConfigWarnings(),
        roles=roles,
    )
    await db.changed_elsewhere()  # the baseline: only later commits by others count
    await roles.load()
    await sessions.load()
    await keys.load()
    await audit.start_following()
    return services
