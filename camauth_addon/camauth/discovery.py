"""Home Assistant hook-up: when running as an add-on, announce CamAuth to the Supervisor.

Outside the add-on (no ``SUPERVISOR_TOKEN``) nothing here runs. Inside it, CamAuth makes a
fresh admin API key named ``homeassistant`` (a stored key's secret cannot be recovered, so
it is rotated on every start) and posts it, with host and port, to the Supervisor's discovery
endpoint as service ``camauth``, retrying with back-off until the Supervisor answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping
from typing import Any

import aiohttp

from . import api_keys as keys_db
from .accounts import Accounts, Actor
from .const import ROLE_ADMIN

_LOGGER = logging.getLogger(__name__)

# The name of an environment variable, not a secret.
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"  # noqa: S105  # nosec B105
SUPERVISOR_URL_ENV = "CAMAUTH_SUPERVISOR_URL"
DEFAULT_SUPERVISOR_URL = "http://supervisor"
SERVICE = "camauth"
KEY_NAME = "homeassistant"
MAX_BACKOFF = 300.0


async def ensure_ha_key(accounts: Accounts) -> str:
    """A new admin key named ``homeassistant``, replacing any earlier one."""
    old = await accounts.db.run(keys_db.get_key_by_name, KEY_NAME)
    actor = Actor("camauth")
    if old is not None:
        await accounts.revoke_key(old.id, actor=actor)
    created = await accounts.create_key(KEY_NAME, ROLE_ADMIN, (), actor=actor)
    return created.secret


async def announce(session: aiohttp.ClientSession, url: str, token: str, config: Any) -> None:
    """Post one discovery message; raises on anything but success."""
    payload = {"service": SERVICE, "config": config}
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(f"{url}/discovery", json=payload, headers=headers) as response:
        response.raise_for_status()


async def announce_until_done(url: str, token: str, config: Any, first_delay: float = 1.0) -> None:
    """Announce, retrying with exponential back-off (capped) until the Supervisor accepts."""
    delay = first_delay
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                await announce(session, url, token, config)
            except (aiohttp.ClientError, TimeoutError) as err:
                _LOGGER.warning("Supervisor discovery failed (%s); retrying in %.0f s", err, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            _LOGGER.info("Announced CamAuth to Home Assistant (discovery service %s)", SERVICE)
            return


async def start_discovery(
    accounts: Accounts, port: int, environ: Mapping[str, str] = os.environ
) -> asyncio.Task[None] | None:
    """Begin announcing when running as an add-on; None (and no key) otherwise."""
    token = environ.get(SUPERVISOR_TOKEN_ENV, "")
    if not token:
        return None
    key = await ensure_ha_key(accounts)
    config = {"host": socket.gethostname(), "port": port, "api_key": key}
    url = environ.get(SUPERVISOR_URL_ENV, DEFAULT_SUPERVISOR_URL).rstrip("/")
    return asyncio.create_task(announce_until_done(url, token, config))
