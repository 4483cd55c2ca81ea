"""The OpenAPI document covers every route, exactly, with the right security, and is valid."""

from __future__ import annotations

import json
from importlib import resources

from openapi_spec_validator import validate

from camauth.api.access import Access
from camauth.api.pages import Pages
from camauth.app import route_table
from camauth.const import VERSION

from .conftest import Service

ANY_METHOD = {"get", "head", "post", "put", "patch", "delete", "options"}


def _document() -> dict[str, object]:
    return dict(json.loads(resources.files("camauth").joinpath("openapi.json").read_text()))


def _documented() -> set[tuple[str, str]]:
    paths = _document()["paths"]
    assert isinstance(paths, dict)
    return {(method, path) for path, ops in paths.items() for method in ops}


async def test_served_document_is_the_shipped_one(service: Service) -> None:
    response = await service.request("GET", "/api/openapi.json")
    assert response.status == 200
    assert await response.json() == _document()


def test_every_api_route_is_documented_and_nothing_else(service: Service) -> None:
    routes = set()
    for route in service.server.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/api/"):
            continue
        if route.method == "*":
            routes |= {(method, path) for method in ANY_METHOD}
        elif route.method != "HEAD":  # aiohttp adds HEAD to every GET route by itself
            routes.add((route.method.lower(), path))
    documented = {(m, p) for m, p in _documented() if not (m == "head" and p != "/api/auth")}
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes that do not exist"


def test_security_matches_each_route_access_level() -> None:
    paths = _document()["paths"]
    assert isinstance(paths, dict)
    for route in route_table(Pages()):
        if not route.path.startswith("/api/"):
            continue
        methods = ANY_METHOD if route.method == "*" else {route.method.lower()}
        for method in methods:
            security = paths[route.path][method]["security"]
            public = route.access in (Access.PUBLIC, Access.FORWARD_AUTH)
            assert (security == []) == public, (method, route.path)


def test_document_is_valid_openapi_of_this_version() -> None:
    document = _document()
    validate(document)  # type: ignore[arg-type]
    info = document["info"]
    assert isinstance(info, dict)
    assert info["version"] == VERSION
