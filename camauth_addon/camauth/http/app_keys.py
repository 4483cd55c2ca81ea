"""Typed keys for what the application shares with its handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from ..core.services import Services
from ..options import Settings

if TYPE_CHECKING:
    from .middlewares import Gateway
    from .pages import Pages

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
WEBSOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway")
PAGES: web.AppKey[Pages] = web.AppKey("pages")  # pages.py needs these keys itself
# The pooled connections to the camera UIs of the built-in proxy (only with upstreams).
UPSTREAM_CLIENT: web.AppKey[aiohttp.ClientSession] = web.AppKey(
    "upstream_client", aiohttp.ClientSession
)
