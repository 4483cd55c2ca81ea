"""Every step of the config flow, and every error, against a real CamAuth."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from custom_components.camauth.const import DOMAIN

from .conftest import CamAuth, CamAuthFactory, coordinator_of, entry_for, free_port, until


def _user_input(url: str, key: str, **extra: Any) -> dict[str, Any]:
    return {CONF_URL: url, CONF_API_KEY: key, CONF_VERIFY_SSL: True} | extra


async def _user_flow(hass: HomeAssistant, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


def _discovery(camauth: CamAuth, instance_id: str, **changes: Any) -> HassioServiceInfo:
    port = camauth.server.port
    config = {"host": "127.0.0.1", "port": port, "api_key": camauth.api_key}
    return HassioServiceInfo(
        config=config | {"instance_id": instance_id} | changes,
        name="CamAuth",
        slug="camauth",
        uuid="5f3c6a4e6f0c4b0e8b8c1d2e3f405162",
    )


async def test_user_flow_creates_the_entry(hass: HomeAssistant, camauth: CamAuth) -> None:
    result = await _user_flow(hass, _user_input(camauth.url + "/", camauth.api_key))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CamAuth"
    assert result["data"] == _user_input(camauth.url, camauth.api_key)
    assert result["result"].unique_id == await camauth.instance_id()
    await until(hass, lambda: coordinator_of(result["result"]).connected)
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_user_flow_errors_then_recovers(
    hass: HomeAssistant, camauth: CamAuth, start_web: Any
) -> None:
    async def frigate_like(request: web.Request) -> web.Response:
        return web.json_response({"username": "anonymous", "role": "admin"})

    not_camauth = web.Application()
    not_camauth.router.add_get("/camauth/api/profile", frigate_like)
    other = await start_web(not_camauth)
    viewer_key = await camauth.new_key("viewer-key", "viewer")

    closed = f"http://127.0.0.1:{free_port()}"
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    flow_id = result["flow_id"]
    cases = [
        (_user_input("ftp://127.0.0.1", camauth.api_key), {CONF_URL: "invalid_url"}),
        (_user_input("http://", camauth.api_key), {CONF_URL: "invalid_url"}),
        (_user_input("http://[::1", camauth.api_key), {CONF_URL: "invalid_url"}),
        (_user_input(closed, camauth.api_key), {"base": "cannot_connect"}),
        (_user_input(camauth.url, "not-a-key"), {"base": "invalid_auth"}),
        (_user_input(camauth.url, viewer_key), {"base": "not_admin"}),
        (_user_input(other, camauth.api_key), {"base": "not_camauth"}),
    ]
    for user_input, errors in cases:
        result = await hass.config_entries.flow.async_configure(flow_id, user_input)
        assert result["type"] is FlowResultType.FORM, user_input
        assert result["errors"] == errors, user_input
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(camauth.url, camauth.api_key)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(result["result"].entry_id)


@pytest.mark.parametrize(
    ("routes", "what"),
    [
        ({"/camauth/api/health": (200, "<html>hello</html>")}, "HTML health"),
        ({"/camauth/api/health": (200, {"status": "healthy"})}, "other health"),
        ({"/camauth/api/health": (200, {"status": "ok"})}, "no profile (404)"),
        (
            {
                "/camauth/api/health": (200, {"status": "ok"}),
                "/camauth/api/profile": (
                    200,
                    {"username": "x", "role": "admin", "auth_method": "k"},
                ),
                "/camauth/api/stats": (200, {"cpu": 3}),
            },
            "other stats",
        ),
        (
            {
                "/camauth/api/health": (200, {"status": "ok"}),
                "/camauth/api/profile": (
                    200,
                    {"username": "x", "role": "admin", "auth_method": "k"},
                ),
                "/camauth/api/stats": (200, [1, 2]),
            },
            "a list",
        ),
        ({"/camauth/api/health": (401, {"error": "who are you"})}, "auth everywhere"),
    ],
)
async def test_user_flow_not_camauth(
    hass: HomeAssistant, start_web: Any, routes: dict[str, tuple[int, Any]], what: str
) -> None:
    app = web.Application()
    for path, (status, body) in routes.items():

        async def answer(request: web.Request, status: int = status, body: Any = body) -> Any:
            if isinstance(body, str):
                return web.Response(status=status, text=body, content_type="text/html")
            return web.json_response(body, status=status)

        app.router.add_get(path, answer)
    url = await start_web(app)
    result = await _user_flow(hass, _user_input(url, "a-key"))
    assert result["errors"] == {"base": "not_camauth"}, what


async def test_user_flow_server_error_is_cannot_connect(
    hass: HomeAssistant, start_web: Any
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=502, text="Bad gateway")

    app = web.Application()
    app.router.add_get("/camauth/api/health", broken)
    result = await _user_flow(hass, _user_input(await start_web(app), "a-key"))
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_flow_aborts_when_already_configured(
    hass: HomeAssistant, camauth: CamAuth
) -> None:
    entry_for(camauth, await camauth.instance_id()).add_to_hass(hass)
    result = await _user_flow(hass, _user_input(camauth.url, camauth.api_key))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_hassio_discovery_confirm_creates_the_entry(
    hass: HomeAssistant, camauth: CamAuth
) -> None:
    instance_id = await camauth.instance_id()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(camauth, instance_id)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"name": "CamAuth"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == _user_input(camauth.url, camauth.api_key)
    assert result["result"].unique_id == instance_id
    await until(hass, lambda: coordinator_of(result["result"]).connected)
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_hassio_confirm_shows_errors(hass: HomeAssistant, camauth: CamAuth) -> None:
    discovery = _discovery(camauth, await camauth.instance_id(), api_key="revoked")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=discovery
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


@pytest.mark.parametrize(
    "config",
    [
        {"host": "127.0.0.1", "port": 8971, "api_key": "k"},
        {"host": "127.0.0.1", "port": "eighty", "api_key": "k", "instance_id": "i"},
    ],
)
async def test_hassio_discovery_without_the_needed_fields_aborts(
    hass: HomeAssistant, config: dict[str, Any]
) -> None:
    info = HassioServiceInfo(config=config, name="CamAuth", slug="camauth", uuid="u")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_hassio_discovery_updates_a_known_entry(
    hass: HomeAssistant, start_camauth: CamAuthFactory, tmp_path: Any, setup_entry: Any
) -> None:
    # The add-on restarts on another port with another key: the entry follows it.
    first = await start_camauth(data_dir=tmp_path / "data")
    instance_id = await first.instance_id()
    entry = entry_for(first, instance_id)
    await setup_entry(entry)
    second = await start_camauth(data_dir=tmp_path / "data")
    assert await second.instance_id() == instance_id
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(second, instance_id)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    await hass.async_block_till_done()
    assert entry.data == _user_input(second.url, second.api_key)
    assert entry.state is ConfigEntryState.LOADED
    await until(hass, lambda: coordinator_of(entry).connected)
    assert coordinator_of(entry).client.url == second.url


async def test_reauth_with_a_new_key(
    hass: HomeAssistant, camauth: CamAuth, setup_entry: Any
) -> None:
    entry = entry_for(camauth, await camauth.instance_id(), api_key="old-revoked-key")
    await setup_entry(entry, stream=False)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"]["url"] == camauth.url
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_API_KEY: camauth.api_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_API_KEY] == camauth.api_key
    assert entry.state is ConfigEntryState.LOADED
    await until(hass, lambda: coordinator_of(entry).connected)


async def test_reauth_refuses_another_camauth(
    hass: HomeAssistant, camauth: CamAuth, start_camauth: CamAuthFactory, setup_entry: Any
) -> None:
    entry = entry_for(camauth, await camauth.instance_id())
    await setup_entry(entry)
    other = await start_camauth()
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    hass.config_entries.async_update_entry(entry, data=entry.data | {CONF_URL: other.url})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: other.api_key}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_instance"


async def test_reconfigure(
    hass: HomeAssistant, start_camauth: CamAuthFactory, tmp_path: Any, setup_entry: Any
) -> None:
    first = await start_camauth(data_dir=tmp_path / "data")
    entry = entry_for(first, await first.instance_id())
    await setup_entry(entry)
    other = await start_camauth()
    moved = await start_camauth(data_dir=tmp_path / "data")

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(f"http://127.0.0.1:{free_port()}", moved.api_key)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input("camauth.local", moved.api_key)
    )
    assert result["errors"] == {CONF_URL: "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _user_input(other.url, other.api_key)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_instance"

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _user_input(moved.url, moved.api_key, verify_ssl=False)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data == _user_input(moved.url, moved.api_key, verify_ssl=False)
    await until(hass, lambda: coordinator_of(entry).connected)


async def test_hassio_discovery_of_an_https_gateway(hass: HomeAssistant, camauth: CamAuth) -> None:
    # With `ssl` on, the add-on's certificate names its public host, not the internal one.
    instance_id = await camauth.instance_id()
    entry = entry_for(camauth, instance_id)
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_HASSIO}, data=_discovery(camauth, instance_id, ssl=True)
    )
    assert result["type"] is FlowResultType.ABORT
    assert entry.data[CONF_URL] == f"https://127.0.0.1:{camauth.server.port}"
    assert entry.data[CONF_VERIFY_SSL] is False
