"""The OpenAPI document: served as shipped, covering every route exactly, valid, and truthful.

Routes come from the running application and access levels from the route table, so a
route added, removed or re-secured without updating ``openapi.json`` fails here by name.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from aiohttp import ClientResponse
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from camauth.api.access import Access
from camauth.api.pages import Pages
from camauth.app import route_table
from camauth.const import ROLES, VERSION
from camauth.events import EVENT_TYPES

from .conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory, with_auth

# What a route registered for any method ("*") is documented as.
ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_METHODS = {"get", "head", "post", "put", "patch", "delete", "options", "trace"}
Security = list[dict[str, list[str]]]
ALL_CREDENTIALS: Security = [{"cookieAuth": []}, {"bearerAuth": []}, {"apiKeyAuth": []}]
SECURITY: dict[Access, Security] = {
    Access.PUBLIC: [],
    Access.FORWARD_AUTH: [],  # the handler decides, and answers only 200/401/403
    Access.IDENTITY: ALL_CREDENTIALS,
    Access.SESSION: [{"cookieAuth": []}, {"bearerAuth": []}],  # an API key has no session
    Access.ADMIN: ALL_CREDENTIALS,
}
STRONG = "tangerine comet bridge 9"

Route = tuple[str, str]  # (METHOD, path template)


def shipped_text() -> str:
    return resources.files("camauth").joinpath("openapi.json").read_text(encoding="utf-8")


DOCUMENT: dict[str, Any] = json.loads(shipped_text())


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


def route_access() -> dict[Route, Access]:
    """The ``/api/`` routes of the route table, ``*`` expanded, with their access level."""
    return {
        (method, route.path): route.access
        for route in route_table(Pages())
        if route.path.startswith("/api/")
        for method in (ANY_METHOD if route.method == "*" else (route.method,))
    }


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
    for route, level in route_access().items():
        operation = documented.get(route)
        if operation is None:
            continue  # reported by test_every_api_route_is_documented_and_nothing_else
        assert operation.get("summary"), route
        statuses = set(operation["responses"])
        if level not in (Access.PUBLIC, Access.FORWARD_AUTH):
            assert {"400", "401"} <= statuses, route
        if level is Access.ADMIN:
            assert "403" in statuses, route
        for status, answer in operation["responses"].items():
            if status.startswith("4") and level is not Access.FORWARD_AUTH:
                schema = resolve(answer)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (route, status)


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
    responses = variants[0]["responses"]
    assert set(responses) == {"200", "401", "403"}
    assert {"Remote-User", "Remote-Role"} <= set(responses["200"]["headers"])
    assert "Location" in responses["401"]["headers"]
    assert "requestBody" not in variants[0]


def test_enums_follow_the_code() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["Role"]["enum"] == list(ROLES)
    assert schemas["EventType"]["enum"] == list(EVENT_TYPES)


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
        validator = Draft202012Validator(schema | {"components": DOCUMENT["components"]})
        assert not [error.message for error in validator.iter_errors(example)], example


def test_document_is_valid_openapi_of_this_version() -> None:
    validate(DOCUMENT)  # type: ignore[arg-type]
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert DOCUMENT["info"]["version"] == VERSION


# Real answers against the documented schemas: the document describes what is served.


def check(route: Route, response: ClientResponse, body: bytes) -> None:
    """Status, required headers and body are as documented for this route."""
    responses = operations()[route]["responses"]
    status = str(response.status)
    assert status in responses, f"{route} answered {status}, which is not documented"
    answer = resolve(responses[status])
    for name, header in answer.get("headers", {}).items():
        if resolve(header).get("required"):
            assert name in response.headers, (route, status, name)
    content = answer.get("content")
    if content is None:
        assert body == b"", (route, status)
        return
    assert response.content_type in content, (route, status, response.content_type)
    if response.content_type != "application/json":
        return
    schema = content["application/json"]["schema"]
    validator = Draft202012Validator(schema | {"components": DOCUMENT["components"]})
    errors = [error.message for error in validator.iter_errors(json.loads(body))]
    assert not errors, (route, status, body, errors)


@pytest.fixture
async def locked(start_service: ServiceFactory) -> Service:
    """An admin logged in, then one failed login that locks this client out for a minute."""
    service = await start_service(with_auth(failed_login_rate_limit="1/minute"))
    await service.login("admin", ADMIN_PASSWORD)
    await service.request("POST", "/api/login", json={"username": "nobody", "password": "x"})
    assert service.accounts.guard.lockouts()
    return service


# (method, path template, path requested, request options), sent by the admin of `locked`.
CALLS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("GET", "/api/health", "/api/health", {}),
    ("GET", "/api/healthz", "/api/healthz", {}),
    ("GET", "/api/version", "/api/version", {}),
    ("GET", "/api/auth/status", "/api/auth/status", {}),
    ("GET", "/api/profile", "/api/profile", {}),
    ("GET", "/api/users", "/api/users", {}),
    ("POST", "/api/users", "/api/users", {"json": {"username": "alice", "password": STRONG}}),
    ("POST", "/api/users", "/api/users", {"json": {"username": "Admin", "password": STRONG}}),
    ("POST", "/api/users", "/api/users", {"json": {"username": "a b", "password": STRONG}}),
    ("POST", "/api/users", "/api/users", {"data": "{}"}),
    ("POST", "/api/users", "/api/users", {"json": {"username": "bob", "password": "short"}}),
    ("PUT", "/api/users/{name}/role", "/api/users/viewer/role", {"json": {"role": "admin"}}),
    ("PUT", "/api/users/{name}/role", "/api/users/admin/role", {"json": {"role": "viewer"}}),
    ("PUT", "/api/users/{name}/role", "/api/users/viewer/role", {"json": {"role": "root"}}),
    (
        "PUT",
        "/api/users/{name}/password",
        "/api/users/viewer/password",
        {"json": {"password": STRONG}},
    ),
    (
        "PUT",
        "/api/users/{name}/password",
        "/api/users/nobody/password",
        {"json": {"password": STRONG}},
    ),
    ("POST", "/api/users/{name}/reset_password", "/api/users/viewer/reset_password", {"json": {}}),
    ("POST", "/api/users/{name}/revoke_sessions", "/api/users/viewer/revoke_sessions", {}),
    ("POST", "/api/users/{name}/revoke_sessions", "/api/users/nobody/revoke_sessions", {}),
    ("DELETE", "/api/users/{name}", "/api/users/viewer", {}),
    ("DELETE", "/api/users/{name}", "/api/users/admin", {}),
    ("GET", "/api/keys", "/api/keys", {}),
    ("POST", "/api/keys", "/api/keys", {"json": {"name": "nvr", "paths": ["/triggers/"]}}),
    ("POST", "/api/keys", "/api/keys", {"json": {"name": "nvr", "paths": ["/a/../b"]}}),
    ("DELETE", "/api/keys/{key_id}", "/api/keys/12345", {}),
    ("GET", "/api/events", "/api/events", {"params": {"limit": "5"}}),
    ("GET", "/api/events", "/api/events", {"params": {"limit": "0"}}),
    ("GET", "/api/events", "/api/events", {"params": {"page": "2"}}),
    ("GET", "/api/stats", "/api/stats", {}),
    ("GET", "/api/lockouts", "/api/lockouts", {}),
    ("DELETE", "/api/lockouts/{lockout_id}", "/api/lockouts/1", {}),
    ("DELETE", "/api/lockouts/{lockout_id}", "/api/lockouts/999", {}),
    ("DELETE", "/api/lockouts", "/api/lockouts", {}),
    ("GET", "/api/auth", "/api/auth", {"headers": {"X-Forwarded-Method": "DELETE"}}),
    ("HEAD", "/api/auth", "/api/auth", {}),
    (
        "PUT",
        "/api/auth/password",
        "/api/auth/password",
        {"json": {"old_password": "x", "password": STRONG}},
    ),
    ("PUT", "/api/auth/password", "/api/auth/password", {"json": {"password": STRONG}}),
    ("POST", "/api/login", "/api/login", {"json": {"username": "admin", "password": "x"}}),
    ("POST", "/api/logout", "/api/logout", {"headers": {"Origin": "https://elsewhere.example"}}),
    ("POST", "/api/logout", "/api/logout", {}),
]


@pytest.mark.parametrize(("method", "template", "path", "options"), CALLS)
async def test_answers_to_an_admin_match_the_document(
    locked: Service, method: str, template: str, path: str, options: dict[str, Any]
) -> None:
    response = await locked.request(method, path, **options)
    check((method, template), response, await response.read())


async def test_refusals_match_the_document(service: Service) -> None:
    anonymous = await service.fresh_client()
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/users", {}),
        ("GET", "/api/profile", {}),
        ("GET", "/api/auth", {}),
        ("GET", "/api/auth", {"headers": {"Accept": "text/html", "X-Forwarded-Uri": "/cams"}}),
        ("GET", "/api/ws", {}),
        ("GET", "/api/profile", {"headers": [("X-API-Key", "a"), ("X-API-Key", "b")]}),
        ("POST", "/api/login", {"data": "x"}),
        ("POST", "/api/login", {"data": "[]", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/api/login", {"json": {"username": "admin", "password": "x" * 20_000}}),
    ]
    for method, path, options in calls:
        response = await anonymous.request(method, service.url(path), **options)
        assert 400 <= response.status < 500, (method, path)
        check((method, path), response, await response.read())
    await service.login("viewer", VIEWER_PASSWORD)
    calls = [
        ("GET", "/api/stats", {}),
        ("DELETE", "/api/lockouts", {}),
        ("GET", "/api/ws", {}),
        ("GET", "/api/auth", {"headers": {"X-Original-Method": "POST"}}),
        ("GET", "/api/auth", {}),
        ("PUT", "/api/auth/password", {"data": "{}"}),
    ]
    for method, path, options in calls:
        response = await service.request(method, path, **options)
        check((method, path), response, await response.read())
    browser = {"Accept": "text/html", "X-Forwarded-Uri": "/cams?id=1"}
    response = await anonymous.get(service.url("/api/auth"), headers=browser)
    assert response.headers["Location"] == "/login?rd=%2Fcams%3Fid%3D1"
    # Last: a wrong password also starts this client's one-second throttle.
    response = await anonymous.post(
        service.url("/api/login"), json={"username": "admin", "password": "wrong"}
    )
    assert response.status == 401
    check(("POST", "/api/login"), response, await response.read())


async def test_stream_messages_match_the_document(service: Service) -> None:
    await service.login("admin", ADMIN_PASSWORD)
    operation = operations()[("GET", "/api/ws")]
    assert "101" in operation["responses"]
    stream = DOCUMENT["components"]["schemas"]["StreamMessage"]
    validator = Draft202012Validator(stream | {"components": DOCUMENT["components"]})
    async with service.client.ws_connect(service.url("/api/ws")) as ws:
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        assert not [error.message for error in validator.iter_errors(hello)]
        await service.request("POST", "/api/keys", json={"name": "nvr"})
        event = await ws.receive_json(timeout=10)
        assert event["type"] == "event"
        assert not [error.message for error in validator.iter_errors(event)]
