"""Roles as data, table-driven: patterns, rules, presets and cameras."""

from __future__ import annotations

from typing import Any

import pytest

from camauth.core.cameras import cameras_named
from camauth.core.roles import VIEWER, RoleBook, compile_pattern, parse_role, validate_role
from camauth.errors import BadRequest


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/api/events", "/api/events", True),
        ("/api/events", "/api/events/", True),
        ("/api/events", "/api/events/1", False),
        ("/api/events/*", "/api/events/1", True),
        ("/api/events/*", "/api/events", False),
        ("/api/events/*", "/api/events/1/snapshot.jpg", False),
        ("/api/events/**", "/api/events", True),
        ("/api/events/**", "/api/events/1/snapshot.jpg", True),
        ("/api/*/latest.*", "/api/front/latest.jpg", True),
        ("/api/*/latest.*", "/api/front/latest", False),
        ("/api/*/latest.*", "/api/front/back/latest.jpg", False),
        ("/**", "/", True),
        ("/**", "/anything/at/all", True),
        ("/api/events", "/api/eventsX", False),
        ("/api/ev*", "/api/events", True),
        ("/api/ev*", "/api/ev", True),
        ("/a.b", "/aXb", False),  # a literal dot is a dot
    ],
)
def test_patterns(pattern: str, path: str, matches: bool) -> None:
    assert (compile_pattern(pattern).fullmatch(path) is not None) is matches


FAMILY = parse_role(
    "family",
    {
        "rules": [
            {"paths": ["/", "/assets/**", "/api/config", "/api/*/latest.*"], "methods": ["GET"]},
            {"paths": ["/api/events/**"], "methods": ["GET", "HEAD"]},
        ],
        "presets": ["go2rtc_webrtc", "mediamtx_whep"],
        "cameras": ["front_door", "garden"],
    },
)


@pytest.mark.parametrize(
    ("method", "path", "query", "allowed"),
    [
        ("GET", "/", "", True),
        ("GET", "/api/front_door/latest.jpg", "", True),
        ("GET", "/api/garage/latest.jpg", "", False),  # another camera
        ("GET", "/api/config", "", True),
        ("POST", "/api/config", "", False),  # no rule allows POST
        ("GET", "/api/users", "", False),  # no rule for it: denied by default
        ("GET", "/api/events/123/snapshot.jpg", "", True),
        ("GET", "/api/events", "cameras=front_door", True),
        ("GET", "/api/events", "cameras=front_door,garage", False),
        ("POST", "/api/webrtc", "src=front_door", True),  # go2rtc preset, its camera
        ("POST", "/api/webrtc", "src=garage", False),
        ("POST", "/api/webrtc", "src=front_door&src=garage", False),
        ("POST", "/api/go2rtc/api/webrtc", "src=garden", True),  # through Frigate
        ("POST", "/garden/whep", "", True),  # MediaMTX WHEP
        ("PATCH", "/garden/whep/a1b2", "", True),
        ("DELETE", "/garden/whep/a1b2", "", True),
        ("POST", "/garage/whep", "", False),
        ("POST", "/api/reviews/viewed", "", False),  # not one of this role's presets
    ],
)
def test_a_custom_role(method: str, path: str, query: str, allowed: bool) -> None:
    assert FAMILY.allows(method, path, query) is allowed


@pytest.mark.parametrize(
    ("method", "path", "query", "allowed"),
    [
        ("GET", "/api/anything", "", True),
        ("HEAD", "/", "", True),
        ("POST", "/api/webrtc", "src=any", True),
        ("POST", "/live/webrtc/api/webrtc", "src=any", True),
        ("POST", "/cam/whep", "", True),
        ("POST", "/api/reviews/viewed", "", True),
        ("POST", "/api/config/save", "", False),
        ("PUT", "/api/users/x", "", False),
        ("DELETE", "/api/events/1", "", False),
        ("POST", "/api/webrtcX", "", False),
        ("POST", "/whep", "", False),  # no MediaMTX path before it
    ],
)
def test_the_viewer(method: str, path: str, query: str, allowed: bool) -> None:
    assert VIEWER.allows(method, path, query) is allowed


@pytest.mark.parametrize(
    ("path", "query", "cameras"),
    [
        ("/api/front/latest.jpg", "", {"front"}),
        ("/api/front/grid.jpg", "", {"front"}),
        ("/api/front/recordings/2026-01-01", "", {"front"}),
        ("/api/front/person/snapshot.jpg", "", {"front"}),
        ("/api/front/ptz/info", "", {"front"}),
        ("/vod/front/start/1/end/2/index.m3u8", "", {"front"}),
        ("/live/jsmpeg/front", "", {"front"}),
        ("/api/events/1/snapshot.jpg", "", set()),  # Frigate's events, not a camera
        ("/api/review/summary", "cameras=a,b", {"a", "b"}),
        ("/api/events", "cameras=all", set()),
        ("/api/ws", "src=front&src=back", {"front", "back"}),
        ("/api/stream.mp4", "name=front", {"front"}),
        ("/api/frame.jpeg", "src=front", {"front"}),
        ("/go2rtc/api/webrtc", "src=front", {"front"}),
        ("/api/config", "src=front", set()),  # not a go2rtc endpoint
        ("/front/whep", "", {"front"}),
        ("/site/front/whep", "", {"site/front"}),
        ("/front/index.m3u8", "", {"front"}),
        ("/front/seg12.mp4", "", {"front"}),
        ("/", "", set()),
        ("/api/config", "", set()),
    ],
)
def test_where_requests_name_cameras(path: str, query: str, cameras: set[str]) -> None:
    assert cameras_named(path, query) == cameras


@pytest.mark.parametrize(
    "raw",
    [
        {"rules": [{"paths": ["api/x"], "methods": ["GET"]}]},
        {"rules": [{"paths": ["/a/../b"], "methods": ["GET"]}]},
        {"rules": [{"paths": ["//a"], "methods": ["GET"]}]},
        {"rules": [{"paths": ["/a"], "methods": ["FETCH"]}]},
        {"rules": [{"paths": [], "methods": ["GET"]}]} | {"cameras": 5},
        {"rules": [{"paths": ["/a"]}]},
        {"rules": [{"paths": ["/a"], "methods": ["GET"], "extra": 1}]},
        {"presets": ["root_access"]},
        {"cameras": "front"},
        {"cameras": [""]},
        {"description": "x" * 300},
        {"unknown": True},
        {"rules": "everything"},
    ],
)
def test_bad_roles_are_refused_with_a_reason(raw: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_role("bad", raw)
    assert caught.value.key == "invalid_role"
    assert caught.value.message


@pytest.mark.parametrize("role", ["Admin", "no spaces"])
def test_bad_role_names_are_refused(role: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_role(role)
    assert caught.value.key == "invalid_role"


@pytest.mark.parametrize("role", ["admin", "viewer", "family"])
def test_role_names_of_the_right_form_are_kept(role: str) -> None:
    assert validate_role(role) == role


def test_the_role_book_keeps_the_built_in_roles() -> None:
    book = RoleBook()
    book.load([FAMILY, parse_role("viewer", {})])  # a stored "viewer" cannot replace the real one
    assert book.get("viewer") is VIEWER
    assert book.names() == ["admin", "viewer", "family"]
    assert book.require("family") == "family"
    with pytest.raises(BadRequest):
        book.require("nobody")
    book.remove("family")
    assert book.get("family") is None
