"""``camauth serve``: start the gateway and stop it cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..const import DEFAULT_HOST, LOGIN_PATH, VERSION
from ..core.services import Services, open_services
from ..http.app import GatewayRunner, create_app
from ..jwt_secret import JwtSecret
from ..options import Settings
from ..supervisor.discovery import start_discovery
from .onboarding import ensure_admin, print_banner

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


def listening_on(host: str, port: int) -> str:
    """Where the service really listens, in words."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  # nosec B104
        return f"port {port} on every network interface ({host or DEFAULT_HOST})"
    return f"port {port} on {host} only"


def public_url(host: str, port: int) -> str:
    """A URL a person on this machine can open."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  # nosec B104
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}{LOGIN_PATH}"


def _stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (installed before anything listens)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(settings: Settings, services: Services, sock: socket.socket) -> web.AppRunner:
    runner = GatewayRunner(create_app(settings, services), handle_signals=False)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def run(settings: Settings, secret: JwtSecret, config: ServeConfig) -> None:
    """Serve until a stop signal arrives."""
    stop = _stop_event()
    # The port comes first: one that is taken must not cost the first admin password. Until
    # serving starts, connections wait in the socket's backlog.
    sock = socket.create_server((config.host, config.port))
    _LOGGER.info("JWT secret from %s", secret.source)
    try:
        services = await open_services(config.data_dir, settings.auth, secret.value)
    except BaseException:
        sock.close()
        raise
    try:
        url = public_url(config.host, config.port)
        reset = settings.auth.reset_admin_password
        password = await ensure_admin(services, reset=reset)
        if password is not None:
            listening = listening_on(config.host, config.port)
            print_banner(password, url, reset=reset, listening=listening)
        runner = await _serve(settings, services, sock)
        _LOGGER.info("CamAuth %s listening on %s:%d (%s)", VERSION, config.host, config.port, url)
        discovery = await start_discovery(services, config.data_dir, config.port)
        await stop.wait()
        _LOGGER.info("Stopping")
        if discovery is not None:
            discovery.cancel()
        await runner.cleanup()
    finally:
        await services.close()
