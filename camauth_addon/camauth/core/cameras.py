"""What camera systems look like from the outside: their read-only POSTs, and their cameras.

Watching a stream is not always a GET: go2rtc's WebRTC offer and MediaMTX's WHEP session are
POSTs (and WHEP adds PATCH and DELETE on the session), and Frigate's "mark as reviewed" is a
POST that changes nothing a viewer should not change. These are named **presets**, which a
role lists, instead of one-off exceptions.

Each system also says where a request names a camera: Frigate in its path
(``/api/<camera>/latest.jpg``, ``/vod/<camera>/…``), go2rtc in its ``src``/``name`` query
values, MediaMTX in the path before ``/whep`` or an HLS file. A role limited to some cameras
is refused any request that names another one. Finding a camera never *allows* anything: a
request is allowed only by a rule or a preset of the role, so a path that merely looks like a
camera cannot skip a check (Frigate GHSA-x2ch-x8hv-75xf).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

from ..const import SAFE_METHODS


@dataclass(frozen=True, slots=True)
class Preset:
    """Requests a viewer may make although they are not GETs, because they only watch."""

    name: str
    description: str
    methods: frozenset[str]
    path: re.Pattern[str]

    def allows(self, method: str, path: str) -> bool:
        """Whether this preset covers a request."""
        return method in self.methods and self.path.fullmatch(path) is not None


def _suffix(pattern: str) -> re.Pattern[str]:
    """A path ending in ``pattern`` (go2rtc and MediaMTX are often served under a prefix)."""
    return re.compile(rf"(?:/[^/]+)*{pattern}")


PRESETS: Final = {
    preset.name: preset
    for preset in (
        Preset(
            "go2rtc_webrtc",
            "go2rtc's WebRTC offer (POST …/api/webrtc), also through Frigate's /api/go2rtc/",
            frozenset({"POST"}),
            _suffix(r"/api/webrtc"),
        ),
        Preset(
            "mediamtx_whep",
            "MediaMTX's WebRTC reading (WHEP): POST …/<path>/whep, PATCH and DELETE its session",
            frozenset({"POST", "PATCH", "DELETE"}),
            re.compile(r"(?:/[^/]+)+/whep(?:/[^/]+)?"),
        ),
        Preset(
            "frigate_review",
            "Frigate's 'mark as reviewed' (POST /api/reviews/viewed)",
            frozenset({"POST"}),
            re.compile(r"/api/reviews/viewed|/api/review/[^/]+/viewed"),
        ),
    )
}

# Where each system names the camera a request is about (the path is canonical).
_FRIGATE_PATHS = (
    re.compile(
        r"/api/(?P<camera>[^/]+)/(?:latest\.[a-z]+|grid\.[a-z]+|recordings(?:/.*)?|ptz/.*"
        r"|[^/]+/(?:snapshot|best|thumbnail|clip)\.[a-z0-9]+)"
    ),
    re.compile(r"/vod/(?P<camera>[^/]+)/.+"),
    re.compile(r"/live/(?:jsmpeg|mse|webrtc)/(?P<camera>[^/]+)"),
)
# Frigate's own resources under /api/ whose sub-paths look like camera ones
# (/api/events/<id>/snapshot.jpg): not cameras; Frigate 0.17 judges those by Remote-Role.
_FRIGATE_RESOURCES = frozenset(
    {"events", "review", "reviews", "export", "exports", "preview", "timeline", "go2rtc"}
)
# Frigate's own top-level paths: never MediaMTX path names (its /vod/… is HLS too).
_FRIGATE_PREFIXES = ("/api/", "/vod/", "/live/", "/clips/", "/recordings/", "/exports/")
_FRIGATE_FILTERS = re.compile(r"/api/(?:events|review|reviews)(?:/summary)?")
_GO2RTC_PATHS = _suffix(r"/api/(?:ws|webrtc|stream\.[a-z0-9]+|frame\.[a-z]+|streams)")
_MEDIAMTX_PATHS = re.compile(
    r"/(?P<camera>[^/]+(?:/[^/]+)*?)/(?:whep(?:/[^/]+)?|whip(?:/[^/]+)?|index\.m3u8"
    r"|[^/]+\.(?:m3u8|mp4|m4s|ts))"
)


def cameras_named(path: str, query: str) -> set[str]:
    """Every camera a request names, in the places each system puts one."""
    found: set[str] = set()
    for pattern in _FRIGATE_PATHS:
        match = pattern.fullmatch(path)
        if match and match.group("camera") not in _FRIGATE_RESOURCES:
            found.add(match.group("camera"))
    pairs = parse_qsl(query, keep_blank_values=True)
    if _GO2RTC_PATHS.fullmatch(path):
        found.update(value for name, value in pairs if name in ("src", "name"))
    if _FRIGATE_FILTERS.fullmatch(path):
        for name, value in pairs:
            if name in ("camera", "cameras") and value not in ("", "all"):
                found.update(part for part in value.split(",") if part)
    match = _MEDIAMTX_PATHS.fullmatch(path)
    if match and not path.startswith(_FRIGATE_PREFIXES):
        found.add(match.group("camera"))
    return found


def preset_allows(names: tuple[str, ...], method: str, path: str) -> bool:
    """Whether one of the named presets covers a request (safe methods need none)."""
    if method in SAFE_METHODS:
        return False
    return any(PRESETS[name].allows(method, path) for name in names if name in PRESETS)
