"""Home Assistant hook-up: when running as an add-on, announce CamAuth to the Supervisor.

Outside the add-on (no ``SUPERVISOR_TOKEN``) nothing here runs. Inside it, CamAuth posts an
admin API key named ``homeassistant``, with host, port and its instance id, to the
Supervisor's discovery endpoint as service ``camauth``, retrying with back-off until the
Supervisor answers. The key is kept (0600) in the data directory and announced again on every
start: a restart is not a credential change. A new key is made only when that one is missing
or has been revoked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from ..const import ROLE_ADMIN
from ..core.services import Services
from ..core.sessions import Actor

_LOGGER = logging.getLogger(__name__)

# The name of an environment variable, not a secret.
SUPERVISOR_TOKEN_ENV = "SUPERVISOR_TOKEN"  # noqa: S105  # nosec B105
SUPERVISOR_URL_ENV = "CAMAUTH_SUPERVISOR_URL"
DEFAULT_SUPERVISOR_URL = "http://supervisor"
SERVICE = "camauth"
KEY_NAME = "homeassistant"
KEY_FILE = ".homeassistant_key"
MAX_BACKOFF = 300.0


def _read_key(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _write_key(path: Path, secret: str) -> None:
    """Write the key 0600 (never readable by others, not even for a moment), then rename."""
    temporary = path.with_name(path.name + ".new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    temporary.replace(path)


async def ensure_ha_key(services: Services, data_dir: Path) -> str:
    """The admin key named ``homeassistant``: the kept one while it works, else a new one."""
    path = data_dir / KEY_FILE
    kept = _read_key(path)
    if kept is not None and services.keys.identify(kept, time.time()) is not None:
        return kept
    actor = Actor("camauth")
    old = await services.keys.find(KEY_NAME)
    if old is not None:
        await services.keys.revoke(old.id, actor)
    created = await services.keys.create(KEY_NAME, ROLE_ADMIN, (), actor)
    _write_key(path, created.secret)
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
    services: Services,
    data_dir: Path,
    port: int,
    environ: Mapping[str, str] = os.environ,
    *,
    tls: bool = False,
) -> asyncio.Task[None] | None:
    """Begin announcing when running as an add-on; None (and no key) otherwise."""
    token = environ.get(SUPERVISOR_TOKEN_ENV, "")
    if not token:
        return None
    key = await ensure_ha_key(services, data_dir)
    config = {
        "host": socket.gethostname(),
        "port": port,
        "api_key": key,
        "instance_id": services.stats.instance_id,
        "ssl": tls,  # the gateway port speaks HTTPS (the `ssl` option)
    }
    url = environ.get(SUPERVISOR_URL_ENV, DEFAULT_SUPERVISOR_URL).rstrip("/")
    return asyncio.create_task(announce_until_done(url, token, config))
