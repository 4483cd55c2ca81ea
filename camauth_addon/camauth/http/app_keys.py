"""Typed keys for what the application shares with its handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..core.services import Services
from ..options import Settings

if TYPE_CHECKING:
    from .middlewares import Gateway

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
WEBSOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway")
