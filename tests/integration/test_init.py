"""Set-up, unload and reload, the event stream's life, and availability, with a real CamAuth."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_URL, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.camauth.const import DOMAIN

from .conftest import (
    CamAuth,
    CamAuthFactory,
    coordinator_of,
    entry_for,
    free_port,
    stop_camauth,
    until,
)

SENSOR = "sensor.camauth_failed_logins_last_hour"


def _state(hass: HomeAssistant, entity_id: str = SENSOR) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state else None


async def test_setup_unload_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    assert _state(hass) == "0"
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await until(hass, lambda: coordinator_of(entry).connected)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert _state(hass) == STATE_UNAVAILABLE


async def test_setup_retries_while_camauth_is_unreachable(
    hass: HomeAssistant, camauth: CamAuth, setup_entry: Any
) -> None:
    entry = entry_for(camauth, await camauth.instance_id())
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data=entry.data | {CONF_URL: f"http://127.0.0.1:{free_port()}"}
    )
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_refuses_another_camauth_at_the_address(
    hass: HomeAssistant, camauth: CamAuth, setup_entry: Any
) -> None:
    entry = entry_for(camauth, "0123456789abcdef0123456789abcdef")
    await setup_entry(entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "different CamAuth" in entry.reason


async def test_stream_lost_polls_then_reconnects_logging_once_each_way(
    hass: HomeAssistant,
    start_camauth: CamAuthFactory,
    tmp_path: Path,
    setup_entry: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.camauth")
    first = await start_camauth(data_dir=tmp_path / "data")
    entry = entry_for(first, await first.instance_id())
    await setup_entry(entry)
    coordinator = coordinator_of(entry)
    port = first.server.port

    await stop_camauth(first)
    await until(hass, lambda: _state(hass) == STATE_UNAVAILABLE)
    assert not coordinator.connected
    assert coordinator.update_interval == timedelta(seconds=30)
    # While it is away: reconnects back off, polls fail, and nothing more is logged.
    for seconds in (1, 3, 7, 40, 80):
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
        await hass.async_block_till_done()
    assert _state(hass) == STATE_UNAVAILABLE

    again = await start_camauth(data_dir=tmp_path / "data", port=port)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=200))
    await until(hass, lambda: coordinator.connected)
    assert _state(hass) == "0"
    assert coordinator.update_interval == timedelta(minutes=5)

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert len([m for m in messages if "event stream lost" in m]) == 1
    assert len([m for m in messages if m.startswith("Error fetching camauth data")]) == 1
    back = [m for m in messages if "reachable again" in m or "data recovered" in m]
    assert len(back) == 1, messages
    await stop_camauth(again)


async def test_stream_back_before_the_next_poll_says_so(
    hass: HomeAssistant,
    start_camauth: CamAuthFactory,
    tmp_path: Path,
    setup_entry: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.camauth")
    first = await start_camauth(data_dir=tmp_path / "data")
    entry = entry_for(first, await first.instance_id())
    await setup_entry(entry)
    port = first.server.port
    await stop_camauth(first)
    await until(hass, lambda: _state(hass) == STATE_UNAVAILABLE)
    again = await start_camauth(data_dir=tmp_path / "data", port=port)
    # The first reconnect is due after a second, the next poll after thirty.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await until(hass, lambda: coordinator_of(entry).connected)
    assert _state(hass) == "0"
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert [m for m in messages if "reachable again" in m or "data recovered" in m] == [
        "CamAuth is reachable again"
    ]
    await stop_camauth(again)


async def test_stream_snapshots_update_the_data(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    # CamAuth sends statistics every 60 s on the stream; Home Assistant's clock drives it.
    coordinator = coordinator_of(init_integration)
    updates: list[None] = []
    unsubscribe = coordinator.async_add_listener(lambda: updates.append(None))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await until(hass, lambda: bool(updates))
    assert coordinator.connected
    unsubscribe()


async def test_revoked_key_closes_the_stream_and_asks_for_a_new_key(
    hass: HomeAssistant, camauth: CamAuth, init_integration: MockConfigEntry
) -> None:
    name = (await camauth.key_names())[0]
    await camauth.revoke_key(name)
    coordinator = coordinator_of(init_integration)
    # CamAuth closes the stream of a revoked key (close code 4001) at once.
    await until(hass, lambda: not coordinator.connected)
    await until(hass, lambda: _state(hass) == STATE_UNAVAILABLE)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_only_stale_user_devices_can_be_removed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    instance_id = coordinator_of(init_integration).instance_id
    viewer = device_registry.async_get_device({(DOMAIN, f"{instance_id}_user_viewer")})
    stale = device_registry.async_get_or_create(
        config_entry_id=init_integration.entry_id,
        identifiers={(DOMAIN, f"{instance_id}_user_gone")},
    )
    assert viewer is not None
    for device, removable in ((viewer, False), (stale, True)):
        await client.send_json_auto_id(
            {
                "type": "config/device_registry/remove_config_entry",
                "config_entry_id": init_integration.entry_id,
                "device_id": device.id,
            }
        )
        answer = await client.receive_json()
        assert answer["success"] is removable
    assert device_registry.async_get(viewer.id) is not None
    assert device_registry.async_get(stale.id) is None
