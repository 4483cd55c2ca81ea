"""The one path canonicalisation, table-driven: what servers see, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from camauth.core.memo import Remembered
from camauth.core.paths import (
    UnjudgeablePath,
    canonical_path,
    canonical_path_by_steps,
    canonical_target,
    is_canonical,
    split_target,
)

# (as received, canonical form): every spelling a server resolves to the same path.
CANONICAL = [
    ("/", "/"),
    ("/api/users", "/api/users"),
    ("/api/users/", "/api/users/"),
    ("//api/users", "/api/users"),
    ("/api//users", "/api/users"),
    ("/api/./users", "/api/users"),
    ("/api/x/../users", "/api/users"),
    ("/a/../api/users", "/api/users"),
    ("/a/b/../../api/users", "/api/users"),
    ("/../api/users", "/api/users"),  # above the root stays at the root
    ("/../../..", "/"),
    ("/api/users/.", "/api/users/"),
    ("/api/users/..", "/api/"),
    ("/%2e%2e/api/users", "/api/users"),
    ("/a/%2E%2E/api/users", "/api/users"),
    ("/a/.%2e/api/users", "/api/users"),
    ("/a/%2e./api/users", "/api/users"),
    ("/api/%2e/users", "/api/users"),
    ("/api/%75sers", "/api/users"),  # an encoded unreserved letter is the letter
    ("/api/users%7e", "/api/users~"),
    ("/cams/front%20door", "/cams/front%20door"),
    ("/cams/front door", "/cams/front%20door"),  # raw space: as a browser would send it
    ("/cams/%c3%a9t%c3%a9", "/cams/%C3%A9t%C3%A9"),  # hex digits upper-cased
    ("/cams/été", "/cams/%C3%A9t%C3%A9"),  # raw non-ASCII: its UTF-8 octets
    ("/a%3fb", "/a%3Fb"),  # an encoded '?' stays data, never a query
    ("/a%23b", "/a%23b"),
    ("/a%25b", "/a%25b"),
    ("/a;b", "/a;b"),  # parameters on an ordinary segment are kept as they are
    ("/api/events;jsessionid=1", "/api/events;jsessionid=1"),
    ("/...", "/..."),  # three dots are a name, not a dot segment
    ("/a/..b/c", "/a/..b/c"),
]

# Spellings servers read in different ways: refused, never guessed at.
REFUSED = [
    "/api%2Fusers",  # an encoded slash: decoded by some servers, kept by others
    "/api%2fusers",
    "/a/..%2F/api",
    "/api%5Cusers",  # an encoded backslash
    "/api\\users",  # a backslash: a separator on Windows servers
    "/..\\api",
    "/a/..;/api/users",  # parameters on a dot segment (Tomcat, Jetty resolve them)
    "/a/.;x/api",
    "/a/..%3B/api",
    "/a/%2e%2e;/api",
    "/api/%00",  # NUL
    "/api/\x00",
    "/api/%0a",  # control characters, encoded or raw
    "/api/\n",
    "/api/\t",
    "/api/%7f",
    "/api/\x85",
    "/api/%zz",  # malformed encodings
    "/api/%2",
    "/api/%",
    "api/users",  # not origin-form
    "*",
    "",
    "/" + "a" * 9000,
]


@pytest.mark.parametrize(("raw", "canonical"), CANONICAL)
def test_canonical_forms(raw: str, canonical: str) -> None:
    assert canonical_path(raw) == canonical
    assert canonical_path(canonical) == canonical  # canonical is a fixed point
    assert is_canonical(canonical)


@pytest.mark.parametrize("raw", REFUSED)
def test_what_servers_read_two_ways_is_refused(raw: str) -> None:
    with pytest.raises(UnjudgeablePath):
        canonical_target(raw)
    assert not is_canonical(raw)


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [
        ("/cams?src=front", "/cams", "src=front"),
        ("/cams?src=front#x", "/cams", "src=front"),
        ("/cams?a=/../b", "/cams", "a=/../b"),  # the query is data, never a path
        ("https://nvr.example/cams/../api?x=1", "/api", "x=1"),  # X-Original-URL: a full URL
        ("https://nvr.example", "/", ""),
        ("https://nvr.example?x=1", "/", "x=1"),
        ("/", "/", ""),
    ],
)
def test_targets_split_into_canonical_path_and_raw_query(
    target: str, path: str, query: str
) -> None:
    assert canonical_target(target) == (path, query)


def test_a_fragment_in_the_path_is_refused() -> None:
    with pytest.raises(UnjudgeablePath):
        split_target("/a#b/../c")


def test_the_target_memo_answers_and_refuses_as_canonical_target() -> None:
    memo = Remembered(canonical_target, size=8, longest=64)
    for _ in range(2):  # decided, then remembered (refusals included)
        for raw, canonical in CANONICAL:
            assert memo(raw) == (canonical, "")
        for raw in REFUSED:
            if not raw:
                continue
            with pytest.raises(UnjudgeablePath) as refused:
                memo(raw)
            with pytest.raises(UnjudgeablePath) as direct:
                canonical_target(raw)
            assert (refused.value.message, refused.value.key) == (
                direct.value.message,
                direct.value.key,
            )
        assert len(memo._memo) <= 8
    long = "/cams/" + "a" * 100
    assert memo(long) == (long, "")
    assert long not in memo._memo


PATH_TEXT = st.text(alphabet="/.;%2eEfF5cC~-_aZ09 ?#\\:@", max_size=24)


@given(st.one_of(PATH_TEXT.map(lambda text: "/" + text), PATH_TEXT))
@example("/")
@example("/a/")
@example("/a.b/c.")
@example("/.a")
@example("/a/..")
@example("//a")
def test_the_shortcut_for_plain_paths_changes_no_answer(path: str) -> None:
    try:
        expected: str | type[UnjudgeablePath] = canonical_path_by_steps(path)
    except UnjudgeablePath:
        expected = UnjudgeablePath
    try:
        found: str | type[UnjudgeablePath] = canonical_path(path)
    except UnjudgeablePath:
        found = UnjudgeablePath
    assert found == expected
