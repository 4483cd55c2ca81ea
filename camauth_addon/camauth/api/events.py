"""The audit log, page by page, newest first."""

from __future__ import annotations

import math

from aiohttp import web

from ..audit import MAX_PAGE, EventQuery, query_events
from ..errors import BadRequest
from ..events import EVENT_TYPES
from .app_keys import ACCOUNTS

_PARAMS = {"type", "username", "since", "before", "limit"}


def _number(query: dict[str, str], name: str, *, integer: bool) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as err:
        kind = "a whole number" if integer else "a number (seconds since 1970, UTC)"
        raise BadRequest(f"Query parameter '{name}' must be {kind}") from err
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"Query parameter '{name}' must be a finite number >= 0")
    return value


def parse_query(query: dict[str, str]) -> EventQuery:
    """Validate the query string; anything unknown or malformed is a 400."""
    unknown = set(query) - _PARAMS
    if unknown:
        raise BadRequest(f"Unknown query parameter '{sorted(unknown)[0]}'")
    kind = query.get("type")
    if kind is not None and kind not in EVENT_TYPES:
        raise BadRequest(f"Unknown event type '{kind[:64]}'")
    limit = _number(query, "limit", integer=True)
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"Query parameter 'limit' must be between 1 and {MAX_PAGE}")
    before = _number(query, "before", integer=True)
    return EventQuery(
        type=kind,
        username=query.get("username"),
        since=_number(query, "since", integer=False),
        before=int(before) if before is not None else None,
        limit=int(limit) if limit is not None else 100,
    )


async def list_events(request: web.Request) -> web.Response:
    """Events matching ``type``, ``username``, ``since``, ``before`` (an id) and ``limit``."""
    if len(request.query.getall("type", [])) > 1 or len(request.query) != len(set(request.query)):
        raise BadRequest("Each query parameter may be given once")
    query = parse_query(dict(request.query))
    accounts = request.app[ACCOUNTS]
    await accounts.audit.flush()
    rows = await accounts.db.run(query_events, query)
    return web.json_response(rows)
