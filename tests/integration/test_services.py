"""The actions, their response data and their errors, against a real CamAuth."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.auth.models import User
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camauth.const import DOMAIN

from .conftest import (
    VIEWER_PASSWORD,
    CamAuth,
    CamAuthFactory,
    entry_for,
    stop_camauth,
    until,
)


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = True, **kw: Any
) -> Any:
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response, **kw
    )


async def _lockouts(camauth: CamAuth) -> list[tuple[str, str]]:
    status, body = await camauth.call("GET", "/api/lockouts")
    assert status == 200
    return sorted((lockout["kind"], lockout["key"]) for lockout in body)


async def test_reset_password_returns_a_generated_password_that_logs_in(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    response = await _call(hass, "reset_password", {"username": "viewer"})
    assert set(response) == {"username", "password"}
    assert response["username"] == "viewer"
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 401
    assert await camauth.login("viewer", response["password"]) == 200


async def test_reset_password_to_a_given_one(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    new = "lavender tugboat orbit 42"
    data = {"config_entry_id": init_integration.entry_id, "username": "viewer", "password": new}
    assert await _call(hass, "reset_password", data) == {"username": "viewer"}
    assert await camauth.login("viewer", new) == 200
    newer = "marble canyon whistle 9"
    assert await _call(hass, "reset_password", data | {"password": newer}, response=False) is None
    assert await camauth.login("viewer", newer) == 200


@pytest.mark.parametrize(
    ("data", "response", "key"),
    [
        ({"username": "viewer"}, False, "password_or_response_required"),
        ({"username": "nobody"}, True, "user_not_found"),
        ({"username": "viewer", "password": "short"}, True, "password_too_short"),
        ({"username": "viewer", "password": "password1234"}, True, "password_too_common"),
        (
            {"username": "viewer", "password": "viewer harbor 99"},
            True,
            "password_contains_username",
        ),
        ({"username": "viewer", "password": "x" * 5000}, True, "request_refused"),
    ],
)
async def test_reset_password_refusals(
    hass: HomeAssistant,
    camauth: CamAuth,
    init_integration: MockConfigEntry,
    data: dict[str, Any],
    response: bool,
    key: str,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "reset_password", data, response=response)
    assert err.value.translation_key == key
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200


async def test_unlock_a_user_an_address_and_everything(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    for _ in range(3):
        assert await camauth.login("viewer", "wrong password") == 401
    assert await _lockouts(camauth) == [("client", "127.0.0.1"), ("username", "viewer")]

    assert await _call(hass, "unlock", {"username": " Viewer "}) == {"lifted": 1}
    assert await _lockouts(camauth) == [("client", "127.0.0.1")]
    assert await _call(hass, "unlock", {"address": "2001:db8::1"}) == {"lifted": 0}
    assert await _call(hass, "unlock", {"address": "127.0.0.1"}) == {"lifted": 1}
    assert await _lockouts(camauth) == []
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200

    for _ in range(3):
        assert await camauth.login("admin", "wrong password") == 401
    assert await _call(hass, "unlock", {"all": True}, response=False) is None
    assert await _lockouts(camauth) == []
    assert await _call(hass, "unlock", {"all": True}) == {"lifted": 0}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "unlock_target"),
        ({"all": False}, "unlock_target"),
        ({"username": "viewer", "address": "127.0.0.1"}, "unlock_target"),
        ({"username": "viewer", "all": True}, "unlock_target"),
        ({"address": "not an address"}, "invalid_address"),
    ],
)
async def test_unlock_needs_one_valid_target(
    hass: HomeAssistant, init_integration: MockConfigEntry, data: dict[str, Any], key: str
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "unlock", data)
    assert err.value.translation_key == key


async def test_revoke_sessions(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    assert await _call(hass, "revoke_sessions", {"username": "viewer"}) == {"revoked": 2}
    assert await _call(hass, "revoke_sessions", {"username": "viewer"}, response=False) is None
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "revoke_sessions", {"username": "nobody"})
    assert err.value.translation_key == "user_not_found"
    assert err.value.translation_placeholders == {"username": "nobody"}


async def test_actions_are_for_home_assistant_admins_only(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_read_only_user: User
) -> None:
    with pytest.raises(Unauthorized):
        await _call(
            hass,
            "revoke_sessions",
            {"username": "viewer"},
            context=Context(user_id=hass_read_only_user.id),
        )


async def test_which_camauth(
    hass: HomeAssistant, start_camauth: CamAuthFactory, setup_entry: Any
) -> None:
    # The actions exist as soon as the integration loads, with no CamAuth set up yet.
    assert await async_setup_component(hass, DOMAIN, {})
    data = {"username": "viewer"}
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "revoke_sessions", data)
    assert err.value.translation_key == "config_entry_required"

    first, second = await start_camauth(), await start_camauth()
    entries = [entry_for(first, await first.instance_id())]
    entries.append(entry_for(second, await second.instance_id()))
    for entry in entries:
        await setup_entry(entry)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "revoke_sessions", data)
    assert err.value.translation_key == "config_entry_required"
    for entry in entries:
        assert await _call(hass, "revoke_sessions", data | {"config_entry_id": entry.entry_id})

    other = MockConfigEntry(domain="sun")
    other.add_to_hass(hass)
    for entry_id in ("no-such-entry", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, "revoke_sessions", data | {"config_entry_id": entry_id})
        assert err.value.translation_key == "config_entry_not_found"

    await hass.config_entries.async_unload(entries[1].entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "revoke_sessions", data | {"config_entry_id": entries[1].entry_id})
    assert err.value.translation_key == "config_entry_not_loaded"
    # With one loaded, it is the one.
    assert await _call(hass, "revoke_sessions", data) == {"revoked": 0}


async def test_camauth_unreachable(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    await stop_camauth(camauth)
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "unlock", {"all": True})
    assert err.value.translation_key == "cannot_connect"


async def test_revoked_key_asks_for_a_new_one(
    hass: HomeAssistant, camauth: CamAuth, start_camauth: CamAuthFactory, setup_entry: Any
) -> None:
    # Revoked without the stream noticing: the action is the first to find out.
    key = await camauth.new_key("second")
    entry = entry_for(camauth, await camauth.instance_id(), api_key=key)
    await setup_entry(entry, stream=False)
    await camauth.revoke_key("second")
    with pytest.raises(HomeAssistantError) as err:
        await _call(hass, "revoke_sessions", {"username": "viewer"})
    assert err.value.translation_key == "invalid_auth"
    await until(hass, lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)))
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    assert entry.state is ConfigEntryState.LOADED
