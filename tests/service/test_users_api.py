"""The users API (Frigate's shapes).

Admins manage users, nobody else can, and bad input gets a clear 4xx and changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    with_auth,
)

STRONG = "tangerine comet bridge 9"
OTHER_STRONG = "velvet canyon orbit 31"
ADMIN_REQUIRED = {"error": "Admin role required", "code": "admin_required"}
AUTH_REQUIRED = {"error": "Authentication required", "code": "unauthorized"}
LAST_ADMIN = {"error": "The last admin cannot be removed or demoted", "code": "last_admin"}
BAD_USERNAME = {
    "error": "Username must be 1-64 characters: letters, digits, '.', '_' or '-'",
    "code": "invalid_username",
}
BAD_ROLE = {"error": "Role must be one of: admin, viewer", "code": "invalid_role"}
NOT_JSON = {"error": "Request body is not valid JSON", "code": "invalid_json"}
NOT_OBJECT = {"error": "Request body must be a JSON object", "code": "invalid_json"}
NOT_JSON_TYPE = {"error": "Content-Type must be application/json", "code": "not_json"}
TOO_SHORT = {"error": "Password must be at least 12 characters long", "code": "password_too_short"}
TOO_COMMON = {
    "error": "Password is too common; choose a longer phrase of unrelated words",
    "code": "password_too_common",
}
HAS_USERNAME = {
    "error": "Password must not contain the username",
    "code": "password_contains_username",
}
HAS_CONTROL = {
    "error": "Password must not contain control characters",
    "code": "password_invalid_characters",
}
USER_NOT_FOUND = {"error": "User not found", "code": "user_not_found"}
SUCCESS = {"success": True}


@dataclass
class Api:
    """Calls the API with a bearer token (or none), from a client without cookies."""

    service: Service
    client: ClientSession
    token: str | None

    async def __call__(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.client.request(
            method, self.service.url(path), headers=headers, **kwargs
        )
        return response.status, await response.json()


async def api_as(service: Service, username: str | None, password: str = "") -> Api:
    token = await service.login(username, password) if username else None
    return Api(service, await service.fresh_client(), token)


async def login_status(service: Service, username: str, password: str) -> int:
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": username, "password": password}
    )
    return response.status


@pytest.fixture
async def service(start_service: ServiceFactory) -> Service:
    """No per-address throttle: some tests here log in with wrong passwords on purpose."""
    return await start_service(with_auth(failed_login_rate_limit=""))


@pytest.fixture
async def admin(service: Service) -> Api:
    return await api_as(service, "admin", ADMIN_PASSWORD)


async def list_users(admin: Api) -> list[dict[str, Any]]:
    status, users = await admin("GET", "/api/users")
    assert status == 200, users
    return list(users)


async def assert_intact(service: Service, admin: Api, users_before: Any) -> None:
    """The user list is as before and both seeded users still log in with their passwords."""
    assert await admin("GET", "/api/users") == (200, users_before)
    assert await login_status(service, "admin", ADMIN_PASSWORD) == 200
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 200


async def test_list_users(admin: Api) -> None:
    users = await list_users(admin)
    assert [(user["username"], user["role"]) for user in users] == [
        ("admin", "admin"),
        ("viewer", "viewer"),
    ]
    for user in users:
        assert set(user) == {"username", "role", "created_at", "source"}
        assert user["source"] == "local"
        assert isinstance(user["created_at"], float)
        assert time.time() - 600 < user["created_at"] <= time.time()


async def test_create_user_defaults_to_viewer(service: Service, admin: Api) -> None:
    status, body = await admin("POST", "/api/users", json={"username": "Alice", "password": STRONG})
    assert status == 201
    assert set(body) == {"username", "role", "created_at", "source"}
    assert (body["username"], body["role"]) == ("Alice", "viewer")
    users = await list_users(admin)
    assert [user["username"] for user in users] == ["admin", "Alice", "viewer"]
    assert body in users
    alice = await api_as(service, "alice", STRONG)
    assert await alice("GET", "/api/profile") == (
        200,
        {"username": "Alice", "role": "viewer", "auth_method": "session"},
    )


async def test_create_admin(service: Service, admin: Api) -> None:
    status, body = await admin(
        "POST", "/api/users", json={"username": "boss", "password": STRONG, "role": "admin"}
    )
    assert (status, body["role"]) == (201, "admin")
    boss = await api_as(service, "boss", STRONG)
    status, _ = await boss("GET", "/api/users")
    assert status == 200


@pytest.mark.parametrize("name", ["viewer", "VIEWER", "Viewer", "ADMIN"])
async def test_duplicate_username_is_a_conflict(service: Service, admin: Api, name: str) -> None:
    before = await list_users(admin)
    assert await admin("POST", "/api/users", json={"username": name, "password": STRONG}) == (
        409,
        {"error": "User already exists", "code": "user_exists"},
    )
    await assert_intact(service, admin, before)
    assert await login_status(service, name, STRONG) == 401


async def test_delete_user(service: Service, admin: Api) -> None:
    status, _ = await admin("POST", "/api/users", json={"username": "bob", "password": STRONG})
    assert status == 201
    assert await login_status(service, "bob", STRONG) == 200
    assert await admin("DELETE", "/api/users/BOB") == (200, SUCCESS)
    users = await list_users(admin)
    assert [user["username"] for user in users] == ["admin", "viewer"]
    assert await login_status(service, "bob", STRONG) == 401
    assert await admin("DELETE", "/api/users/bob") == (404, USER_NOT_FOUND)


async def test_set_password(service: Service, admin: Api) -> None:
    assert await admin("PUT", "/api/users/viewer/password", json={"password": STRONG}) == (
        200,
        SUCCESS,
    )
    assert await login_status(service, "viewer", STRONG) == 200
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 401
    assert await admin("PUT", "/api/users/nobody/password", json={"password": STRONG}) == (
        404,
        USER_NOT_FOUND,
    )


async def test_set_role(service: Service, admin: Api) -> None:
    assert await admin("PUT", "/api/users/viewer/role", json={"role": "admin"}) == (200, SUCCESS)
    users = await list_users(admin)
    assert [(user["username"], user["role"]) for user in users] == [
        ("admin", "admin"),
        ("viewer", "admin"),
    ]
    assert await admin("PUT", "/api/users/viewer/role", json={"role": "viewer"}) == (200, SUCCESS)
    users = await list_users(admin)
    assert users[1]["role"] == "viewer"
    assert await admin("PUT", "/api/users/nobody/role", json={"role": "viewer"}) == (
        404,
        USER_NOT_FOUND,
    )


# Every users endpoint, with a body that an admin's call would succeed with.
ENDPOINTS = [
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"username": "mallory", "password": STRONG}),
    ("DELETE", "/api/users/admin", None),
    ("DELETE", "/api/users/viewer", None),
    ("PUT", "/api/users/admin/password", {"password": STRONG}),
    ("PUT", "/api/users/viewer/password", {"password": STRONG}),
    ("PUT", "/api/users/admin/role", {"role": "viewer"}),
    ("PUT", "/api/users/viewer/role", {"role": "admin"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    ("who", "expected"),
    [("viewer", (403, ADMIN_REQUIRED)), (None, (401, AUTH_REQUIRED))],
    ids=["viewer", "anonymous"],
)
async def test_only_admins_manage_users(
    service: Service,
    admin: Api,
    who: str | None,
    expected: tuple[int, Any],
    method: str,
    path: str,
    body: Any,
) -> None:
    before = await list_users(admin)
    caller = await api_as(service, who, VIEWER_PASSWORD)
    assert await caller(method, path, json=body) == expected
    await assert_intact(service, admin, before)


async def test_last_admin_stays(service: Service, admin: Api) -> None:
    before = await list_users(admin)
    assert await admin("DELETE", "/api/users/admin") == (409, LAST_ADMIN)
    assert await admin("DELETE", "/api/users/ADMIN") == (409, LAST_ADMIN)
    assert await admin("PUT", "/api/users/admin/role", json={"role": "viewer"}) == (
        409,
        LAST_ADMIN,
    )
    await assert_intact(service, admin, before)
    assert await admin("GET", "/api/profile") == (
        200,
        {"username": "admin", "role": "admin", "auth_method": "session"},
    )
    # With a second admin, the first may step down.
    assert await admin("PUT", "/api/users/viewer/role", json={"role": "admin"}) == (200, SUCCESS)
    assert await admin("PUT", "/api/users/admin/role", json={"role": "viewer"}) == (200, SUCCESS)
    # ...and now the other one is the last.
    viewer = await api_as(service, "viewer", VIEWER_PASSWORD)
    assert await viewer("DELETE", "/api/users/viewer") == (409, LAST_ADMIN)


def too_long(field: str, limit: int) -> dict[str, str]:
    return {
        "error": f"Invalid field '{field}': length of value must be at most {limit}",
        "code": "invalid_field",
    }


def json_body(**fields: Any) -> dict[str, Any]:
    return {"json": {"username": "newbie", "password": STRONG, **fields}}


def raw(data: str | bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"data": data, "headers": {"Content-Type": content_type}}


P73 = "correct horse battery staple " * 2 + "violet ember 12"  # 73 bytes
assert len(P73.encode()) == 73

BAD_CREATE = {
    "malformed-json": (raw('{"username": "newbie", '), 400, NOT_JSON),
    "not-utf8": (raw(b'{"username": "\xff"}'), 400, NOT_JSON),
    "empty-body": (raw(""), 400, NOT_JSON),
    "array": (raw('[{"username": "newbie"}]'), 400, NOT_OBJECT),
    "string": (raw('"newbie"'), 400, NOT_OBJECT),
    "number": (raw("5"), 400, NOT_OBJECT),
    "null": (raw("null"), 400, NOT_OBJECT),
    "username-number": (
        json_body(username=5),
        400,
        {"error": "Invalid field 'username': expected str", "code": "invalid_field"},
    ),
    "role-true": (json_body(role=True), 400, BAD_ROLE),
    "password-null": (
        json_body(password=None),
        400,
        {"error": "Invalid field 'password': expected str", "code": "invalid_field"},
    ),
    "password-list": (
        json_body(password=[STRONG]),
        400,
        {"error": "Invalid field 'password': expected str", "code": "invalid_field"},
    ),
    "missing-password": (
        {"json": {"username": "newbie"}},
        400,
        {"error": "Missing field 'password'", "code": "missing_field"},
    ),
    "missing-username": (
        {"json": {"password": STRONG}},
        400,
        {"error": "Missing field 'username'", "code": "missing_field"},
    ),
    "unknown-field": (
        json_body(is_admin=True),
        400,
        {"error": "Unknown field 'is_admin'", "code": "unknown_field"},
    ),
    "unknown-role": (json_body(role="superuser"), 400, BAD_ROLE),
    "role-case": (json_body(role="Admin"), 400, BAD_ROLE),
    "username-space": (json_body(username="new bie"), 400, BAD_USERNAME),
    "username-leading-space": (json_body(username=" newbie"), 400, BAD_USERNAME),
    "username-unicode": (json_body(username="j\u00fcrgen"), 400, BAD_USERNAME),
    "username-fullwidth": (json_body(username="\uff41\uff44\uff4d\uff49\uff4e"), 400, BAD_USERNAME),
    "username-control": (json_body(username="new\x01bie"), 400, BAD_USERNAME),
    "username-newline": (json_body(username="newbie\n"), 400, BAD_USERNAME),
    "username-nul": (json_body(username="new\x00bie"), 400, BAD_USERNAME),
    "username-65": (json_body(username="n" * 65), 400, too_long("username", 64)),
    "username-empty": (
        json_body(username=""),
        400,
        {
            "error": "Invalid field 'username': length of value must be at least 1",
            "code": "invalid_field",
        },
    ),
    "username-dotdot": (json_body(username="../x"), 400, BAD_USERNAME),
    "username-slash": (json_body(username="a/b"), 400, BAD_USERNAME),
    "password-11": (json_body(password="tangerine c"), 400, TOO_SHORT),
    "password-empty": (
        json_body(password=""),
        400,
        {
            "error": "Invalid field 'password': length of value must be at least 1",
            "code": "invalid_field",
        },
    ),
    "password1234": (json_body(password="password1234"), 400, TOO_COMMON),
    "qwertyuiop123": (json_body(password="qwertyuiop123"), 400, TOO_COMMON),
    "repeated-chars": (json_body(password="abababababababab"), 400, TOO_COMMON),
    "password-has-username": (json_body(password="my Newbie password 42"), 400, HAS_USERNAME),
    "password-control": (json_body(password="tangerine\x07comet bridge"), 400, HAS_CONTROL),
    "password-newline": (json_body(password="tangerine comet\nbridge"), 400, HAS_CONTROL),
    "password-nul": (json_body(password="tangerine comet\x00bridge"), 400, HAS_CONTROL),
    "password-2000": (
        json_body(password="tangerine comet bridge " * 87),
        400,
        {"error": "Password must be at most 1024 characters long", "code": "password_too_long"},
    ),
    "password-5000": (json_body(password="q" * 5000), 400, too_long("password", 4096)),
    "body-over-16k": (
        json_body(password="q" * 17 * 1024),
        413,
        {"error": "Content Too Large", "code": "body_too_large"},
    ),
    "text-plain": (raw('{"username": "newbie"}', "text/plain"), 415, NOT_JSON_TYPE),
    "form": ({"data": {"username": "newbie", "password": STRONG}}, 415, NOT_JSON_TYPE),
    "no-content-type": ({"data": b'{"username": "newbie"}'}, 415, NOT_JSON_TYPE),
}


@pytest.mark.parametrize("case", BAD_CREATE)
async def test_bad_create_input(service: Service, admin: Api, case: str) -> None:
    kwargs, status, error = BAD_CREATE[case]
    before = await list_users(admin)
    assert await admin("POST", "/api/users", **kwargs) == (status, error)
    await assert_intact(service, admin, before)


BAD_PASSWORD_CHANGE = {
    "malformed-json": (raw("{"), 400, NOT_JSON),
    "array": (raw("[]"), 400, NOT_OBJECT),
    "password-number": (
        {"json": {"password": 123456789012}},
        400,
        {"error": "Invalid field 'password': expected str", "code": "invalid_field"},
    ),
    "missing-password": (
        {"json": {}},
        400,
        {"error": "Missing field 'password'", "code": "missing_field"},
    ),
    "too-short": ({"json": {"password": "short one"}}, 400, TOO_SHORT),
    "common": ({"json": {"password": "password1234"}}, 400, TOO_COMMON),
    "has-username": ({"json": {"password": "the viewer password 7"}}, 400, HAS_USERNAME),
    "control": ({"json": {"password": "tangerine\tcomet bridge"}}, 400, HAS_CONTROL),
    "text-plain": (raw('{"password": "x"}', "text/plain"), 415, NOT_JSON_TYPE),
}


@pytest.mark.parametrize("case", BAD_PASSWORD_CHANGE)
async def test_bad_password_change(service: Service, admin: Api, case: str) -> None:
    kwargs, status, error = BAD_PASSWORD_CHANGE[case]
    viewer = await api_as(service, "viewer", VIEWER_PASSWORD)
    before = await list_users(admin)
    assert await admin("PUT", "/api/users/viewer/password", **kwargs) == (status, error)
    await assert_intact(service, admin, before)
    # The viewer's session did not end either.
    status, _ = await viewer("GET", "/api/profile")
    assert status == 200


BAD_ROLE_CHANGE = {
    "malformed-json": (raw('{"role": '), 400, NOT_JSON),
    "string": (raw('"admin"'), 400, NOT_OBJECT),
    "role-true": ({"json": {"role": True}}, 400, BAD_ROLE),
    "role-null": ({"json": {"role": None}}, 400, BAD_ROLE),
    "unknown-role": ({"json": {"role": "owner"}}, 400, BAD_ROLE),
    "missing-role": ({"json": {}}, 400, {"error": "Missing field 'role'", "code": "missing_field"}),
    "form": ({"data": {"role": "admin"}}, 415, NOT_JSON_TYPE),
}


@pytest.mark.parametrize("case", BAD_ROLE_CHANGE)
async def test_bad_role_change(service: Service, admin: Api, case: str) -> None:
    kwargs, status, error = BAD_ROLE_CHANGE[case]
    before = await list_users(admin)
    assert await admin("PUT", "/api/users/viewer/role", **kwargs) == (status, error)
    await assert_intact(service, admin, before)


async def test_passwords_past_72_bytes_are_distinct(service: Service, admin: Api) -> None:
    longer = P73 + "x"
    status, _ = await admin("POST", "/api/users", json={"username": "long1", "password": P73})
    assert status == 201
    status, _ = await admin("POST", "/api/users", json={"username": "long2", "password": longer})
    assert status == 201
    assert await login_status(service, "long1", P73) == 200
    assert await login_status(service, "long2", longer) == 200
    assert await login_status(service, "long1", longer) == 401
    assert await login_status(service, "long2", P73) == 401


def fullwidth(text: str) -> str:
    """The full-width form of ASCII text (what some keyboards type), spaces as U+3000."""
    return "".join("\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) for ch in text)


async def test_unicode_passwords_are_nfkc_normalised(service: Service, admin: Api) -> None:
    wide = fullwidth(STRONG)
    assert wide != STRONG
    status, _ = await admin("POST", "/api/users", json={"username": "wide", "password": wide})
    assert status == 201
    assert await login_status(service, "wide", STRONG) == 200
    assert await login_status(service, "wide", wide) == 200
    assert await login_status(service, "wide", OTHER_STRONG) == 401


async def test_common_password_in_full_width_is_refused(admin: Api) -> None:
    body = {"username": "newbie", "password": fullwidth("password1234")}
    assert await admin("POST", "/api/users", json=body) == (400, TOO_COMMON)
