"""Admin actions for machines: reset a password, revoke a user's sessions."""

from __future__ import annotations

from aiohttp import ClientSession

from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service

from .helpers import admin_key, call


async def viewer_session(service: Service) -> tuple[ClientSession, str]:
    """A separate client logged in as the viewer: its cookie jar and its bearer token."""
    client = await service.fresh_client()
    body = await call(
        service,
        "POST",
        "/api/login",
        200,
        session=client,
        json={"username": "viewer", "password": VIEWER_PASSWORD},
    )
    return client, str(body["token"])


async def login_status(service: Service, username: str, password: str) -> int:
    async with (
        ClientSession() as session,
        session.post(
            service.url("/api/login"), json={"username": username, "password": password}
        ) as response,
    ):
        return response.status


async def test_reset_without_a_password_returns_a_generated_one_and_ends_sessions(
    service: Service,
) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    cookie_client, token = await viewer_session(service)
    bearer = {"Authorization": f"Bearer {token}"}
    await call(service, "GET", "/api/profile", 200, headers=bearer)
    await call(service, "GET", "/api/profile", 200, session=cookie_client)

    answer = await call(
        service, "POST", "/api/users/viewer/reset_password", 200, json={}, headers=admin
    )
    password = answer["password"]
    assert isinstance(password, str)
    assert len(password) >= 16
    assert answer["username"] == "viewer"
    assert answer["success"] is True

    await call(service, "GET", "/api/profile", 401, headers=bearer)
    await call(service, "GET", "/api/profile", 401, session=cookie_client)
    async with cookie_client.get(service.url("/api/auth")) as response:
        assert response.status == 401
    assert await login_status(service, "viewer", password) == 200
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 401

    again = await call(
        service, "POST", "/api/users/viewer/reset_password", 200, json={}, headers=admin
    )
    assert again["password"] != password  # generated afresh each time


async def test_reset_with_a_password_applies_the_policy_and_returns_none(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    _, token = await viewer_session(service)
    for weak in ("short", "password", "password123", "aaaaaaaaaaaaaaaa", "viewer harbor 99"):
        answer = await call(
            service,
            "POST",
            "/api/users/viewer/reset_password",
            400,
            json={"password": weak},
            headers=admin,
        )
        assert answer["error"]
    # Refused resets changed nothing: the old password and the session still work.
    await call(service, "GET", "/api/profile", 200, headers={"Authorization": f"Bearer {token}"})
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 200

    chosen = "saffron glacier motor 9"
    answer = await call(
        service,
        "POST",
        "/api/users/viewer/reset_password",
        200,
        json={"password": chosen},
        headers=admin,
    )
    assert "password" not in answer
    assert chosen not in str(answer)
    await call(service, "GET", "/api/profile", 401, headers={"Authorization": f"Bearer {token}"})
    assert await login_status(service, "viewer", chosen) == 200
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 401


async def test_bad_reset_bodies_are_400(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    for body in ({"password": ""}, {"password": 5}, {"password": None}, {"pw": "x"}, []):
        await call(
            service, "POST", "/api/users/viewer/reset_password", 400, json=body, headers=admin
        )
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 200


async def test_revoke_sessions_ends_every_session_at_once_and_counts_them(
    service: Service,
) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    first, first_token = await viewer_session(service)
    second, second_token = await viewer_session(service)
    _, third_token = await viewer_session(service)
    admin_client = await service.fresh_client()
    await call(
        service,
        "POST",
        "/api/login",
        200,
        session=admin_client,
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )

    answer = await call(service, "POST", "/api/users/viewer/revoke_sessions", 200, headers=admin)
    assert answer == {"success": True, "revoked": 3}
    for token in (first_token, second_token, third_token):
        await call(
            service, "GET", "/api/profile", 401, headers={"Authorization": f"Bearer {token}"}
        )
    for client in (first, second):
        await call(service, "GET", "/api/profile", 401, session=client)
        async with client.get(service.url("/api/auth")) as response:
            assert response.status == 401
    # Another user's session is untouched; the user may log in again.
    await call(service, "GET", "/api/profile", 200, session=admin_client)
    assert await login_status(service, "viewer", VIEWER_PASSWORD) == 200

    again = await call(service, "POST", "/api/users/viewer/revoke_sessions", 200, headers=admin)
    assert again == {"success": True, "revoked": 1}  # the login just above
    none_left = await call(service, "POST", "/api/users/viewer/revoke_sessions", 200, headers=admin)
    assert none_left == {"success": True, "revoked": 0}


async def test_unknown_users_are_404_and_viewers_403(service: Service) -> None:
    admin = {"X-API-Key": await admin_key(service)}
    for path in ("/api/users/nobody/reset_password", "/api/users/nobody/revoke_sessions"):
        answer = await call(service, "POST", path, 404, json={}, headers=admin)
        assert answer["error"]
    strong = {"password": "saffron glacier motor 9"}
    await call(service, "POST", "/api/users/nobody/reset_password", 404, json=strong, headers=admin)

    _, token = await viewer_session(service)
    viewer = {"Authorization": f"Bearer {token}"}
    for path in ("/api/users/admin/reset_password", "/api/users/admin/revoke_sessions"):
        await call(service, "POST", path, 403, json={}, headers=viewer)
    await call(service, "POST", "/api/users/viewer/revoke_sessions", 403, json={}, headers=viewer)
    async with ClientSession() as anonymous:
        for path in ("/api/users/admin/reset_password", "/api/users/admin/revoke_sessions"):
            await call(service, "POST", path, 401, session=anonymous, json={})
    # None of the refused calls did anything.
    await call(service, "GET", "/api/profile", 200, headers=viewer)
    assert await login_status(service, "admin", ADMIN_PASSWORD) == 200
