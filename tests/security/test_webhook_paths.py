"""Webhook keys are judged on the canonical proxied path; every header naming it must agree."""

from __future__ import annotations

import pytest

from tests.service.conftest import Service


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Original-URI": "/triggers/cam1"}, 200),
        ({"X-Forwarded-Uri": "/triggers/cam1?x=1"}, 200),
        ({"X-Original-URL": "https://nvr.example/triggers"}, 200),
        ({"X-Original-URI": "/triggers/a", "X-Forwarded-Uri": "/triggers/a"}, 200),
        # CVE-2026-40575's shape: the client's own header next to the one nginx sets.
        ({"X-Original-URI": "/config", "X-Forwarded-Uri": "/triggers/a"}, 403),
        ({"X-Original-URI": "/triggers/a", "X-Forwarded-Uri": "/config"}, 403),
        ({"X-Original-URI": "/triggers/%2e%2e/config"}, 403),
        ({"X-Original-URI": "/triggersX"}, 403),
        ({}, 403),
    ],
)
async def test_webhook_key_needs_one_agreed_canonical_path(
    proxied: Service, headers: dict[str, str], status: int
) -> None:
    service = proxied
    created = await service.services.keys.create("mediamtx", "viewer", ("/triggers/",))
    response = await service.request(
        "GET", "/api/auth", headers={"X-API-Key": created.secret, **headers}
    )
    assert response.status == status
    if status == 200:
        assert response.headers["Remote-User"] == "mediamtx"
