"""Sessions for admins: who is signed in, from where; end one."""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from aiohttp import web

from ...core.sessions import SessionRow, public_id
from ...errors import BadRequest
from ..app_keys import SERVICES
from ..request import actor_of
from ..responses import success

QUERY_SCHEMA = vol.Schema({vol.Optional("username"): vol.All(str, vol.Length(min=1, max=256))})


def session_json(row: SessionRow) -> dict[str, Any]:
    """A session as listed: never its token or its server-side id."""
    return {
        "id": public_id(row.sid),
        "username": row.username,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "last_seen": row.last_seen,
        "client": row.client,
        "user_agent": row.user_agent,
    }


async def list_sessions(request: web.Request) -> web.Response:
    """Live sessions, newest first; ``username`` picks one user's."""
    try:
        query = QUERY_SCHEMA(dict(request.query))
    except vol.Invalid as err:
        raise BadRequest(f"Invalid query: {err.msg}", key="invalid_query") from err
    rows = await request.app[SERVICES].sessions.list(query.get("username"))
    return web.json_response([session_json(row) for row in rows])


async def revoke_session(request: web.Request) -> web.Response:
    """End one session (its user's other sessions stay)."""
    await request.app[SERVICES].sessions.revoke_one(
        request.match_info["session_id"], actor_of(request)
    )
    return success()
