"""Reading JSON request bodies: 415 for other types, 400 with a humane reason for bad ones."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import voluptuous as vol
from aiohttp import web

from ..core.identity import SOURCE_INGRESS
from ..core.sessions import Actor
from ..errors import BadRequest, CamAuthError, UnsupportedMediaType
from .context import context


def _humanize(err: vol.Invalid) -> str:
    if isinstance(err, _Refused):
        return str(err.msg)
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
            raise BadRequest(f"Duplicate key '{key[:64]}' in request body", key="invalid_json")
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


def _nested_too_deep(raw: bytes) -> BadRequest:
    """The answer for a body nested deeper than json.loads goes on this Python.

    Python 3.11 stops at about 1,000 levels; 3.12 and later parse any depth that fits in the
    body limit. Where the top level settles it, answer as the deeper parser would: a body
    that does not start with an object is not an object, however deep the rest.
    """
    if raw.lstrip(b" \t\r\n")[:1] != b"{":
        return BadRequest("Request body must be a JSON object", key="invalid_json")
    return BadRequest("Request body is not valid JSON", key="invalid_json")


async def read_json(request: web.Request, schema: vol.Schema) -> dict[str, Any]:
    """The validated JSON object of the body."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Content-Type must be application/json", key="not_json")
    raw = await request.read()  # aiohttp answers 413 past client_max_size
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except BadRequest:
        raise
    except RecursionError as err:
        raise _nested_too_deep(raw) from err
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest("Request body is not valid JSON", key="invalid_json") from err
    if _has_surrogate(data):
        raise BadRequest(
            "Request body contains invalid Unicode (a lone surrogate)", key="invalid_json"
        )
    if not isinstance(data, dict):
        raise BadRequest("Request body must be a JSON object", key="invalid_json")
    try:
        return dict(schema(data))
    except vol.MultipleInvalid as err:
        raise BadRequest(_humanize(err.errors[0]), key=_key(err.errors[0])) from err
    except vol.Invalid as err:
        raise BadRequest(_humanize(err), key=_key(err)) from err


def text(max_length: int) -> vol.All:
    """A string field of bounded length."""
    return vol.All(str, vol.Length(min=1, max=max_length))


def actor_of(request: web.Request) -> Actor:
    """Who is making this request, for events."""
    ctx = context(request)
    source = SOURCE_INGRESS if ctx.source == SOURCE_INGRESS else None
    return Actor(ctx.identity.username if ctx.identity else None, ctx.client, source)


def is_small_id(raw: str) -> bool:
    """A path id that int() takes: ASCII digits only ("²" is a digit to isdigit), bounded."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


class _Refused(vol.Invalid):
    """A domain validator's refusal, keeping its translation key."""

    def __init__(self, err: CamAuthError) -> None:
        super().__init__(err.message)
        self.key = err.key


def checked(validate: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A domain validator (raising :class:`BadRequest`) as a voluptuous one.

    It keeps the domain validator as ``__wrapped__``: the OpenAPI generator describes it.
    """

    @functools.wraps(validate)
    def run(value: Any) -> Any:
        try:
            return validate(value)
        except CamAuthError as err:
            raise _Refused(err) from err

    return run


def _key(err: vol.Invalid) -> str:
    if isinstance(err, _Refused):
        return err.key
    if err.msg == "required key not provided":
        return "missing_field"
    return "unknown_field" if err.msg == "extra keys not allowed" else "invalid_field"
