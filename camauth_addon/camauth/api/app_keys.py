"""Typed keys for what the application shares with its handlers."""

from __future__ import annotations

from aiohttp import web

from ..accounts import Accounts
from ..options import Settings

ACCOUNTS: web.AppKey[Accounts] = web.AppKey("accounts", Accounts)
SETTINGS: web.AppKey[Settings] = web.AppKey("settings", Settings)
WEBSOCKETS = web.AppKey("websockets", set[web.WebSocketResponse])
