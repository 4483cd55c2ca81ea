"""The audit log, page by page, newest first."""

from __future__ import annotations

import math

import voluptuous as vol
from aiohttp import web

from ...core.audit import MAX_PAGE
from ...core.events import EVENT_TYPES
from ...errors import BadRequest
from ...storage.events import EventQuery
from ..app_keys import SERVICES
from ..schemas import EVENT_TYPE

DEFAULT_LIMIT = 100
_SINCE_1970 = "(seconds since 1970-01-01 UTC)"
_TIME = vol.All(vol.Coerce(float), vol.Range(min=0))
# The query string it accepts, for the document: parse_query below reads exactly these.
QUERY_SCHEMA = vol.Schema(
    {
        vol.Optional("type", description="Only events of this type."): EVENT_TYPE,
        vol.Optional("username", description="Only events about this username (exact)."): str,
        vol.Optional("client", description="Only events from this client address (exact)."): str,
        vol.Optional("since", description=f"Only events at or after this time {_SINCE_1970}."): (
            _TIME
        ),
        vol.Optional("until", description=f"Only events before this time {_SINCE_1970}."): _TIME,
        vol.Optional(
            "before",
            description="Only events whose `id` is smaller: to page, pass the smallest `id` seen.",
        ): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("limit", default=DEFAULT_LIMIT, description="How many events at most."): (
            vol.All(vol.Coerce(int), vol.Range(min=1, max=MAX_PAGE))
        ),
    }
)
_PARAMS = {str(key) for key in QUERY_SCHEMA.schema}


def _number(query: dict[str, str], name: str, *, integer: bool) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError as err:
        kind = "a whole number" if integer else "a number (seconds since 1970, UTC)"
        raise BadRequest(f"Query parameter '{name}' must be {kind}", key="invalid_query") from err
    if not math.isfinite(value) or value < 0:
        raise BadRequest(
            f"Query parameter '{name}' must be a finite number >= 0", key="invalid_query"
        )
    return value


def parse_query(query: dict[str, str]) -> EventQuery:
    """Validate the query string; anything unknown or malformed is a 400."""
    unknown = set(query) - _PARAMS
    if unknown:
        raise BadRequest(f"Unknown query parameter '{sorted(unknown)[0]}'", key="invalid_query")
    kind = query.get("type")
    if kind is not None and kind not in EVENT_TYPES:
        raise BadRequest(f"Unknown event type '{kind[:64]}'", key="invalid_query")
    limit = _number(query, "limit", integer=True)
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise BadRequest(
            f"Query parameter 'limit' must be between 1 and {MAX_PAGE}", key="invalid_query"
        )
    before = _number(query, "before", integer=True)
    return EventQuery(
        type=kind,
        username=query.get("username"),
        client=query.get("client"),
        since=_number(query, "since", integer=False),
        until=_number(query, "until", integer=False),
        before=int(before) if before is not None else None,
        limit=int(limit) if limit is not None else DEFAULT_LIMIT,
    )


async def list_events(request: web.Request) -> web.Response:
    """The audit log, newest first.

    Events matching every filter given. To page, pass the smallest ``id`` of a page as
    ``before``.
    """
    if len(request.query) != len(set(request.query)):
        raise BadRequest("Each query parameter may be given once", key="invalid_query")
    query = parse_query(dict(request.query))
    found = await request.app[SERVICES].audit.query(query)
    return web.json_response([{"id": event.id, **event.as_json()} for event in found])
