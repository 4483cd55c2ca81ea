"""API keys for machines (``X-API-Key``): shown once, stored as a hash, revocable at once.

A key reads ``camauth_<prefix>_<secret>``. The prefix is not secret: it finds the record.
The secret is 256 random bits, so a fast hash (SHA-256) is the right way to store it, and the
stored hash is compared in constant time. Keys with ``paths`` are webhook keys: they pass
forward-auth only for those path prefixes, and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..storage.api_keys import ApiKey, create_key, delete_key, get_key_by_name, list_keys
from ..storage.api_keys import record_use as store_use
from ..storage.db import Database
from . import events
from .events import EventBus, make_event
from .identity import SOURCE_API_KEY, Identity
from .live import LiveConnections
from .paths import is_canonical
from .roles import RoleBook
from .sessions import NOBODY, Actor

__all__ = ["ApiKey", "KeyDirectory", "KeyService", "NewKey", "validate_name", "validate_paths"]

KEY_PATTERN = re.compile(r"camauth_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
NAME_PATTERN = re.compile(r"[A-Za-z0-9 ._-]{1,64}")
PATH_PREFIX = re.compile(r"/[A-Za-z0-9._~/-]{0,255}")
MAX_PATHS = 16


def validate_name(name: object) -> str:
    """A key name: 1-64 letters, digits, spaces, '.', '_' or '-'."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or not name.strip():
        raise BadRequest(
            "Key name must be 1-64 characters: letters, digits, space, '.', '_', '-'",
            key="invalid_key_name",
        )
    return name.strip()


def validate_paths(paths: object) -> tuple[str, ...]:
    """Webhook path prefixes: each already in canonical form (see core.paths)."""
    if not isinstance(paths, list | tuple) or len(paths) > MAX_PATHS:
        raise BadRequest(
            f"paths must be a list of at most {MAX_PATHS} path prefixes", key="invalid_key_paths"
        )
    for path in paths:
        if not isinstance(path, str) or not PATH_PREFIX.fullmatch(path) or not is_canonical(path):
            raise BadRequest(f"Not a path prefix: {path!r}", key="invalid_key_paths")
    return tuple(paths)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key: (the full key to show once, its prefix, the hash to store)."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    return f"camauth_{prefix}_{secret}", prefix, _hash(secret)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just created: the only time its secret is known."""

    key: ApiKey
    secret: str

    def as_json(self) -> dict[str, Any]:
        """The creation answer, with the key shown once."""
        return {**self.key.as_json(), "key": self.secret}


class KeyDirectory:
    """Keys in memory, by prefix; a revoked key is gone from here at once."""

    def __init__(self, live: LiveConnections) -> None:
        """Start empty; :meth:`load` fills it."""
        self._by_prefix: dict[str, ApiKey] = {}
        self._used: dict[int, float] = {}
        self._live = live
        # Counts changes: an answer computed from the keys holds while this is unchanged.
        self.generation = 0

    def load(self, keys: list[ApiKey]) -> None:
        """Replace every key with a fresh read of the database."""
        self.generation += 1
        self._by_prefix = {key.prefix: key for key in keys}
        self._live.recheck()

    def add(self, key: ApiKey) -> None:
        """Mirror a new key."""
        self.generation += 1
        self._by_prefix[key.prefix] = key

    def remove(self, key: ApiKey) -> None:
        """Mirror a revoked key; connections opened with it end now."""
        self.generation += 1
        self._by_prefix.pop(key.prefix, None)
        self._live.recheck()

    def used(self, key_id: int, now: float) -> None:
        """Note that a key was used (stored later)."""
        self._used[key_id] = now

    def authenticate(self, presented: str, now: float) -> ApiKey | None:
        """The key record for a presented key, or None."""
        match = KEY_PATTERN.fullmatch(presented.strip())
        if match is None:
            return None
        key = self._by_prefix.get(match.group(1))
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(match.group(2))):
            return None
        self._used[key.id] = now
        return key

    def has_key(self, key_id: int) -> bool:
        """Whether a key still exists."""
        return any(key.id == key_id for key in self._by_prefix.values())

    def take_usage(self) -> dict[int, float]:
        """Last-use times gathered since the previous call."""
        used, self._used = self._used, {}
        return used


class KeyService:
    """Creates, lists, checks and revokes API keys; emits their events."""

    def __init__(
        self, db: Database, bus: EventBus, live: LiveConnections, origin: str, roles: RoleBook
    ) -> None:
        """Wire the parts; :meth:`load` must run before the first request."""
        self._roles = roles
        self._db = db
        self._bus = bus
        self._origin = origin
        self.directory = KeyDirectory(live)

    async def load(self) -> None:
        """Read every key into memory."""
        self.directory.load(await self._db.run(list_keys))

    def identify(self, presented: str, now: float) -> Identity | None:
        """The identity behind an API key, or None."""
        key = self.directory.authenticate(presented, now)
        return None if key is None else self.identity_of(key)

    @staticmethod
    def identity_of(key: ApiKey) -> Identity:
        """The identity a key stands for."""
        return Identity(key.name, key.role, SOURCE_API_KEY, paths=key.paths)

    async def create(
        self, name: str, role: str, paths: tuple[str, ...], actor: Actor = NOBODY
    ) -> NewKey:
        """Create a key (name and paths already validated); its secret is shown once."""
        self._roles.require(role)
        secret, prefix, digest = new_key()

        def event_for(key: ApiKey) -> events.Event:
            return make_event(
                events.API_KEY_CREATED,
                username=actor.username,
                client=actor.client,
                key_id=key.id,
                name=key.name,
                role=key.role,
                paths=list(key.paths),
                **({"source": actor.source} if actor.source else {}),
            )

        key, event = await self._db.run(
            create_key, name, role, paths, prefix, digest, event_for=event_for, origin=self._origin
        )
        self.directory.add(key)
        self._bus.publish(event)
        return NewKey(key, secret)

    async def revoke(self, key_id: int, actor: Actor = NOBODY) -> ApiKey:
        """Revoke a key; it fails on its very next use, and its open streams close."""

        def event_for(key: ApiKey) -> events.Event:
            return make_event(
                events.API_KEY_REVOKED,
                username=actor.username,
                client=actor.client,
                key_id=key.id,
                name=key.name,
                **({"source": actor.source} if actor.source else {}),
            )

        key, event = await self._db.run(
            delete_key, key_id, event_for=event_for, origin=self._origin
        )
        self.directory.remove(key)
        self._bus.publish(event)
        return key

    async def list(self) -> list[ApiKey]:
        """All API keys (without secrets)."""
        return await self._db.run(list_keys)

    async def find(self, name: str) -> ApiKey | None:
        """A key by name."""
        return await self._db.run(get_key_by_name, name)

    async def record_use(self) -> None:
        """Store when keys were last used."""
        used = self.directory.take_usage()
        if used:
            await self._db.run(store_use, used)
