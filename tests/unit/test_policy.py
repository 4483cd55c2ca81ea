"""The one access decision, table-driven: CamAuth's own routes and the camera UI behind it."""

from __future__ import annotations

import pytest

from camauth.core.identity import SOURCE_API_KEY, SOURCE_SESSION, Identity
from camauth.core.policy import Access, Target, decide, within

ADMIN = Identity("root", "admin", SOURCE_SESSION, "s1")
VIEWER = Identity("kid", "viewer", SOURCE_SESSION, "s2")
ADMIN_KEY = Identity("ha", "admin", SOURCE_API_KEY)
VIEWER_KEY = Identity("scripts", "viewer", SOURCE_API_KEY)
WEBHOOK = Identity("doorbell", "admin", SOURCE_API_KEY, paths=("/hooks/",))
NOBODY = None

OWN = [
    # (identity, access, status)
    (NOBODY, Access.PUBLIC, 200),
    (NOBODY, Access.FORWARD_AUTH, 200),
    (NOBODY, Access.IDENTITY, 401),
    (NOBODY, Access.SESSION, 401),
    (NOBODY, Access.ADMIN, 401),
    (VIEWER, Access.IDENTITY, 200),
    (VIEWER, Access.SESSION, 200),
    (VIEWER, Access.ADMIN, 403),
    (VIEWER_KEY, Access.IDENTITY, 200),
    (VIEWER_KEY, Access.SESSION, 403),
    (VIEWER_KEY, Access.ADMIN, 403),
    (ADMIN, Access.ADMIN, 200),
    (ADMIN, Access.SESSION, 200),
    (ADMIN_KEY, Access.ADMIN, 200),
    (ADMIN_KEY, Access.SESSION, 403),
    (WEBHOOK, Access.IDENTITY, 401),  # a webhook key opens no route of CamAuth's own
    (WEBHOOK, Access.ADMIN, 401),
    (WEBHOOK, Access.PUBLIC, 200),
]

CAMERA = [
    # (identity, method, canonical path, status)
    (NOBODY, "GET", "/", 401),
    (NOBODY, "POST", "/api/events", 401),
    (VIEWER, "GET", "/api/events", 200),
    (VIEWER, "HEAD", "/api/events", 200),
    (VIEWER, "OPTIONS", "/api/config", 200),
    (VIEWER, "POST", "/api/config/save", 403),
    (VIEWER, "PUT", "/api/users/x", 403),
    (VIEWER, "DELETE", "/api/events/1", 403),
    (VIEWER, "PATCH", "/", 403),
    (VIEWER_KEY, "GET", "/live", 200),
    (VIEWER_KEY, "POST", "/live", 403),
    (ADMIN, "DELETE", "/api/users/x", 200),
    (ADMIN_KEY, "POST", "/api/config/save", 200),
    (WEBHOOK, "POST", "/hooks/motion", 200),
    (WEBHOOK, "POST", "/hooks", 200),
    (WEBHOOK, "POST", "/hooksX", 403),
    (WEBHOOK, "GET", "/api/config", 403),
    (WEBHOOK, "GET", "/", 403),
]


@pytest.mark.parametrize(("identity", "access", "status"), OWN)
def test_own_routes(identity: Identity | None, access: Access, status: int) -> None:
    decision = decide(identity, Target("POST", "/api/x", access=access))
    assert (decision.allowed, decision.status) == (status == 200, status)


@pytest.mark.parametrize(("identity", "method", "path", "status"), CAMERA)
def test_camera_ui(identity: Identity | None, method: str, path: str, status: int) -> None:
    decision = decide(identity, Target(method, path))
    assert (decision.allowed, decision.status) == (status == 200, status)
    if not decision.allowed:
        assert decision.reason
        assert decision.key


@pytest.mark.parametrize(
    ("path", "prefixes", "inside"),
    [
        ("/hooks", ("/hooks/",), True),
        ("/hooks/a/b", ("/hooks",), True),
        ("/hooksX", ("/hooks",), False),
        ("/hook", ("/hooks",), False),
        ("/anything", ("/",), True),
        ("/a", (), False),
        ("/b/x", ("/a", "/b"), True),
    ],
)
def test_within_is_on_segment_boundaries(
    path: str, prefixes: tuple[str, ...], inside: bool
) -> None:
    assert within(path, prefixes) is inside
