"""User management: create, delete, change role or password; each change emits its event."""

from __future__ import annotations

import secrets

from ..const import ADMIN_USERNAME
from ..storage import users as store
from ..storage.db import Database
from ..storage.sessions import principal
from ..storage.users import User
from . import events
from .events import Event, EventBus, make_event
from .first_password import FirstPassword
from .names import lookup_key
from .passwords import PasswordHasher, check_policy
from .roles import RoleBook
from .sessions import NOBODY, Actor, SessionDirectory


def generate_password() -> str:
    """A strong password for onboarding and resets (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)


class UserService:
    """Creates, changes and deletes users, keeping the session mirror in step."""

    def __init__(
        self,
        db: Database,
        hasher: PasswordHasher,
        bus: EventBus,
        directory: SessionDirectory,
        origin: str,
        roles: RoleBook,
    ) -> None:
        """Wire the parts."""
        self._roles = roles
        self._db = db
        self._hasher = hasher
        self._bus = bus
        self._directory = directory
        self._origin = origin
        self.first_password: FirstPassword | None = None  # set when a data directory is known

    async def get(self, username: str) -> User | None:
        """One user, or None."""
        return await self._db.run(store.get_user, username)

    async def list(self) -> list[User]:
        """All users, by name."""
        return await self._db.run(store.list_users)

    async def count(self) -> int:
        """How many users exist."""
        return await self._db.run(store.count_users)

    async def create(
        self,
        username: str,
        password: str,
        role: str,
        actor: Actor = NOBODY,
        *,
        generated: bool = False,
    ) -> User:
        """Create a user (name already validated) with a role that exists, after the policy."""
        self._roles.require(role)
        if not generated:
            check_policy(password, username)
        new_hash = await self._hasher.hash(password)

        def event_for(user: User) -> Event:
            return make_event(
                events.USER_CREATED,
                username=user.username,
                client=actor.client,
                role=user.role,
                **actor.detail(),
            )

        user, event = await self._db.run(
            store.create_user,
            username,
            role,
            new_hash,
            generated=generated,
            event_for=event_for,
            origin=self._origin,
        )
        self._directory.set_principal(principal(user))
        self._bus.publish(event)
        return user

    async def set_password(
        self,
        username: str,
        password: str,
        actor: Actor = NOBODY,
        *,
        generated: bool = False,
        checked: User | None = None,
    ) -> User:
        """Set a password (policy checked unless generated); the user's sessions end.

        ``checked``: the user as read when their current password was verified; a password
        change or revocation committed since then wins (401), as it does over a login.
        """
        if not generated:
            check_policy(password, username)
        new_hash = await self._hasher.hash(password)

        def event_for(user: User) -> Event:
            own = actor.username == user.username and actor.source is None
            kind = events.PASSWORD_CHANGED if own else events.PASSWORD_RESET
            return make_event(kind, username=user.username, client=actor.client, **actor.detail())

        user, event = await self._db.run(
            store.set_password,
            username,
            new_hash,
            generated=generated,
            event_for=event_for,
            origin=self._origin,
            generation=checked.generation if checked is not None else None,
        )
        self._directory.remove_user_sessions(user.id)
        if lookup_key(user.username) == ADMIN_USERNAME and self.first_password is not None:
            self.first_password.forget()  # onboarding keeps a new generated one itself
        self._bus.publish(event)
        return user

    async def reset_password(
        self, username: str, password: str | None, actor: Actor = NOBODY
    ) -> str | None:
        """An admin sets a password, or has a strong one generated (returned once)."""
        generated = password is None
        new_password = password if password is not None else generate_password()
        await self.set_password(username, new_password, actor, generated=generated)
        return new_password if generated else None

    async def set_role(self, username: str, role: str, actor: Actor = NOBODY) -> User:
        """Change to a role that exists; it applies to the user's next request."""
        self._roles.require(role)

        def event_for(before: User) -> Event:
            return make_event(
                events.ROLE_CHANGED,
                username=before.username,
                client=actor.client,
                old_role=before.role,
                role=role,
                **actor.detail(),
            )

        user, event = await self._db.run(
            store.set_role, username, role, event_for=event_for, origin=self._origin
        )
        self._directory.set_principal(principal(user))
        if event is not None:
            self._bus.publish(event)
        return user

    async def delete(self, username: str, actor: Actor = NOBODY) -> User:
        """Delete a user; their tokens stop working at once."""

        def event_for(user: User) -> Event:
            return make_event(
                events.USER_DELETED, username=user.username, client=actor.client, **actor.detail()
            )

        user, event = await self._db.run(
            store.delete_user, username, event_for=event_for, origin=self._origin
        )
        self._directory.remove_principal(user.id)
        self._bus.publish(event)
        return user

    async def rehash(self, user: User, password: str) -> None:
        """Upgrade a stored hash to the current cost (after a successful check)."""
        new_hash = await self._hasher.hash(password)
        await self._db.run(store.rehash_password, user.id, user.password_hash, new_hash)
