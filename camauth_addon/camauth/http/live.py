"""Watching a long-lived connection: it ends the moment its credential stops allowing it."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from ..core.identity import SOURCE_INGRESS
from ..core.live import ACCESS_LOST, CREDENTIAL_ENDED, Close, CloseReason
from ..core.policy import Target, decide
from .app_keys import SERVICES, SETTINGS
from .context import context


def watch_access(request: web.Request, target: Target, close: Close) -> Callable[[], None]:
    """Re-ask the policy about ``target`` on every change; ``close`` when it says no.

    Returns the function that stops watching (call it when the connection ends).
    """
    services = request.app[SERVICES]
    if context(request).source == SOURCE_INGRESS:
        return lambda: None  # Home Assistant's user: nothing in CamAuth can revoke it
    credential = context(request).credential
    enabled = request.app[SETTINGS].auth.enabled

    def recheck() -> CloseReason | None:
        if not enabled:
            return None
        found = credential and services.authenticator.authenticate(credential, time.time())
        if not found:
            return CREDENTIAL_ENDED
        allowed = decide(found.identity, target, services.roles.book).allowed
        return None if allowed else ACCESS_LOST

    return services.live.watch(recheck, close)
