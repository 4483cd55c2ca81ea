"""Deny by default: every route the application registers, as anonymous and as a viewer.

The routes come from the running application, not from a list kept here, so a route added
later without the right access level makes this test fail (Frigate GHSA-vg28-83rp-8xx4).
Only the routes that are meant to be public, or open to viewers, are named below.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import unprefixed

from .conftest import VIEWER_PASSWORD, Service

Route = tuple[str, str]  # (method, path template)

PUBLIC: set[Route] = {
    ("GET", "/"),
    ("GET", "/login"),
    ("GET", "/logout"),
    ("GET", "/static/camauth/{name}"),
    ("GET", "/api/health"),
    ("GET", "/api/healthz"),
    ("GET", "/api/version"),
    ("GET", "/api/auth/status"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    # MediaMTX asks here with the viewer's credentials in the body, as /api/login does.
    ("POST", "/api/auth/mediamtx"),
}
# Routes a viewer may call besides the public ones (they answer neither 401 nor 403).
VIEWER: set[Route] = {
    ("*", "/api/auth"),
    ("GET", "/api/profile"),
    ("PUT", "/api/auth/password"),
}
# Pages for admins only: they send an anonymous browser to the login page instead of a 401.
PAGES: set[Route] = {("GET", "/admin")}
# Everything else is for admins.

LAST = ("POST", "/api/logout")  # ends the viewer's session, so it goes last


def registered_routes(service: Service) -> list[Route]:
    """Every (method, path template) the running application answers."""
    routes = {
        (route.method, route.resource.canonical)
        for route in service.server.app.router.routes()
        if route.resource is not None
    }
    return sorted(routes, key=lambda route: ((route[0], unprefixed(route[1])) == LAST, route))


def concrete(route: Route) -> tuple[str, str]:
    """A request for a route: ``{name}`` and other parameters become ``viewer``."""
    method, template = route
    return ("GET" if method == "*" else method), re.sub(r"\{[^}]+\}", "viewer", template)


async def walk(service: Service, headers: dict[str, str]) -> dict[Route, int]:
    """The status every registered route answers with these headers."""
    client = await service.fresh_client()
    answers: dict[Route, int] = {}
    for route in registered_routes(service):
        method, path = concrete(route)
        response = await client.request(
            method, service.url(path), headers=headers, allow_redirects=False
        )
        await response.read()
        answers[route] = response.status
    return answers


async def test_expected_routes_exist(service: Service) -> None:
    routes = set(registered_routes(service))
    assert routes >= PUBLIC | VIEWER
    assert ("GET", "/api/users") in routes


def same_under_the_reserved_prefix(answers: dict[Route, int]) -> dict[Route, int]:
    """Every route answers alike under /camauth/; the answers of the unprefixed ones."""
    for (method, path), status in answers.items():
        assert answers[(method, unprefixed(path))] == status, (method, path)
    return {route: status for route, status in answers.items() if unprefixed(route[1]) == route[1]}


async def test_anonymous(service: Service) -> None:
    answers = same_under_the_reserved_prefix(await walk(service, {"Accept": "application/json"}))
    assert {route: status for route, status in answers.items() if status >= 500} == {}
    not_refused = {route for route, status in answers.items() if status != 401}
    assert not_refused == PUBLIC | PAGES
    assert {answers[route] for route in PAGES} == {302}


@pytest.mark.parametrize("carrier", ["bearer", "cookie"])
async def test_viewer(service: Service, carrier: str) -> None:
    token = await service.login("viewer", VIEWER_PASSWORD)
    if carrier == "bearer":
        headers = {"Authorization": f"Bearer {token}"}
    else:
        headers = {"Cookie": f"camauth_token={token}"}
    answers = same_under_the_reserved_prefix(await walk(service, headers))
    assert {route: status for route, status in answers.items() if status >= 500} == {}
    assert {route: status for route, status in answers.items() if status == 401} == {}
    forbidden = {route for route, status in answers.items() if status == 403}
    assert forbidden == set(answers) - PUBLIC - VIEWER
    assert len(forbidden) >= 10
