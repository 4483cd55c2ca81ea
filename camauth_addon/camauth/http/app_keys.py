"""Typed keys for what the application shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from ..core.services import Services
from ..options import Settings

SERVICES: web.AppKey[Services] = web.AppKey("services", Services)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
WEBSOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
