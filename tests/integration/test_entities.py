"""Entities after a scripted sequence of real logins, failures and a lockout."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.camauth.const import DOMAIN

from .conftest import VIEWER_PASSWORD, CamAuth, coordinator_of, settle, until

PASSPHRASE = "a rather long passphrase"
INSTANCE_SENSORS = [
    "sensor.camauth_failed_logins_last_hour",
    "sensor.camauth_failed_logins_last_24_hours",
    "sensor.camauth_active_sessions",
    "sensor.camauth_users",
    "sensor.camauth_active_lockouts",
    "sensor.camauth_last_login",
    "binary_sensor.camauth_lockout_active",
    "binary_sensor.camauth_authentication_enabled",
    "event.camauth_login_activity",
]


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def _attributes(hass: HomeAssistant, entity_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return dict(state.attributes)


def _iso(timestamp: float) -> str:
    """A timestamp as a timestamp sensor's state shows it (whole seconds)."""
    return datetime.fromtimestamp(timestamp, UTC).replace(microsecond=0).isoformat()


async def test_entities_at_start(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    states = {entity_id: _state(hass, entity_id) for entity_id in INSTANCE_SENSORS}
    assert states == {
        "sensor.camauth_failed_logins_last_hour": "0",
        "sensor.camauth_failed_logins_last_24_hours": "0",
        "sensor.camauth_active_sessions": "0",
        "sensor.camauth_users": "2",
        "sensor.camauth_active_lockouts": "0",
        "sensor.camauth_last_login": STATE_UNKNOWN,
        "binary_sensor.camauth_lockout_active": STATE_OFF,
        "binary_sensor.camauth_authentication_enabled": STATE_ON,
        "event.camauth_login_activity": STATE_UNKNOWN,
    }
    assert _attributes(hass, "sensor.camauth_active_lockouts")["lockouts"] == []
    for user in ("admin", "viewer"):
        assert _state(hass, f"sensor.{user}_last_login") == STATE_UNKNOWN
        assert _state(hass, f"binary_sensor.{user}_locked_out") == STATE_OFF
    # The noisy ones exist, disabled.
    for entity_id in ("sensor.camauth_failed_logins_total", "sensor.viewer_active_sessions"):
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entity_registry.async_get("sensor.camauth_users").entity_category == "diagnostic"
    assert _attributes(hass, "event.camauth_login_activity")["event_types"] == [
        "login_succeeded",
        "login_failed",
        "lockout_started",
        "lockout_ended",
        "logout",
        "password_changed",
    ]

    instance_id = coordinator_of(init_integration).instance_id
    service = device_registry.async_get_device({(DOMAIN, instance_id)})
    assert service is not None
    assert (service.name, service.manufacturer, service.entry_type) == (
        "CamAuth",
        "CamAuth",
        dr.DeviceEntryType.SERVICE,
    )
    assert service.sw_version == "0.2.0"
    viewer = device_registry.async_get_device({(DOMAIN, f"{instance_id}_user_viewer")})
    assert viewer is not None
    assert viewer.via_device_id == service.id
    assert viewer.model == "Viewer user"


async def test_entities_follow_logins_failures_and_a_lockout(
    hass: HomeAssistant,
    camauth: CamAuth,
    init_integration: MockConfigEntry,
    bus_events: list[Event],
) -> None:
    device = dr.async_get(hass).async_get_device(
        {(DOMAIN, coordinator_of(init_integration).instance_id)}
    )
    assert device is not None

    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    await until(hass, lambda: len(bus_events) == 1)
    await settle(hass, lambda: _state(hass, "sensor.camauth_active_sessions") == "1")
    stats = await camauth.stats()
    login_time = _iso(stats["last_login"]["timestamp"])
    assert _state(hass, "sensor.camauth_last_login") == login_time
    assert _attributes(hass, "sensor.camauth_last_login")["username"] == "viewer"
    assert _attributes(hass, "sensor.camauth_last_login")["client"] == "127.0.0.1"
    assert _state(hass, "sensor.viewer_last_login") == login_time
    assert _attributes(hass, "sensor.viewer_last_login")["client"] == "127.0.0.1"
    assert _state(hass, "sensor.admin_last_login") == STATE_UNKNOWN
    assert _attributes(hass, "event.camauth_login_activity")["event_type"] == "login_succeeded"

    # Three wrong passwords for "viewer": the client and the username are both locked out.
    for _ in range(3):
        assert await camauth.login("Viewer", "wrong password") == 401
    await until(hass, lambda: len(bus_events) == 6)
    await settle(hass, lambda: _state(hass, "sensor.camauth_active_lockouts") == "2")
    assert _state(hass, "sensor.camauth_failed_logins_last_hour") == "3"
    assert _state(hass, "sensor.camauth_failed_logins_last_24_hours") == "3"
    assert _state(hass, "binary_sensor.camauth_lockout_active") == STATE_ON
    assert _state(hass, "binary_sensor.viewer_locked_out") == STATE_ON
    assert _state(hass, "binary_sensor.admin_locked_out") == STATE_OFF
    lockouts = _attributes(hass, "sensor.camauth_active_lockouts")["lockouts"]
    assert sorted((lockout["kind"], lockout["key"]) for lockout in lockouts) == [
        ("client", "127.0.0.1"),
        ("username", "viewer"),
    ]
    assert _attributes(hass, "event.camauth_login_activity")["event_type"] == "lockout_started"

    assert [event.data["type"] for event in bus_events] == [
        "login_succeeded",
        "login_failed",
        "login_failed",
        "login_failed",
        "lockout_started",
        "lockout_started",
    ]
    for event in bus_events:
        assert event.data["config_entry_id"] == init_integration.entry_id
        assert event.data["device_id"] == device.id
        assert event.data["client"] == "127.0.0.1"
        assert datetime.fromisoformat(event.data["time"]).tzinfo is not None
    assert bus_events[1].data["username"] == "viewer"
    started = {event.data["kind"]: event.data for event in bus_events[4:]}
    assert started["username"]["username"] == "viewer"
    assert started["client"]["username"] is None
    assert datetime.fromisoformat(started["client"]["until"]) > datetime.now(UTC)
    assert set(started["client"]) == {
        "type",
        "username",
        "client",
        "time",
        "config_entry_id",
        "device_id",
        "kind",
        "lockout_id",
        "until",
    }


async def test_users_come_and_go_as_devices(
    hass: HomeAssistant,
    camauth: CamAuth,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    bus_events: list[Event],
) -> None:
    instance_id = coordinator_of(init_integration).instance_id
    carol = (DOMAIN, f"{instance_id}_user_carol")
    await camauth.user("POST", username="Carol", password=PASSPHRASE, role="admin")
    await until(hass, lambda: hass.states.get("binary_sensor.carol_locked_out") is not None)
    device = device_registry.async_get_device({carol})
    assert device is not None
    assert (device.name, device.model) == ("Carol", "Admin user")
    assert _state(hass, "sensor.camauth_users") == "3"

    await camauth.user("PUT", "/carol/role", role="viewer")
    await until(hass, lambda: len(bus_events) == 2)
    await settle(hass, lambda: device_registry.async_get_device({carol}).model == "Viewer user")

    await camauth.user("DELETE", "/carol")
    await until(hass, lambda: len(bus_events) == 3)
    await settle(hass, lambda: device_registry.async_get_device({carol}) is None)
    assert entity_registry.async_get("binary_sensor.carol_locked_out") is None
    await until(hass, lambda: hass.states.get("binary_sensor.carol_locked_out") is None)
    assert _state(hass, "sensor.camauth_users") == "2"

    # Created again: a new device, new entities.
    await camauth.user("POST", username="carol", password=PASSPHRASE, role="viewer")
    await until(hass, lambda: len(bus_events) == 4)
    await settle(hass, lambda: hass.states.get("binary_sensor.carol_locked_out") is not None)
    assert device_registry.async_get_device({carol}) is not None


async def test_disabled_entities_work_once_enabled(
    hass: HomeAssistant,
    camauth: CamAuth,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    for entity_id in ("sensor.camauth_failed_logins_total", "sensor.viewer_active_sessions"):
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    assert await camauth.login("viewer", VIEWER_PASSWORD) == 200
    assert await camauth.login("viewer", "wrong password") == 401
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await until(hass, lambda: coordinator_of(init_integration).connected)
    assert _state(hass, "sensor.camauth_failed_logins_total") == "1"
    assert _state(hass, "sensor.viewer_active_sessions") == "1"
