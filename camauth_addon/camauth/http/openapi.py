"""The OpenAPI document, generated from the route table; ``script/gen_openapi.py`` writes it.

Each route of ``routes.route_table`` says what it reads (its body and query schemas) and what it
answers (its :class:`~.schemas.Reply` and specific :class:`~.schemas.Failure` answers). The
rest follows from the route itself: who may call it and with which credentials (its access
level), the refusals that brings (400, 401, 403, the CSRF check of unsafe methods), and the
answers of reading a JSON body (400, 413, 415). Schemas are converted from voluptuous with
``voluptuous_openapi``, the converter Home Assistant uses; named shapes become ``$ref``s.

For development only: the service serves the generated file and never imports this module.
``voluptuous_openapi`` is a test requirement, imported here lazily.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import voluptuous as vol

from ..const import API_KEY_HEADER, COOKIE_NAME, LOGIN_PATH, ROLES, SAFE_METHODS, VERSION
from ..core.api_keys import MAX_PATHS, NAME_PATTERN, PATH_PREFIX, validate_name, validate_paths
from ..core.names import USERNAME_PATTERN, USERNAME_RULE, validate_username
from ..core.policy import NEEDS_ADMIN, NEEDS_LOGIN, NEEDS_SESSION, Access
from ..core.roles import ROLE_NAME, ROLE_NAME_RULE, validate_role, validate_role_name
from . import forward_auth
from .access import Route
from .app import MAX_BODY_BYTES
from .pages import Pages
from .routes import route_table
from .schemas import (
    BAD_CREDENTIAL,
    CROSS_SITE,
    ERROR,
    PATH_PARAMETERS,
    ROLE,
    Failure,
    Reply,
    Shape,
)

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi.json"

# What a route registered for any method ("*") is documented as.
ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ALL_CREDENTIALS: list[dict[str, list[str]]] = [
    {"cookieAuth": []},
    {"bearerAuth": []},
    {"apiKeyAuth": []},
]
SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    Access.PUBLIC: [],
    Access.FORWARD_AUTH: [],  # anyone may ask; the answer says whether the request passes
    Access.IDENTITY: ALL_CREDENTIALS,
    Access.SESSION: [{"cookieAuth": []}, {"bearerAuth": []}],  # an API key has no session
    Access.ADMIN: ALL_CREDENTIALS,
    Access.INGRESS: [],  # no credential: the Supervisor's address vouches for the owner
}

# The area of each handler module, in the order the document lists them.
TAGS = {
    "public": ("meta", "Liveness, version, status and this document."),
    "forward_auth": ("forward-auth", "The question reverse proxies ask."),
    "session": ("session", "Logging in and out, and one's own account."),
    "users": ("users", "User management (admin)."),
    "api_keys": ("api-keys", "API keys for machines and webhooks (admin)."),
    "events": ("audit", "The audit log, statistics, warnings and live events (admin)."),
    "stats": ("audit", ""),
    "ws": ("audit", ""),
    "lockouts": ("lockouts", "Failed-login lockouts (admin)."),
    "roles": ("roles", "Roles, their rules and cameras, and the presets (admin)."),
    "sessions": ("sessions", "Who is signed in, and ending a session (admin)."),
    "onboarding": ("panel", "What only the Home Assistant panel (ingress) may ask."),
}

STATUS_TEXT = {
    101: "Switching protocols.",
    200: "OK.",
    201: "Created.",
    400: "Bad input.",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found.",
    409: "Conflicts with what is stored.",
    413: "The body is too large.",
    415: "The body is not JSON.",
    429: "Rate limited or busy; `Retry-After` says when to come back.",
}

# The errors of reading a JSON body (http/request.py read_json, and aiohttp's size limit).
INVALID_JSON = Failure(
    400,
    "Request body is not valid JSON",
    "invalid_json",
    "the body is not JSON in UTF-8, not an object, repeats a key or holds a lone surrogate",
)
MISSING_FIELD = Failure(400, "Missing field 'password'", "missing_field")
UNKNOWN_FIELD = Failure(400, "Unknown field 'remember'", "unknown_field")
INVALID_FIELD = Failure(400, "Invalid field 'password': expected str", "invalid_field")
NOT_JSON = Failure(415, "Content-Type must be application/json", "not_json")
TOO_LARGE = Failure(
    413, "Content Too Large", "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes"
)
UNAUTHORIZED = Failure(401, NEEDS_LOGIN.reason, NEEDS_LOGIN.key, "no valid credential")

# The domain validators of request bodies (``checked(...)`` in http/request.py): their
# schema, and the errors they answer.
VALIDATORS: dict[Callable[..., Any], tuple[Shape | dict[str, Any], tuple[Failure, ...]]] = {
    validate_username: (
        {
            "pattern": USERNAME_PATTERN,
            "description": f"{USERNAME_RULE}; unique regardless of case.",
        },
        (Failure(400, USERNAME_RULE, "invalid_username"),),
    ),
    validate_role: (
        ROLE,
        (Failure(400, f"Role must be one of: {', '.join(ROLES)}", "invalid_role"),),
    ),
    validate_role_name: (
        {
            "pattern": f"^{ROLE_NAME.pattern}$",
            "description": "A custom role's name: not `admin` or `viewer`.",
        },
        (
            Failure(400, ROLE_NAME_RULE, "invalid_role"),
            Failure(400, "'viewer' is a built-in role", "builtin_role"),
        ),
    ),
    validate_name: (
        {
            "pattern": f"^{NAME_PATTERN.pattern}$",
            "description": "Not only spaces; stored trimmed, unique regardless of case. It is "
            "the `Remote-User` of requests made with the key.",
        },
        (
            Failure(
                400,
                "Key name must be 1-64 characters: letters, digits, space, '.', '_', '-'",
                "invalid_key_name",
            ),
        ),
    ),
    validate_paths: (
        {
            "maxItems": MAX_PATHS,
            "items": {
                "pattern": f"^{PATH_PREFIX.pattern}$",
                "description": "An absolute path prefix in canonical form (no `//`, `.` or `..`).",
            },
            "description": "Makes a webhook key: it passes forward-auth only for requests whose "
            "path is one of these prefixes (on a `/` boundary), and opens nothing else, not "
            "even this API.",
        },
        (Failure(400, "Not a path prefix: '/a/../b'", "invalid_key_paths"),),
    ),
}

HEADERS: dict[str, tuple[str, dict[str, Any]]] = {
    "RetryAfter": (
        "Retry-After",
        {
            "description": "Whole seconds to wait before trying again (at least 1).",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
    ),
    "SetSessionCookie": (
        "Set-Cookie",
        {
            "description": f"`{COOKIE_NAME}=<token>; HttpOnly; SameSite=Lax; Path=/; "
            "Max-Age=<seconds left>` (and `Secure` when `auth.cookie_secure` is on).",
            "required": True,
            "schema": {"type": "string"},
        },
    ),
    "ClearSessionCookie": (
        "Set-Cookie",
        {
            "description": f"Removes the `{COOKIE_NAME}` cookie.",
            "required": True,
            "schema": {"type": "string"},
        },
    ),
    "RefreshedSessionCookie": (
        "Set-Cookie",
        {
            "description": f"A renewed `{COOKIE_NAME}` cookie, when the request's session cookie "
            "had less than `auth.refresh_time` left.",
            "required": False,
            "schema": {"type": "string"},
        },
    ),
    "RemoteUser": (
        "Remote-User",
        {
            "description": "Who the request is from: the username, the API key's name, or "
            "`anonymous` when `auth.enabled` is off. Proxies must overwrite any client-sent "
            "header of this name.",
            "required": True,
            "schema": {"type": "string"},
        },
    ),
    "RemoteRole": (
        "Remote-Role",
        {
            "description": "The caller's role, as it is now.",
            "required": True,
            "schema": {"$ref": "#/components/schemas/Role"},
        },
    ),
    "LoginLocation": (
        "Location",
        {
            "description": "Only for browser navigations (`Accept` containing `text/html`): the "
            f"login page, with `rd` carrying the path asked for when it is not `/` "
            f"(`{LOGIN_PATH}?rd=%2Fcameras%3Fid%3D1`). Always a path on this host.",
            "required": False,
            "schema": {"type": "string", "pattern": f"^{LOGIN_PATH}(\\?rd=.*)?$"},
        },
    ),
    "Upgrade": (
        "Upgrade",
        {"required": True, "schema": {"type": "string", "const": "websocket"}},
    ),
    "SecWebSocketAccept": (
        "Sec-WebSocket-Accept",
        {"required": True, "schema": {"type": "string"}},
    ),
}

# The headers forward-auth reads the proxied request from (forward_auth.py).
FORWARD_AUTH_HEADERS = {
    "X-Forwarded-Method": "The proxied request's method (Traefik, Caddy). Every method named "
    "here, in `X-Original-Method` and by the request itself must be allowed for the request "
    "to pass.",
    "X-Original-Method": "The proxied request's method (nginx, by convention).",
    "X-Forwarded-Uri": "The proxied request's path and query (Traefik, Caddy): the return "
    "address for the login page, and the path a webhook key is judged on. Every URI header "
    "sent is judged; a path that is not canonical (`%2F`, `//`, `.`, `..`) is refused.",
    "X-Original-URI": "The proxied request's path and query (nginx `$request_uri`).",
    "X-Original-URL": "The proxied request's full URL; only its path and query are used.",
}
WEBSOCKET_HANDSHAKE = [
    ("Upgrade", {"type": "string", "const": "websocket"}),
    ("Connection", {"type": "string", "examples": ["Upgrade"]}),
    ("Sec-WebSocket-Key", {"type": "string"}),
    ("Sec-WebSocket-Version", {"type": "string", "const": "13"}),
]

INFO_DESCRIPTION = f"""\
The HTTP API of CamAuth, a login gateway for camera UIs, on the gateway port (8971 by \
default). JSON in and out.

**Credentials**: the `{COOKIE_NAME}` cookie set by `POST /api/login`, `Authorization: Bearer \
<token>`, or `{API_KEY_HEADER}: <key>`. A bearer header or API key never falls back to the \
cookie. Logout, a password change or reset, a role change and deleting a user take effect on \
the very next request. A request carrying a session cookie with less than `auth.refresh_time` \
left gets a renewed cookie in `Set-Cookie`.

**Access**: each operation's `security` lists the credentials it accepts (`[]`: none needed), \
and `x-camauth-access` names who may call it: `public` (anyone), `forward_auth` (anyone; the \
answer says whether the proxied request may pass), `identity` (any valid credential), \
`session` (a login session: the cookie or a bearer token, not an API key), `admin` (the \
`admin` role) or `ingress` (only through Home Assistant's ingress, on the panel's port). \
When `auth.enabled` is off, every caller is an admin named `anonymous`, \
without a session.

**CSRF**: a state-changing request (any method but {", ".join(sorted(SAFE_METHODS))}) sent \
with the session cookie, or with no credential, is refused with 403 when it comes from another \
site (`Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host).

**Errors**: every error is `{{"error": "<in English>", "code": "<translation key>"}}`; each \
operation lists its statuses and the codes each can carry. Request bodies are JSON objects of \
at most {MAX_BODY_BYTES} bytes; duplicate keys and unknown fields are refused unless an \
operation says otherwise. A method a path does not have answers 405 (`method_not_allowed`, \
with `Allow`); an unexpected failure answers 500 (`internal_error`). Every answer under \
`/api/` carries `Cache-Control: no-store` and `X-Content-Type-Options: nosniff`.

Generated from the route table by `script/gen_openapi.py`: do not edit `openapi.json`."""


def _deep_merge(parts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The parts as one schema, or None when two of them disagree on a value."""
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key not in merged:
                merged[key] = value
            elif isinstance(merged[key], dict) and isinstance(value, dict):
                inner = _deep_merge([merged[key], value])
                if inner is None:
                    return None
                merged[key] = inner
            elif merged[key] != value:
                return None
    return merged


def _tidy(node: Any, *, closed: bool) -> None:
    """Drop the ``type`` voluptuous_openapi puts next to a ``$ref``; close objects if asked."""
    if isinstance(node, list):
        for item in node:
            _tidy(item, closed=closed)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        node.pop("type", None)
    if closed and node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for key in ("properties", "items", "anyOf", "allOf", "oneOf", "additionalProperties"):
        child = node.get(key)
        if key == "properties" and isinstance(child, dict):
            for value in child.values():
                _tidy(value, closed=closed)
        elif child is not None:
            _tidy(child, closed=closed)


def _summary(handler: Callable[..., Any]) -> tuple[str, str]:
    """The summary (the docstring's first paragraph) and description (the rest)."""
    doc = inspect.getdoc(handler)
    if not doc:
        raise ValueError(f"{handler.__qualname__} has no docstring to document it with")
    first, _, rest = doc.replace("``", "`").partition("\n\n")
    paragraphs = [" ".join(part.split()) for part in rest.split("\n\n") if part.strip()]
    return " ".join(first.split()).removesuffix("."), "\n\n".join(paragraphs)


class _Builder:
    """Converts schemas, collecting the named ones and the headers the operations use."""

    def __init__(self) -> None:
        from voluptuous_openapi import UNSUPPORTED, OpenApiVersion, convert  # noqa: PLC0415

        self._convert = convert
        self._version = OpenApiVersion.V3_1
        self._unsupported = UNSUPPORTED
        self.shapes: dict[str, Shape] = {}
        self.schemas: dict[str, Any] = {}
        self.headers: set[str] = set()
        self.met: list[Failure] = []  # errors of the domain validators converted so far

    def schema(self, validator: Any, *, closed: bool = False) -> dict[str, Any]:
        """The JSON schema of a voluptuous one; ``closed``: no keys but the ones named."""
        result: dict[str, Any] = self._convert(
            validator, custom_serializer=self._serialize, openapi_version=self._version
        )
        _tidy(result, closed=closed)
        return result

    def body_schema(self, schema: vol.Schema) -> dict[str, Any]:
        """A request body's schema: unknown keys are refused unless the schema drops them."""
        result = self.schema(schema, closed=schema.extra == vol.PREVENT_EXTRA)
        if schema.extra == vol.REMOVE_EXTRA:
            result["description"] = "Other fields are ignored."
        return result

    def ref(self, shape: Shape) -> dict[str, Any]:
        """A ``$ref`` to a named shape, defining it on first use."""
        known = self.shapes.get(shape.name)
        if known is not None and known is not shape:
            raise ValueError(f"two shapes are named {shape.name}")
        if known is None:
            self.shapes[shape.name] = shape
            definition = {"description": shape.description} if shape.description else {}
            definition.update(
                self.schema(shape.schema, closed=shape.schema.extra == vol.PREVENT_EXTRA)
            )
            self.schemas[shape.name] = definition
        return {"$ref": f"#/components/schemas/{shape.name}"}

    def header(self, name: str) -> tuple[str, dict[str, str]]:
        """A response header by its component name: (header name, reference)."""
        self.headers.add(name)
        return HEADERS[name][0], {"$ref": f"#/components/headers/{name}"}

    def _serialize(self, value: Any) -> Any:
        if isinstance(value, Shape):
            return self.ref(value)
        if isinstance(value, vol.All):
            parts = [self.schema(part) for part in value.validators]
            return _deep_merge(parts) or {"allOf": parts}
        if inspect.isfunction(value) and not value.__module__.startswith("voluptuous"):
            known = VALIDATORS.get(getattr(value, "__wrapped__", value))
            if known is None:
                raise ValueError(f"describe the validator {value.__qualname__} in VALIDATORS")
            described, failures = known
            self.met.extend(failures)
            return self.ref(described) if isinstance(described, Shape) else copy.deepcopy(described)
        return self._unsupported


def _example(body: Any) -> Any:
    if isinstance(body, Shape):
        return body.example
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], Shape):
        return None if body[0].example is None else [body[0].example]
    return None


def _generic_failures(route: Route, builder: _Builder) -> list[Failure]:
    """The errors a route gives because of its access level, method and body."""
    failures: list[Failure] = []
    if route.access is Access.FORWARD_AUTH:
        return [UNAUTHORIZED]
    if route.access is not Access.PUBLIC:
        failures += [BAD_CREDENTIAL, UNAUTHORIZED]
    if route.access is Access.SESSION:
        failures.append(Failure(403, NEEDS_SESSION.reason, NEEDS_SESSION.key, "an API key"))
    if route.access is Access.ADMIN:
        failures.append(Failure(403, NEEDS_ADMIN.reason, NEEDS_ADMIN.key, "not an admin"))
    if route.method not in SAFE_METHODS:
        failures.append(CROSS_SITE)
    if route.body is not None:
        fields = route.body.schema
        failures.append(INVALID_JSON)
        if any(isinstance(key, vol.Required) for key in fields):
            failures.append(MISSING_FIELD)
        if route.body.extra == vol.PREVENT_EXTRA:
            failures.append(UNKNOWN_FIELD)
        if not all(_is_domain_validator(value) for value in fields.values()):
            failures.append(INVALID_FIELD)  # a domain validator answers with its own code
        failures += [*builder.met, NOT_JSON, TOO_LARGE]
    return failures


def _is_domain_validator(value: Any) -> bool:
    return inspect.isfunction(value) and getattr(value, "__wrapped__", None) in VALIDATORS


def _unique(failures: Iterable[Failure]) -> list[Failure]:
    seen: dict[tuple[int, str, str], Failure] = {}
    for failure in failures:
        seen.setdefault((failure.status, failure.code, failure.message), failure)
    return list(seen.values())


def _error_response(route: Route, failures: list[Failure], builder: _Builder) -> dict[str, Any]:
    """One status's errors: the codes it can carry, each with its message."""
    lines = []
    for failure in failures:
        when = f": {failure.when}" if failure.when else ""
        lines.append(f"- `{failure.message}` (`{failure.code}`){when}.")
    codes = list(dict.fromkeys(failure.code for failure in failures))
    specific = [failure for failure in failures if failure in route.responses]
    shown = (specific or failures)[0]
    status = failures[0].status
    answer: dict[str, Any] = {
        "description": STATUS_TEXT[status] + "\n\n" + "\n".join(lines),
        "content": {
            "application/json": {
                "schema": {**builder.ref(ERROR), "properties": {"code": {"enum": codes}}},
                "example": {"error": shown.message, "code": shown.code},
            }
        },
    }
    if status == 429:
        name, reference = builder.header("RetryAfter")
        answer["headers"] = {name: reference}
    if route.access is Access.FORWARD_AUTH and status == 401:
        name, reference = builder.header("LoginLocation")
        answer["headers"] = {name: reference}
        answer["description"] += (
            "\n\nJSON for API clients; for browser navigations (`Accept` containing "
            "`text/html`) a small HTML page that sends the browser to the login page, and "
            "`Location`."
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Login required</title>"
            '<meta http-equiv="refresh" content="0;url=/login?rd=%2Fcameras">'
            '<p>Login required. <a href="/login?rd=%2Fcameras">Continue to the login page</a>.</p>'
        )
        answer["content"]["text/html"] = {"schema": {"type": "string"}, "example": page}
    return answer


def _success_response(route: Route, reply: Reply, builder: _Builder) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    names = list(reply.headers)
    if reply.status < 300 and not any(HEADERS[name][0] == "Set-Cookie" for name in names):
        names.append("RefreshedSessionCookie")
    if reply.status == 101:
        names = ["Upgrade", "SecWebSocketAccept"]
    if names:
        answer["headers"] = dict(builder.header(name) for name in names)
    if reply.body is None:
        return answer
    if reply.status == 101:  # the body is a stream of messages, not the answer's
        answer["x-camauth-messages"] = builder.schema(reply.body)
        return answer
    media: dict[str, Any] = {"schema": builder.schema(reply.body)}
    example = _example(reply.body)
    if example is not None:
        media["example"] = example
    answer["content"] = {"application/json": media}
    return answer


def _parameters(schema: vol.Schema, where: str, builder: _Builder) -> list[dict[str, Any]]:
    """Query or path parameters, one per key of a voluptuous mapping."""
    found = []
    for key, value in schema.schema.items():
        parameter: dict[str, Any] = {
            "name": str(key),
            "in": where,
            "required": isinstance(key, vol.Required),
        }
        if key.description:
            parameter["description"] = key.description
        parameter["schema"] = builder.schema(value)
        if isinstance(key, vol.Optional) and callable(key.default):
            parameter["schema"]["default"] = key.default()
        found.append(parameter)
    return found


def _path_parameters(path: str, builder: _Builder) -> list[dict[str, Any]]:
    names = re.findall(r"{(\w+)}", path)
    known = {str(key): key for key in PATH_PARAMETERS.schema}
    missing = [name for name in names if name not in known]
    if missing:
        raise ValueError(f"describe the path parameters {missing} in schemas.PATH_PARAMETERS")
    chosen = vol.Schema({known[name]: PATH_PARAMETERS.schema[known[name]] for name in names})
    return _parameters(chosen, "path", builder)


def _operation(route: Route, operation_id: str, builder: _Builder) -> dict[str, Any]:
    summary, description = _summary(route.handler)
    module = route.handler.__module__.rsplit(".", 1)[-1]
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        operation["description"] = description
    operation |= {
        "tags": [TAGS[module][0]],
        "security": SECURITY[route.access],
        "x-camauth-access": route.access.value,
    }
    parameters: list[dict[str, Any]] = []
    if route.query is not None:
        parameters += _parameters(route.query, "query", builder)
    if route.access is Access.FORWARD_AUTH:
        for name in (*forward_auth._METHOD_HEADERS, *forward_auth._URI_HEADERS):
            parameters.append(
                {
                    "name": name,
                    "in": "header",
                    "required": False,
                    "description": FORWARD_AUTH_HEADERS[name],
                    "schema": {"type": "string"},
                }
            )
    replies = [reply for reply in route.responses if isinstance(reply, Reply)]
    if len(replies) != 1:
        raise ValueError(f"{route.method} {route.path}: name exactly one Reply")
    if replies[0].status == 101:
        parameters += [
            {"name": name, "in": "header", "required": True, "schema": schema}
            for name, schema in WEBSOCKET_HANDSHAKE
        ]
    if parameters:
        operation["parameters"] = parameters
    builder.met = []
    if route.body is not None:
        media: dict[str, Any] = {"schema": builder.body_schema(route.body)}
        if route.example is not None:
            media["example"] = route.example
        operation["requestBody"] = {"required": True, "content": {"application/json": media}}
    failures = _unique(
        [*_generic_failures(route, builder)]
        + [failure for failure in route.responses if isinstance(failure, Failure)]
    )
    responses = {str(replies[0].status): _success_response(route, replies[0], builder)}
    for status in sorted({failure.status for failure in failures}):
        chosen = [failure for failure in failures if failure.status == status]
        responses[str(status)] = _error_response(route, chosen, builder)
    operation["responses"] = responses
    return operation


def _operation_ids(routes: list[Route]) -> list[str]:
    """The handler's name; a second route of the same handler adds its last path segment."""
    ids: list[str] = []
    for route in routes:
        name = route.handler.__name__
        if name in ids:
            name = route.path.rstrip("/").rsplit("/", 1)[-1]
        ids.append(name)
    return ids


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``/api/`` route."""
    builder = _Builder()
    routes = [route for route in route_table(Pages()) if route.path.startswith("/api/")]
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    for route, operation_id in zip(routes, _operation_ids(routes), strict=True):
        item = paths.setdefault(route.path, {})
        if "{" in route.path and "parameters" not in item:
            item["parameters"] = _path_parameters(route.path, builder)
        operation = _operation(route, operation_id, builder)
        tags += [tag for tag in operation["tags"] if tag not in tags]
        methods = ANY_METHOD if route.method == "*" else (route.method,)
        for method in methods:
            specific = (
                {"operationId": f"{operation_id}_{method.lower()}"} if route.method == "*" else {}
            )
            item[method.lower()] = operation | specific
    descriptions = {tag: text for tag, text in TAGS.values() if text}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "CamAuth",
            "version": VERSION,
            "summary": "A login gateway for camera and NVR web UIs.",
            "description": INFO_DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/", "description": "The CamAuth gateway port"}],
        "tags": [{"name": tag, "description": descriptions[tag]} for tag in tags],
        "paths": paths,
        "components": {
            "securitySchemes": _security_schemes(),
            "schemas": dict(sorted(builder.schemas.items())),
            "headers": {name: HEADERS[name][1] for name in sorted(builder.headers)},
        },
    }


def _security_schemes() -> dict[str, Any]:
    return {
        "cookieAuth": {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE_NAME,
            "description": "The session cookie set by `POST /api/login` (HttpOnly, "
            "SameSite=Lax). State changes sent with it must come from this site (CSRF check on "
            "`Origin` / `Sec-Fetch-Site`).",
        },
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `token` of a login, as `Authorization: Bearer <token>`. A "
            "bearer header never falls back to the cookie.",
        },
        "apiKeyAuth": {
            "type": "apiKey",
            "in": "header",
            "name": API_KEY_HEADER,
            "description": "An API key, `camauth_<8 hex>_<43 characters>`, created by an admin "
            "with `POST /api/keys`. It acts with its own role and has no session, so it cannot "
            "change a password. A webhook key (one with `paths`) only ever passes forward-auth.",
        },
    }


def render() -> str:
    """The document as the shipped file holds it."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"
