"""Is a camera UI behind CamAuth also reachable without it? What CamAuth can tell, it says.

Two cases are visible from inside the add-on: an upstream addressed by an IP on the home
network (anyone there reaches it as CamAuth does), and an upstream whose port is also
published on the Home Assistant host (the Docker host answers on it). Either becomes a
configuration warning, and so a repair issue in Home Assistant.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import Final
from urllib.parse import urlsplit

from ..core.upstreams import Upstream
from ..core.warnings import ConfigWarnings

_LOGGER = logging.getLogger(__name__)

# The Supervisor's network, where add-ons talk to each other; its gateway is the host.
SUPERVISOR_NETWORK: Final = ipaddress.ip_network("172.30.32.0/23")
HOST_ADDRESS: Final = "172.30.32.1"
PROBE_TIMEOUT: Final = 2.0
CHECK_INTERVAL: Final = 600.0  # another add-on's ports change when it restarts, not CamAuth


def _on_home_network(host: str) -> bool:
    """Whether an upstream's host is an IP address others on the network can reach."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: an add-on's or container's, on an internal network
    return not (address.is_loopback or address in SUPERVISOR_NETWORK)


def _port(upstream: Upstream) -> int:
    parts = urlsplit(upstream.origin)
    return parts.port or (443 if parts.scheme == "https" else 80)


async def answers(host: str, port: int) -> bool:
    """Whether something accepts TCP connections at host:port (within a short wait)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), PROBE_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def check_upstreams(
    upstreams: tuple[Upstream, ...], warnings: ConfigWarnings, host_address: str | None
) -> None:
    """Warn about each upstream reachable without CamAuth; ``host_address``: probe the host."""
    for upstream in upstreams:
        host = urlsplit(upstream.origin).hostname or ""
        port = _port(upstream)
        if _on_home_network(host):
            shown = f"[{host}]" if ":" in host else host
            warnings.upstream_exposed(upstream.name, f"{shown}:{port}")
        elif host_address is not None and await answers(host_address, port):
            warnings.upstream_exposed(upstream.name, f"port {port} of the Home Assistant host")


async def watch_upstreams(
    upstreams: tuple[Upstream, ...], warnings: ConfigWarnings, host_address: str | None
) -> None:
    """Check now, then every ten minutes (runs until cancelled)."""
    while True:
        try:
            await check_upstreams(upstreams, warnings, host_address)
        except Exception:  # a failed look must not end the watch
            _LOGGER.exception("Could not check whether the upstreams are exposed")
        await asyncio.sleep(CHECK_INTERVAL)
