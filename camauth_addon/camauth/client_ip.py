"""The client address of a request: decided once, here, and used everywhere else."""

from __future__ import annotations

from aiohttp import web

KEY_CLIENT = "camauth_client"


def peer_address(request: web.Request) -> str:
    """The address of the direct peer; 'unknown' for sockets without one."""
    return request.remote or "unknown"


def client_address(request: web.Request) -> str:
    """The client address (the direct peer until trusted proxies are configured)."""
    cached = request.get(KEY_CLIENT)
    if cached is None:
        cached = request[KEY_CLIENT] = peer_address(request)
    return str(cached)
