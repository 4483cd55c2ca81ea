"""``camauth serve``: start the gateway and stop it cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ..const import DEFAULT_HOST, LOGIN_PATH, RESERVED_PREFIX, VERSION
from ..core.services import Services, open_services
from ..http.app import GatewayRunner, create_app
from ..http.ingress import create_ingress_app
from ..http.tls import Certificates
from ..jwt_secret import JwtSecret
from ..options import Settings
from ..supervisor.auth import HomeAssistantAuth
from ..supervisor.discovery import SUPERVISOR_TOKEN_ENV, start_discovery
from ..supervisor.exposure import HOST_ADDRESS, watch_upstreams
from .onboarding import ensure_admin, print_banner

_LOGGER = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 3.0  # seconds open requests get to finish when CamAuth stops


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """Where to keep data and where to listen."""

    data_dir: Path
    host: str
    port: int
    ingress_port: int | None = None  # the admin panel for Home Assistant's ingress


def prepare_data_dir(path: Path) -> None:
    """Create the data directory, readable by this user only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def listening_on(host: str, port: int) -> str:
    """Where the service really listens, in words."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  # nosec B104
        return f"port {port} on every network interface ({host or DEFAULT_HOST})"
    return f"port {port} on {host} only"


def public_url(host: str, port: int, *, tls: bool = False) -> str:
    """A URL a person on this machine can open (the login page, under CamAuth's own prefix)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  # nosec B104
    shown = f"[{shown}]" if ":" in shown else shown
    return f"{'https' if tls else 'http'}://{shown}:{port}{RESERVED_PREFIX}{LOGIN_PATH}"


def _stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (installed before anything listens)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(
    settings: Settings,
    services: Services,
    sock: socket.socket,
    certificates: Certificates | None,
) -> web.AppRunner:
    # Streams through the built-in proxy never end by themselves: stopping waits this long.
    runner = GatewayRunner(
        create_app(settings, services), handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    try:
        context = certificates.context if certificates is not None else None
        await web.SockSite(runner, sock, ssl_context=context).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def ingress_host(environ: Mapping[str, str] = os.environ) -> str:
    """Where the ingress listener binds: all interfaces in the add-on, else 127.0.0.1 only.

    In the add-on the Supervisor connects from the hassio network; anywhere else nobody but
    this machine should reach a listener that trusts its peer.
    """
    return DEFAULT_HOST if environ.get(SUPERVISOR_TOKEN_ENV) else "127.0.0.1"


async def _serve_ingress(settings: Settings, services: Services, port: int) -> web.AppRunner:
    runner = web.AppRunner(create_ingress_app(settings, services), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, ingress_host(), port, reuse_address=True).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def _watch_exposure(settings: Settings, services: Services) -> asyncio.Task[None] | None:
    """Look for upstreams reachable without CamAuth (the host is probed in the add-on only)."""
    if not settings.upstreams:
        return None
    host = HOST_ADDRESS if os.environ.get(SUPERVISOR_TOKEN_ENV) else None
    return asyncio.create_task(watch_upstreams(settings.upstreams, services.warnings, host))


async def run(settings: Settings, secret: JwtSecret, config: ServeConfig) -> None:
    """Serve until a stop signal arrives."""
    stop = _stop_event()
    certificates = Certificates(settings.tls) if settings.tls.enabled else None
    # The port comes first: one that is taken must not cost the first admin password. Until
    # serving starts, connections wait in the socket's backlog.
    sock = socket.create_server((config.host, config.port))
    _LOGGER.info("JWT secret from %s", secret.source)
    try:
        checker = HomeAssistantAuth.from_environment()
        services = await open_services(
            config.data_dir,
            settings.auth,
            secret.value,
            home_assistant=checker.check if checker is not None else None,
        )
    except BaseException:
        sock.close()
        raise
    try:
        url = public_url(config.host, config.port, tls=certificates is not None)
        reset = settings.auth.reset_admin_password
        password = await ensure_admin(services, reset=reset)
        if password is not None:
            listening = listening_on(config.host, config.port)
            print_banner(password, url, reset=reset, listening=listening)
        runners = [await _serve(settings, services, sock, certificates)]
        watching = asyncio.create_task(certificates.watch()) if certificates else None
        exposure = _watch_exposure(settings, services)
        if config.ingress_port is not None:
            runners.append(await _serve_ingress(settings, services, config.ingress_port))
            _LOGGER.info("Admin panel for ingress on %s:%d", ingress_host(), config.ingress_port)
        _LOGGER.info("CamAuth %s listening on %s:%d (%s)", VERSION, config.host, config.port, url)
        discovery = await start_discovery(
            services, config.data_dir, config.port, tls=certificates is not None
        )
        await stop.wait()
        _LOGGER.info("Stopping")
        for task in (discovery, watching, exposure):
            if task is not None:
                task.cancel()
        for runner in reversed(runners):
            await runner.cleanup()
    finally:
        await services.close()
