"""Repair issues from CamAuth's statistics and warnings, and the fix for the admin password."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camauth.const import DOMAIN

from .conftest import (
    CamAuth,
    CamAuthFactory,
    coordinator_of,
    entry_for,
    settle,
    stop_camauth,
    until,
)


def _issues(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, ir.IssueEntry]:
    prefix = f"{entry.entry_id}_"
    return {
        issue_id.removeprefix(prefix): issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


async def _generate_admin_password(camauth: CamAuth) -> None:
    status, body = await camauth.call("POST", "/api/users/admin/reset_password", json={})
    assert status == 200, body


async def _start_fix(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    assert await async_setup_component(hass, "repairs", {})
    issue_id = f"{entry.entry_id}_admin_password_generated"
    result = await repairs_flow_manager(hass).async_init(DOMAIN, data={"issue_id": issue_id})
    return dict(result)


async def _fix(hass: HomeAssistant, flow_id: str, password: str) -> dict[str, Any]:
    return dict(await repairs_flow_manager(hass).async_configure(flow_id, {"password": password}))


async def test_generated_admin_password_is_an_issue_fixed_from_home_assistant(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    assert _issues(hass, init_integration) == {}
    await _generate_admin_password(camauth)
    await until(hass, lambda: "admin_password_generated" in _issues(hass, init_integration))
    issue = _issues(hass, init_integration)["admin_password_generated"]
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"title": "CamAuth", "url": camauth.url}

    result = await _start_fix(hass, init_integration)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == {"error": "", "url": camauth.url}
    result = await _fix(hass, result["flow_id"], "password1234")
    assert result["errors"] == {"password": "password_too_common"}
    assert result["description_placeholders"]["error"]
    result = await _fix(hass, result["flow_id"], "tangerine glacier anthem 5")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _issues(hass, init_integration) == {}
    assert await camauth.login("admin", "tangerine glacier anthem 5") == 200


async def test_fix_flow_errors(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    await _generate_admin_password(camauth)
    await until(hass, lambda: "admin_password_generated" in _issues(hass, init_integration))
    result = await _start_fix(hass, init_integration)
    name = (await camauth.key_names())[0]
    await camauth.revoke_key(name)
    result = await _fix(hass, result["flow_id"], "tangerine glacier anthem 5")
    assert result["errors"] == {"base": "invalid_auth"}
    await stop_camauth(camauth)
    result = await _fix(hass, result["flow_id"], "tangerine glacier anthem 5")
    assert result["errors"] == {"base": "cannot_connect"}
    assert await hass.config_entries.async_unload(init_integration.entry_id)


async def test_fix_flow_needs_the_entry_loaded(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    await _generate_admin_password(camauth)
    await until(hass, lambda: "admin_password_generated" in _issues(hass, init_integration))
    result = await _start_fix(hass, init_integration)
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    # Unloading removes the entry's issues; a flow already open can no longer fix anything.
    assert _issues(hass, init_integration) == {}
    result = await _fix(hass, result["flow_id"], "tangerine glacier anthem 5")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_authentication_disabled_is_an_issue(
    hass: HomeAssistant, start_camauth: CamAuthFactory, setup_entry: Any
) -> None:
    camauth = await start_camauth(enabled=False)
    entry = entry_for(camauth, await camauth.instance_id())
    await setup_entry(entry)
    assert hass.states.get("binary_sensor.camauth_authentication_enabled").state == "off"
    issue = _issues(hass, entry)["auth_disabled"]
    assert not issue.is_fixable
    assert issue.translation_key == "auth_disabled"


async def test_configuration_warnings_are_issues(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    # A proxy that CamAuth does not trust: every client would share its address.
    async with camauth.http.post(
        camauth.url + "/api/login",
        json={"username": "viewer", "password": "wrong"},
        headers={"X-Forwarded-For": "198.51.100.7"},
    ) as response:
        assert response.status == 401
    await settle(hass, lambda: "warning_forwarded_for_untrusted" in _issues(hass, init_integration))
    issue = _issues(hass, init_integration)["warning_forwarded_for_untrusted"]
    assert issue.translation_key == "forwarded_for_untrusted"
    assert issue.translation_placeholders["message"]


async def test_unknown_warnings_become_generic_issues(
    hass: HomeAssistant, camauth: CamAuth, start_web: Any, setup_entry: Any
) -> None:
    # A newer CamAuth may report warnings this integration has no text for: a small proxy in
    # front of the real one adds such a warning, then takes it back.
    warnings = [{"id": "future_check", "message": "Something new is off."}]

    async def forward(request: web.Request) -> web.Response:
        status, body = await camauth.call("GET", request.path)
        if request.path == "/camauth/api/warnings":
            body = {"warnings": warnings}
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/camauth/api/{path:.*}", forward)
    proxy = await start_web(app)
    entry = entry_for(camauth, await camauth.instance_id(), **{CONF_URL: proxy})
    await setup_entry(entry, stream=False)
    issue = _issues(hass, entry)["warning_future_check"]
    assert issue.translation_key == "camauth_warning"
    assert issue.translation_placeholders == {
        "title": "CamAuth",
        "url": proxy,
        "message": "Something new is off.",
    }
    warnings.clear()
    await coordinator_of(entry).async_refresh()
    assert _issues(hass, entry) == {}
