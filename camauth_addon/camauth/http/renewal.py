"""Session cookies renew themselves on any answer, CamAuth's own or a proxied camera UI's."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from .app_keys import SERVICES, SETTINGS
from .context import RequestContext
from .responses import set_session_cookie

_LOGGER = logging.getLogger(__name__)


async def renew_session_cookie(
    request: web.Request, ctx: RequestContext, response: web.StreamResponse
) -> None:
    """Renew a session cookie that is close to expiring; a failure only skips the renewal."""
    auth = request.app[SETTINGS].auth
    claims, identity = ctx.claims, ctx.identity
    if claims is None or identity is None or response.prepared:
        return
    if claims.exp - time.time() >= auth.refresh_time:
        return
    try:
        refreshed = await request.app[SERVICES].sessions.refresh(identity, claims)
    except Exception:  # a locked database must not turn the answer into an error
        _LOGGER.exception("Could not renew the session cookie for %s", identity.username)
        return
    if refreshed is not None:
        set_session_cookie(response, refreshed, auth)
