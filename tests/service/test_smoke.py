"""A first pass through the main flow."""

from __future__ import annotations

from .conftest import ADMIN_PASSWORD, Service


async def test_login_forward_auth_logout(service: Service) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    response = await service.request("GET", "/api/auth")
    assert response.status == 200
    assert response.headers["Remote-User"] == "admin"
    response = await service.request("POST", "/api/logout")
    assert response.status == 200
    response = await service.request(
        "GET", "/api/auth", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
