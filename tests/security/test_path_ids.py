"""Ids in paths: anything that is not a small ASCII number is a 404, never a 500."""

from __future__ import annotations

import pytest

from tests.service.conftest import ADMIN_PASSWORD, Service


@pytest.mark.parametrize("route", ["/api/keys", "/api/lockouts"])
@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A3", "9" * 4400, "-1", "1.0"])
async def test_odd_ids_are_not_found(service: Service, route: str, raw: str) -> None:
    token = await service.login("admin", ADMIN_PASSWORD)
    response = await service.request(
        "DELETE", f"{route}/{raw}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 404
    assert "error" in await response.json()
