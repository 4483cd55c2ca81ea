"""Reading JSON request bodies: 415 for other types, 400 with a humane reason for bad ones."""

from __future__ import annotations

import json
from typing import Any

import voluptuous as vol
from aiohttp import web

from ..accounts import Actor
from ..client_ip import client_address
from ..errors import BadRequest, UnsupportedMediaType
from ..identity import KEY_IDENTITY, Identity
from .app_keys import SETTINGS


def _humanize(err: vol.Invalid) -> str:
    field = ".".join(str(part) for part in err.path)
    message = err.msg
    if message == "required key not provided":
        return f"Missing field '{field}'"
    if message == "extra keys not allowed":
        return f"Unknown field '{field}'"
    return f"Invalid field '{field}': {message}" if field else f"Invalid body: {message}"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse repeated keys: a proxy reading the first and us the last must not disagree."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(f"Duplicate key '{key[:64]}' in request body")
        result[key] = value
    return result


def _has_surrogate(value: object) -> bool:
    """Whether any string in a decoded body holds a lone surrogate (not encodable text)."""
    pending = [value]  # a stack, not recursion: bodies may nest thousands deep
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= ch <= "\udfff" for ch in item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


async def read_json(request: web.Request, schema: vol.Schema) -> dict[str, Any]:
    """The validated JSON object of the body."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except BadRequest:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise BadRequest("Request body is not valid JSON") from err
    if _has_surrogate(data):
        raise BadRequest("Request body contains invalid Unicode (a lone surrogate)")
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object")
    try:
        return dict(schema(data))
    except vol.MultipleInvalid as err:
        raise BadRequest(_humanize(err.errors[0])) from err
    except vol.Invalid as err:
        raise BadRequest(_humanize(err)) from err


def text(max_length: int) -> vol.All:
    """A string field of bounded length."""
    return vol.All(str, vol.Length(min=1, max=max_length))


def client_of(request: web.Request) -> str:
    """The client address, with the configured trusted proxies."""
    return client_address(request, request.app[SETTINGS].auth.trusted_proxies)


def actor_of(request: web.Request) -> Actor:
    """Who is making this request, for events."""
    identity = request.get(KEY_IDENTITY)
    username = identity.username if isinstance(identity, Identity) else None
    return Actor(username, client_of(request))


def is_small_id(raw: str) -> bool:
    """A path id that int() takes: ASCII digits only ("²" is a digit to isdigit), bounded."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18
