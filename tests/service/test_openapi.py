"""The OpenAPI document: generated from the route table, served as shipped, valid, and truthful.

The document is written by ``script/gen_openapi.py`` from the route table; a route added,
removed or re-secured without regenerating it fails here by name. Real answers of a running
service, for every route and every status it documents, are checked against it: a status the
document lists that no call produces fails, and so does an answer it does not describe.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import voluptuous as vol
from aiohttp import ClientResponse, ClientSession, TCPConnector
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from camauth.const import ROLES, VERSION
from camauth.core.events import EVENT_TYPES
from camauth.core.hashing import FairQueue
from camauth.core.policy import Access
from camauth.core.roles import ROLE_NAME, parse_role
from camauth.core.sessions import public_id
from camauth.http import openapi, ws
from camauth.http.api.events import QUERY_SCHEMA, parse_query
from camauth.http.ingress import create_ingress_app
from camauth.http.pages import Pages
from camauth.http.request import checked
from camauth.http.routes import route_table
from camauth.http.schemas import Reply, Shape
from camauth.options import Settings
from camauth.supervisor.auth import HomeAssistantUnavailable

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    trusting_loopback,
)

ROOT = Path(__file__).resolve().parents[2]
ANY_METHOD = openapi.ANY_METHOD
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options", "trace"}
Security = list[dict[str, list[str]]]
ALL_CREDENTIALS: Security = [{"cookieAuth": []}, {"bearerAuth": []}, {"apiKeyAuth": []}]
SECURITY: dict[Access, Security] = {
    Access.PUBLIC: [],
    Access.FORWARD_AUTH: [],  # the handler decides, and answers only 200/401/403
    Access.IDENTITY: ALL_CREDENTIALS,
    Access.SESSION: [{"cookieAuth": []}, {"bearerAuth": []}],  # an API key has no session
    Access.ADMIN: ALL_CREDENTIALS,
    Access.INGRESS: [],  # no credential: the Supervisor's address vouches for the owner
}
STRONG = "tangerine comet bridge 9"
ELSEWHERE = {"Origin": "https://elsewhere.example"}

Route = tuple[str, str]  # (METHOD, path template)


def shipped_text() -> str:
    return resources.files("camauth").joinpath("openapi.json").read_text(encoding="utf-8")


DOCUMENT: dict[str, Any] = json.loads(shipped_text())
ERROR_REF = "#/components/schemas/Error"


def operations() -> dict[Route, dict[str, Any]]:
    """Every documented operation by (METHOD, path)."""
    return {
        (method.upper(), path): operation
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) to what it names."""
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def api_routes() -> dict[Route, Any]:
    """The ``/api/`` routes of the route table, ``*`` expanded."""
    return {
        (method, route.path): route
        for route in route_table(Pages())
        if route.path.startswith("/api/")
        for method in (ANY_METHOD if route.method == "*" else (route.method,))
    }


def route_access() -> dict[Route, Access]:
    return {key: route.access for key, route in api_routes().items()}


def registered(service: Service) -> set[Route]:
    """What the running application answers under ``/api/``, ``*`` expanded."""
    routes = list(service.server.app.router.routes())
    gets = {route.resource for route in routes if route.method == "GET"}
    found: set[Route] = set()
    for route in routes:
        path = route.resource.canonical if route.resource is not None else ""
        if not path.startswith("/api/"):
            continue
        if route.method == "*":
            found.update((method, path) for method in ANY_METHOD)
        elif not (route.method == "HEAD" and route.resource in gets):  # aiohttp's own HEAD
            found.add((route.method, path))
    return found


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema | {"components": DOCUMENT["components"]})


# The file: generated, current, served, valid.


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_openapi", ROOT / "script/gen_openapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_file_is_generated_from_the_route_table() -> None:
    assert shipped_text() == openapi.render(), "openapi.json is stale: run script/gen_openapi.py"


def test_check_notices_a_stale_file(tmp_path: Path) -> None:
    script = load_script()
    target = tmp_path / "openapi.json"
    assert script.main(["--check"], target=target) == 1  # missing
    assert script.main([], target=target) == 0
    assert script.main(["--check"], target=target) == 0
    target.write_text(shipped_text().replace('"Create a user"', '"Make a user"'))
    assert script.main(["--check"], target=target) == 1


def test_the_service_never_imports_the_generator() -> None:
    code = (
        "import sys\n"
        "import camauth.cli.main, camauth.http.app\n"
        "assert 'voluptuous_openapi' not in sys.modules\n"
        "assert 'camauth.http.openapi' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generator_refuses_an_undescribed_validator() -> None:
    builder = openapi._Builder()

    def validate_colour(value: object) -> str:
        return str(value)

    with pytest.raises(ValueError, match="validate_colour"):
        builder.schema(vol.Schema({"colour": checked(validate_colour)}))


async def test_served_document_is_the_shipped_one(service: Service) -> None:
    response = await service.request("GET", "/api/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == DOCUMENT


def test_file_is_pretty_printed_json() -> None:
    assert shipped_text() == json.dumps(DOCUMENT, indent=2, ensure_ascii=False) + "\n"


def test_every_api_route_is_documented_and_nothing_else(service: Service) -> None:
    routes, documented = registered(service), set(operations())
    missing = sorted(routes - documented)
    assert not missing, f"routes missing from openapi.json: {missing}"
    stale = sorted(documented - routes)
    assert not stale, f"openapi.json documents routes that do not exist: {stale}"
    assert routes == set(route_access()), "the route table and the application disagree"


def test_security_matches_each_route_access_level() -> None:
    documented = operations()
    wrong = {
        route: (level.name, documented.get(route, {}).get("security", "undocumented"))
        for route, level in route_access().items()
        if documented.get(route, {}).get("security", "undocumented") != SECURITY[level]
    }
    assert not wrong, f"security differs from the route table's access level: {wrong}"
    declared = {
        route: (level.value, documented.get(route, {}).get("x-camauth-access"))
        for route, level in route_access().items()
        if documented.get(route, {}).get("x-camauth-access") != level.value
    }
    assert not declared, f"x-camauth-access differs from the route table: {declared}"
    schemes = DOCUMENT["components"]["securitySchemes"]
    expected = {
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "camauth_token"},
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    assert set(schemes) == set(expected)
    for name, fields in expected.items():
        assert fields.items() <= schemes[name].items(), name


def test_operations_are_complete() -> None:
    """Unique ids, a summary, and the refusals each access level can produce, as Error."""
    documented = operations()
    ids = [operation["operationId"] for operation in documented.values()]
    assert len(ids) == len(set(ids)), "duplicate operationId"
    for (method, path), route in api_routes().items():
        operation = documented.get((method, path))
        if operation is None:
            continue  # reported by test_every_api_route_is_documented_and_nothing_else
        assert operation.get("summary"), (method, path)
        assert operation.get("tags"), (method, path)
        statuses = set(operation["responses"])
        if route.access not in (Access.PUBLIC, Access.FORWARD_AUTH):
            assert {"400", "401"} <= statuses, (method, path)
        if route.access in (Access.ADMIN, Access.SESSION):
            assert "403" in statuses, (method, path)
        if method not in ("GET", "HEAD", "OPTIONS") and route.access is not Access.FORWARD_AUTH:
            assert "cross_site" in codes(operation, "403"), (method, path)
        if route.body is not None:
            assert {"413", "415"} <= statuses, (method, path)
            assert "requestBody" in operation, (method, path)
        else:
            assert "requestBody" not in operation, (method, path)
        for status, answer in operation["responses"].items():
            if status.startswith("4"):
                schema = resolve(answer)["content"]["application/json"]["schema"]
                assert schema["$ref"] == ERROR_REF, (method, path, status)
                assert codes(operation, status), (method, path, status)
            if status == "429":
                assert "Retry-After" in answer["headers"], (method, path)


def codes(operation: dict[str, Any], status: str) -> list[str]:
    """The error codes an operation documents for a status."""
    answer = operation["responses"].get(status)
    if answer is None:
        return []
    schema = answer["content"]["application/json"]["schema"]
    return list(schema.get("properties", {}).get("code", {}).get("enum", []))


def test_forward_auth_is_the_same_for_every_method() -> None:
    documented = operations()
    variants = [
        {
            key: value
            for key, value in documented[(method, "/api/auth")].items()
            if key != "operationId"
        }
        for method in ANY_METHOD
    ]
    assert all(variant == variants[0] for variant in variants)
    ids = {documented[(method, "/api/auth")]["operationId"] for method in ANY_METHOD}
    assert len(ids) == len(ANY_METHOD)
    responses = variants[0]["responses"]
    assert set(responses) == {"200", "302", "401", "403"}
    assert {"Remote-User", "Remote-Role"} <= set(responses["200"]["headers"])
    assert "Location" in responses["401"]["headers"]
    assert "text/html" in responses["401"]["content"]
    assert "requestBody" not in variants[0]


def test_enums_follow_the_code() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["Role"]["pattern"] == f"^{ROLE_NAME.pattern}$"
    assert all(re.fullmatch(ROLE_NAME.pattern, role) for role in ROLES)
    assert schemas["EventType"]["enum"] == list(EVENT_TYPES)


def test_event_query_parameters_are_the_ones_the_handler_reads() -> None:
    documented = operations()[("GET", "/api/events")]["parameters"]
    names = {parameter["name"] for parameter in documented}
    valid = {"type": "logout", "since": "1.5", "until": "2", "before": "7", "limit": "3"}
    for name in names:
        parse_query({name: valid.get(name, "x")})  # accepted
    assert names == {str(key) for key in QUERY_SCHEMA.schema}
    (limit,) = (parameter for parameter in documented if parameter["name"] == "limit")
    assert parse_query({}).limit == limit["schema"]["default"]


def examples(node: Any) -> list[tuple[dict[str, Any], Any]]:
    """Every (schema, example) pair of a media type in the document."""
    if isinstance(node, list):
        return [pair for item in node for pair in examples(item)]
    if not isinstance(node, dict):
        return []
    found = [(node["schema"], node["example"])] if {"schema", "example"} <= node.keys() else []
    return found + [pair for value in node.values() for pair in examples(value)]


def test_examples_match_their_schemas() -> None:
    pairs = examples(DOCUMENT)
    assert len(pairs) > 20
    for schema, example in pairs:
        assert not [error.message for error in validator_for(schema).iter_errors(example)], example


def test_examples_pass_the_voluptuous_schemas_they_came_from() -> None:
    """Request examples pass the handler's own schema; answer examples their shape."""
    for (method, path), route in api_routes().items():
        if route.body is not None:
            route.body(route.example)
        for reply in route.responses:
            shape = reply.body if isinstance(reply, Reply) else None
            if isinstance(shape, Shape) and shape.example is not None:
                assert shape(shape.example), (method, path)


def test_document_is_valid_openapi_of_this_version() -> None:
    validate(DOCUMENT)  # type: ignore[arg-type]
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert DOCUMENT["info"]["version"] == VERSION


# Real answers against the documented schemas: the document describes what is served.


def check(route: Route, response: ClientResponse, body: bytes) -> None:
    """Status, required headers and body are as documented for this route."""
    responses = operations()[route]["responses"]
    status = str(response.status)
    assert status in responses, f"{route} answered {status}, which is not documented: {body!r}"
    answer = resolve(responses[status])
    for name, header in answer.get("headers", {}).items():
        if resolve(header).get("required"):
            assert name in response.headers, (route, status, name)
    content = answer.get("content")
    if content is None or route[0] == "HEAD":
        assert body == b"", (route, status)
        return
    assert response.content_type in content, (route, status, response.content_type)
    if response.content_type != "application/json":
        return
    schema = content["application/json"]["schema"]
    errors = [error.message for error in validator_for(schema).iter_errors(json.loads(body))]
    assert not errors, (route, status, body, errors)


@dataclass(frozen=True)
class Call:
    """One request of a route's scenario.

    ``who``: ``admin`` / ``viewer`` (bearer tokens), ``key`` (an admin API key), ``webhook``
    (a webhook key for ``/triggers``), ``cookie`` (the admin's session cookie) or
    ``anonymous``, or ``ingress`` (the panel's listener, as the Supervisor). ``path`` may use
    the placeholders of :attr:`Scene.values`; ``then``: ``lock`` (this client is locked out
    first), ``busy`` (no hashing slot is free) or ``first_start`` (admin has a generated
    password).
    """

    who: str
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    then: str = ""


def generic_calls(method: str, route: Any) -> list[Call]:
    """The refusals of the route's access level, method and body."""
    calls = []
    if route.access not in (Access.PUBLIC, Access.FORWARD_AUTH):
        calls += [
            Call("anonymous"),
            Call("anonymous", options={"headers": [("X-API-Key", "a"), ("X-API-Key", "b")]}),
        ]
    if route.access is Access.SESSION:
        calls.append(Call("key"))
    if route.access is Access.ADMIN:
        calls.append(Call("viewer"))
    if method not in ("GET", "HEAD", "OPTIONS") and route.access is not Access.FORWARD_AUTH:
        calls.append(Call("cookie", options={"headers": ELSEWHERE}))
    if route.body is not None:
        json_type = {"Content-Type": "application/json"}
        calls += [
            Call("admin", options={"data": "{}", "headers": {"Content-Type": "text/plain"}}),
            Call("admin", options={"data": "{", "headers": json_type}),
            Call("admin", options={"data": "[]", "headers": json_type}),
            Call("admin", options={"data": '{"a": 1, "a": 2}', "headers": json_type}),
            Call("admin", options={"data": "{" + " " * 17_000 + "}", "headers": json_type}),
        ]
        fields = [str(key) for key in route.body.schema]
        if any(isinstance(key, vol.Required) for key in route.body.schema):
            calls.append(Call("admin", options=body()))
        if route.body.extra == vol.PREVENT_EXTRA:
            calls.append(Call("admin", options=body(**route.example, unknown=1)))
        calls += [Call("admin", options=body(**{**route.example, name: 5})) for name in fields]
    return calls


def body(**fields: Any) -> dict[str, Any]:
    return {"json": fields}


def weak_passwords(username: str) -> list[str]:
    """One password for each rule of the policy, in the order it checks them."""
    return ["short", "a" * 1025, "tangerine comet\x01 9", "a" * 16, f"{username} tangerine comet"]


FORWARD_AUTH = [
    Call("anonymous"),
    Call("anonymous", options={"headers": {"Accept": "text/html", "X-Forwarded-Uri": "/cams"}}),
    Call("anonymous", options={"headers": {"Accept": "text/html", "X-Original-URI": "/cams"}}),
    Call("family", options={"headers": {"X-Forwarded-Uri": "/api/garage/latest.jpg"}}),
    Call("untrusted", options={"headers": {"X-Forwarded-Uri": "/cams"}}),
    Call("admin"),
    Call("viewer", options={"headers": {"X-Forwarded-Method": "DELETE"}}),
    Call("webhook", options={"headers": {"X-Forwarded-Uri": "/triggers/door"}}),
    Call("webhook", options={"headers": {"X-Forwarded-Uri": "/cams"}}),
    Call("admin", options={"headers": {"X-Forwarded-Uri": "/a/%2F/b"}}),
]

# What each route is asked besides the generic refusals, in order (state carries over).
SCENARIOS: dict[Route, list[Call]] = {
    ("GET", "/api/health"): [Call("anonymous")],
    ("GET", "/api/healthz"): [Call("anonymous")],
    ("GET", "/api/version"): [Call("anonymous")],
    ("GET", "/api/auth/status"): [Call("anonymous")],
    ("GET", "/api/openapi.json"): [Call("anonymous")],
    **{(method, "/api/auth"): FORWARD_AUTH for method in ANY_METHOD},
    ("POST", "/api/auth/mediamtx"): [
        Call("anonymous", options=body(action="read", path="cam")),
        Call(
            "anonymous",
            options=body(action="read", path="cam", user="viewer", password=VIEWER_PASSWORD),
            then="busy",
        ),
        Call("anonymous", options=body(action="read", path="cam", user="viewer", password="x")),
        Call("anonymous", options=body(action="publish", path="cam", token="{viewer_token}")),
        Call("anonymous", options=body(action="read", path="a/../b", token="{viewer_token}")),
        Call("anonymous", options=body(action="read", path="cam", token="{viewer_token}")),
        Call(
            "anonymous",
            options=body(action="read", path="cam", user="x", password="x"),
            then="lock",
        ),
    ],
    ("POST", "/api/login"): [
        Call("anonymous", options=body(username="down", password="x", source="homeassistant")),
        Call(
            "anonymous",
            options=body(username="paulus", password="x", source="homeassistant"),
            then="no_homeassistant",
        ),
        Call("anonymous", options=body(username="admin", password=ADMIN_PASSWORD)),
        Call("anonymous", options=body(username="admin")),
        Call("anonymous", options=body(username="admin", password=ADMIN_PASSWORD, remember=1)),
        Call("anonymous", options=body(username="admin", password=ADMIN_PASSWORD), then="busy"),
        Call("anonymous", options=body(username="admin", password="wrong")),
        Call("anonymous", options=body(username="admin", password=ADMIN_PASSWORD)),
    ],
    ("POST", "/api/logout"): [
        Call("anonymous", options={"headers": [("X-API-Key", "a"), ("X-API-Key", "b")]}),
        Call("anonymous"),
        Call("cookie"),
    ],
    ("GET", "/api/profile"): [Call("admin"), Call("key"), Call("viewer"), Call("ingress")],
    ("PUT", "/api/auth/password"): [
        *[
            Call("viewer", options=body(old_password=VIEWER_PASSWORD, password=weak))
            for weak in weak_passwords("viewer")
        ],
        Call("viewer", options=body(old_password=VIEWER_PASSWORD, password=STRONG), then="busy"),
        Call("viewer", options=body(password=STRONG)),
        Call("viewer", options=body(old_password=VIEWER_PASSWORD, password=STRONG)),
        Call("admin", options=body(old_password="wrong", password=STRONG)),
        Call("admin", options=body(old_password=ADMIN_PASSWORD, password=STRONG)),
    ],
    ("GET", "/api/users"): [Call("admin"), Call("key")],
    ("POST", "/api/users"): [
        Call("admin", options=body(username="alice", password=STRONG)),
        Call("admin", options=body(username="Admin", password=STRONG)),
        Call("admin", options=body(username="a b", password=STRONG)),
        *[
            Call("admin", options=body(username="bob", password=weak))
            for weak in weak_passwords("bob")
        ],
        Call("admin", options=body(username="bob", password=STRONG, role="root")),
        Call("admin", options=body(username="bob", password=STRONG), then="busy"),
    ],
    ("DELETE", "/api/users/{name}"): [
        Call("admin", "/api/users/admin"),
        Call("admin", "/api/users/nobody"),
        Call("admin", "/api/users/viewer"),
    ],
    ("PUT", "/api/users/{name}/password"): [
        *[
            Call("admin", "/api/users/viewer/password", body(password=weak))
            for weak in weak_passwords("viewer")
        ],
        Call("admin", "/api/users/nobody/password", body(password=STRONG)),
        Call("admin", "/api/users/viewer/password", body(password=STRONG), then="busy"),
        Call("admin", "/api/users/viewer/password", body(password=STRONG)),
    ],
    ("PUT", "/api/users/{name}/role"): [
        Call("admin", "/api/users/admin/role", body(role="viewer")),
        Call("admin", "/api/users/viewer/role", body(role="root")),
        Call("admin", "/api/users/nobody/role", body(role="admin")),
        Call("admin", "/api/users/viewer/role", body(role="admin")),
    ],
    ("POST", "/api/users/{name}/reset_password"): [
        *[
            Call("admin", "/api/users/viewer/reset_password", body(password=weak))
            for weak in weak_passwords("viewer")
        ],
        Call("admin", "/api/users/nobody/reset_password", body()),
        Call("admin", "/api/users/viewer/reset_password", body(), then="busy"),
        Call("admin", "/api/users/viewer/reset_password", body()),
        Call("admin", "/api/users/viewer/reset_password", body(password=STRONG)),
    ],
    ("POST", "/api/users/{name}/revoke_sessions"): [
        Call("admin", "/api/users/nobody/revoke_sessions"),
        Call("admin", "/api/users/viewer/revoke_sessions"),
    ],
    ("GET", "/api/keys"): [Call("admin")],
    ("POST", "/api/keys"): [
        Call("admin", options=body(name="nvr", paths=["/triggers/"])),
        Call("admin", options=body(name="NVR")),
        Call("admin", options=body(name="  ")),
        Call("admin", options=body(name="k2", role="root")),
        Call("admin", options=body(name="x", paths=["/a/../b"])),
    ],
    ("DELETE", "/api/keys/{key_id}"): [
        Call("admin", "/api/keys/12345"),
        Call("admin", "/api/keys/x1"),
        Call("admin", "/api/keys/{webhook_id}"),
    ],
    ("GET", "/api/events"): [
        Call("admin", options={"params": {"limit": "5"}}),
        Call("admin", options={"params": {"type": "logout", "until": "9e9", "client": "x"}}),
        Call("admin", options={"params": {"limit": "0"}}),
        Call("admin", options={"params": {"page": "2"}}),
    ],
    ("GET", "/api/stats"): [Call("admin", then="lock")],
    ("GET", "/api/warnings"): [
        Call("admin"),
        Call("admin", options={"headers": {"X-Forwarded-For": "10.1.2.3"}}),
        Call("admin", options={"headers": {"X-Forwarded-Proto": "https"}}),
    ],
    ("GET", "/api/ws"): [Call("admin"), Call("cookie", options={"headers": ELSEWHERE})],
    ("GET", "/api/lockouts"): [Call("admin"), Call("admin", then="lock")],
    ("GET", "/api/roles"): [Call("admin")],
    ("GET", "/api/roles/presets"): [Call("admin")],
    ("POST", "/api/roles"): [
        Call("admin", options=body(name="garage", cameras=["garage"])),
        Call("admin", options=body(name="family")),
        Call("admin", options=body(name="viewer")),
        Call("admin", options=body(name="Bad Name")),
        Call("admin", options=body(name="odd", rules=[{"paths": ["api"], "methods": ["GET"]}])),
    ],
    ("PUT", "/api/roles/{name}"): [
        Call("admin", "/api/roles/family", options=body(presets=["go2rtc_webrtc"])),
        Call("admin", "/api/roles/nope", options=body()),
        Call("admin", "/api/roles/viewer", options=body()),
        Call("admin", "/api/roles/family", options=body(rules=[{"paths": ["x"], "methods": []}])),
    ],
    ("DELETE", "/api/roles/{name}"): [
        Call("admin", "/api/roles/spare"),
        Call("admin", "/api/roles/family"),
        Call("admin", "/api/roles/nope"),
        Call("admin", "/api/roles/viewer"),
    ],
    ("GET", "/api/sessions"): [
        Call("admin"),
        Call("admin", "/api/sessions?username=viewer"),
        Call("admin", "/api/sessions?user=viewer"),
    ],
    ("DELETE", "/api/sessions/{session_id}"): [
        Call("admin"),
        Call("admin", "/api/sessions/{viewer_session}"),
    ],
    ("GET", "/api/onboarding"): [
        Call("admin"),
        Call("ingress"),
        Call("ingress", then="first_start"),
    ],
    ("DELETE", "/api/lockouts"): [Call("admin", then="lock")],
    ("DELETE", "/api/lockouts/{lockout_id}"): [
        Call("admin", "/api/lockouts/999"),
        Call("admin", "/api/lockouts/1", then="lock"),
    ],
}


@dataclass
class Scene:
    """A running service with an admin, a viewer, keys and sessions to call it with."""

    service: Service
    anonymous: ClientSession
    headers: dict[str, dict[str, str]]
    values: dict[str, str]
    ingress: TestServer  # the panel's listener, with this test as the Supervisor
    untrusted: ClientSession  # connects from 127.0.0.2, which is not a trusted proxy

    async def send(self, method: str, template: str, call: Call) -> ClientResponse:
        # "anonymous" is a stranger every time: no device cookie from an earlier login.
        self.anonymous.cookie_jar.clear(lambda cookie: cookie.key == "camauth_device")
        if call.then == "first_start":  # admin has a generated password, kept for the panel
            users = self.service.services.users
            await users.set_password("admin", "generated first password", generated=True)
            assert users.first_password is not None
            users.first_password.keep("generated first password")
        if call.then == "lock":
            await self.anonymous.post(
                self.service.url("/api/login"), json={"username": "nobody", "password": "x"}
            )
        logins = self.service.services.logins
        home_assistant = logins.home_assistant
        if call.then == "no_homeassistant":  # outside the add-on: no Supervisor to ask
            logins.home_assistant = None
        hasher = self.service.services.hasher
        saved = hasher._running, hasher._queue
        if call.then == "busy":  # every hashing thread taken, and no room to wait
            hasher._running = hasher._workers
            hasher._queue = FairQueue(per_client=0, max_waiting=0, max_priority=0)
        try:
            client = self.service.client if call.who == "cookie" else self.anonymous
            if call.who == "untrusted":  # from 127.0.0.2: not the trusted proxy (127.0.0.1)
                client = self.untrusted
            options = dict(call.options)
            given = options.pop("headers", {})
            pairs = list(given.items()) if isinstance(given, dict) else list(given)
            pairs += list(self.headers.get(call.who, {}).items())
            path = (call.path or template).format(**self.values)
            if "json" in options:  # placeholders in bodies too (tokens known only at run time)
                options["json"] = {
                    key: value.format(**self.values) if isinstance(value, str) else value
                    for key, value in options["json"].items()
                }
            url = self.service.url(path)
            if call.who == "ingress":
                url = str(self.ingress.make_url(path))
                pairs.append(("X-CamAuth-Request", "panel"))
            options.setdefault("allow_redirects", False)
            return await client.request(method, url, headers=pairs, **options)
        finally:
            hasher._running, hasher._queue = saved
            logins.home_assistant = home_assistant


async def supervisor_down(username: str, password: str) -> bool:
    """A Home Assistant that cannot be reached for the user "down", and refuses all others."""
    if username == "down":
        raise HomeAssistantUnavailable("Home Assistant cannot check passwords right now")
    return False


@pytest.fixture
async def scene(start_service: ServiceFactory) -> AsyncIterator[Scene]:
    """Failed logins limited to one a minute, so one failure locks this client out."""
    service = await start_service(
        trusting_loopback(failed_login_rate_limit="1/minute"), home_assistant=supervisor_down
    )
    admin = await service.login("admin", ADMIN_PASSWORD)
    anonymous = await service.fresh_client()
    viewer_client = await service.fresh_client()
    response = await viewer_client.post(
        service.url("/api/login"), json={"username": "viewer", "password": VIEWER_PASSWORD}
    )
    viewer = (await response.json())["token"]
    keys = service.services.keys
    key = await keys.create("home assistant", "admin", ())
    webhook = await keys.create("door", "viewer", ("/triggers",))
    roles = service.services.roles
    await roles.save(parse_role("family", {"cameras": ["front_door"]}), create=True)
    await roles.save(parse_role("spare", {}), create=True)
    await service.services.users.create("kid", STRONG, "family")
    ingress = TestServer(
        create_ingress_app(Settings(), service.services, peer="127.0.0.1"), host="127.0.0.1"
    )
    await ingress.start_server()
    [viewer_session] = await service.services.sessions.list("viewer")
    kid_client = await service.fresh_client()  # not the admin's cookie jar
    response = await kid_client.post(
        service.url("/api/login"), json={"username": "kid", "password": STRONG}
    )
    family = (await response.json())["token"]
    untrusted = ClientSession(connector=TCPConnector(local_addr=("127.0.0.2", 0)))
    yield Scene(
        service,
        anonymous,
        {
            "admin": {"Authorization": f"Bearer {admin}"},
            "viewer": {"Authorization": f"Bearer {viewer}"},
            "key": {"X-API-Key": key.secret},
            "family": {"Authorization": f"Bearer {family}"},
            "untrusted": {"Authorization": f"Bearer {viewer}"},
            "webhook": {"X-API-Key": webhook.secret},
        },
        {
            "name": "viewer",
            "key_id": "1",
            "lockout_id": "1",
            "webhook_id": str(webhook.key.id),
            "session_id": "0123456789abcdef",
            "viewer_session": public_id(viewer_session.sid),
            "viewer_token": viewer,
        },
        ingress,
        untrusted,
    )
    await untrusted.close()
    await ingress.close()


def test_every_route_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(api_routes())


@pytest.mark.parametrize(("method", "template"), sorted(SCENARIOS))
async def test_real_answers_are_documented_and_every_documented_status_happens(
    scene: Scene, method: str, template: str
) -> None:
    route = api_routes()[(method, template)]
    observed: set[str] = set()
    answered_codes: set[tuple[str, str]] = set()
    for call in generic_calls(method, route) + SCENARIOS[(method, template)]:
        response = await scene.send(method, template, call)
        raw = await response.read()
        check((method, template), response, raw)
        observed.add(str(response.status))
        if response.status >= 400 and response.content_type == "application/json" and raw:
            answered_codes.add((str(response.status), json.loads(raw)["code"]))
    if template == "/api/ws":
        async with scene.service.client.ws_connect(scene.service.url("/api/ws")) as stream:
            observed.add("101")
            await stream.receive_json(timeout=10)
    operation = operations()[(method, template)]
    documented = set(operation["responses"])
    assert observed == documented, f"documented but never answered: {documented - observed}"
    if method != "HEAD":  # no body, no code
        errors = [status for status in documented if status.startswith("4")]
        listed = {(status, code) for status in errors for code in codes(operation, status)}
        assert listed <= answered_codes, f"codes never answered: {listed - answered_codes}"


async def test_login_over_the_limit_says_when_to_come_back(scene: Scene) -> None:
    call = Call("anonymous", options=body(username="admin", password=ADMIN_PASSWORD), then="lock")
    response = await scene.send("POST", "/api/login", call)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    check(("POST", "/api/login"), response, await response.read())


async def test_stream_messages_match_the_document(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws, "STATS_INTERVAL", 0.2)
    await service.login("admin", ADMIN_PASSWORD)
    operation = operations()[("GET", "/api/ws")]
    stream = resolve(operation["responses"]["101"]["x-camauth-messages"])
    assert stream is DOCUMENT["components"]["schemas"]["StreamMessage"]
    validator = validator_for(stream)
    async with service.client.ws_connect(service.url("/api/ws")) as connection:
        hello = await connection.receive_json(timeout=10)
        assert hello["type"] == "hello"
        assert not [error.message for error in validator.iter_errors(hello)]
        stats = await connection.receive_json(timeout=10)
        assert stats["type"] == "stats"
        assert not [error.message for error in validator.iter_errors(stats)]
        await service.request("POST", "/api/keys", json={"name": "nvr"})
        message = await connection.receive_json(timeout=10)
        while message["type"] != "event":
            message = await connection.receive_json(timeout=10)
        assert not [error.message for error in validator.iter_errors(message)]
