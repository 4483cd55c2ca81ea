"""``camauth serve``: start the gateway and stop it cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .accounts import Accounts
from .app import create_app
from .const import DATABASE_FILE, LOGIN_PATH, VERSION
from .discovery import start_discovery
from .jwt_secret import JwtSecret
from .onboarding import ensure_admin, print_banner
from .options import Settings
from .passwords import PasswordHasher
from .store import Database
from .tokens import TokenCodec

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Where to keep data and where to listen."""

    data_dir: Path
    host: str
    port: int


def prepare_data_dir(path: Path) -> None:
    """Create the data directory, readable by this user only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


async def open_accounts(
    settings: Settings, data_dir: Path, secret: JwtSecret, hasher: PasswordHasher
) -> Accounts:
    """Open the database and everything that sessions need."""
    _LOGGER.info("JWT secret from %s", secret.source)
    db = Database(data_dir / DATABASE_FILE)
    await db.open()
    accounts = Accounts(db, hasher, TokenCodec(secret.value), settings.auth)
    await accounts.sync(force=True)
    return accounts


def public_url(host: str, port: int) -> str:
    """A URL a person on this machine can open."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  # nosec B104
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}{LOGIN_PATH}"


async def run(settings: Settings, secret: JwtSecret, config: ServeConfig) -> None:
    """Serve until a stop signal arrives."""
    hasher = PasswordHasher()
    accounts = await open_accounts(settings, config.data_dir, secret, hasher)
    try:
        reset = settings.auth.reset_admin_password
        password = await ensure_admin(accounts, reset=reset)
        runner = web.AppRunner(create_app(settings, accounts), handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, config.host, config.port, reuse_address=True).start()
        url = public_url(config.host, config.port)
        if password is not None:
            print_banner(password, url, reset=reset)
        _LOGGER.info("CamAuth %s listening on %s:%d (%s)", VERSION, config.host, config.port, url)
        discovery = await start_discovery(accounts, config.port)
        await _wait_for_stop()
        _LOGGER.info("Stopping")
        if discovery is not None:
            discovery.cancel()
        await runner.cleanup()
    finally:
        await accounts.db.close()
        hasher.close()


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
