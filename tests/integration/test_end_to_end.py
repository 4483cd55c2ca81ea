"""End to end: the real ``camauth serve``, set up through the config flow, a real lockout.

As a new user would: start CamAuth, create an admin API key with ``camauth keys add``, add
the integration with URL and key, fail to log in until CamAuth locks the client and the
username out, see it on the entities and the bus, lift it with ``camauth.unlock``, and reset
a password with ``camauth.reset_password`` whose answer then logs in.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.camauth.const import DOMAIN

from .conftest import LOCKOUT_LIMITS, coordinator_of, free_port, settle, until

pytestmark = pytest.mark.slow

BANNER_PASSWORD = re.compile(r"^\*\s+Password:\s+(\S+)\s+\*$", re.MULTILINE)
FOREIGN_ENV = ("CAMAUTH_DATA_DIR", "CAMAUTH_JWT_SECRET", "SUPERVISOR_TOKEN")
# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Served:
    """A running ``camauth serve``, its admin password and an API key for Home Assistant."""

    url: str
    admin_password: str
    api_key: str


def _camauth(*args: str, data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "camauth", args[0], "--data-dir", str(data_dir), *args[1:]]


def _healthy(url: str, popen: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(400):
        assert popen.poll() is None, log.read_text(encoding="utf-8")
        try:
            with _OPENER.open(f"{url}/api/health", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise AssertionError(f"camauth serve did not become healthy: {log.read_text()}")


def _key_works(url: str, api_key: str) -> None:
    request = urllib.request.Request(f"{url}/api/profile", headers={"X-API-Key": api_key})
    for _ in range(400):
        try:
            with _OPENER.open(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    raise AssertionError("camauth serve did not accept the key from camauth keys add")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``camauth serve`` on 127.0.0.1 with a lockout after three failures, and a key from
    ``camauth keys add`` (outside the event loop: a separate process, blocking calls)."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "options.json").write_text(json.dumps({"auth": LOCKOUT_LIMITS}))
    port = free_port()
    log = tmp_path / "camauth.log"
    with log.open("wb") as stderr:
        popen = subprocess.Popen(
            [*_camauth("serve", data_dir=data_dir), "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _healthy(url, popen, log)
        added = subprocess.run(
            _camauth("keys", "add", "ha", "--role", "admin", data_dir=data_dir),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=env,
        )
        api_key = added.stdout.strip().splitlines()[-1]
        _key_works(url, api_key)  # the running service picks up the shell's key within a second
        found = BANNER_PASSWORD.findall(log.read_text(encoding="utf-8"))
        assert len(found) == 1, log.read_text(encoding="utf-8")
        yield Served(url, found[0], api_key)
    finally:
        popen.send_signal(signal.SIGTERM)
        try:
            popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout=20)
    assert api_key not in log.read_text(encoding="utf-8")


async def _login(http: ClientSession, served: Served, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    async with http.post(f"{served.url}/api/login", json=body) as response:
        return response.status


def _count(events: list[Event], kind: str) -> int:
    return sum(1 for event in events if event.data["type"] == kind)


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return state.state if state else None


async def test_a_real_lockout_end_to_end(
    hass: HomeAssistant,
    served: Served,
    bus_events: list[Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with ClientSession() as http:
        # Set-up through the config flow, as in the UI.
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_URL: served.url, CONF_API_KEY: served.api_key, CONF_VERIFY_SSL: True},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await until(hass, lambda: coordinator_of(entry).connected)
        assert _state(hass, "binary_sensor.camauth_lockout_active") == "off"
        assert _state(hass, "binary_sensor.admin_locked_out") == "off"

        # Real failed logins until CamAuth locks the client and the username out.
        assert await _login(http, served, "admin", served.admin_password) == 200
        for _ in range(3):
            assert await _login(http, served, "admin", "not the password") == 401
        assert await _login(http, served, "admin", served.admin_password) == 429
        await until(hass, lambda: _count(bus_events, "lockout_started") == 2)
        await settle(hass, lambda: _state(hass, "sensor.camauth_active_lockouts") == "2")
        assert _state(hass, "binary_sensor.camauth_lockout_active") == "on"
        assert _state(hass, "binary_sensor.admin_locked_out") == "on"
        assert _state(hass, "sensor.camauth_failed_logins_last_hour") == "3"
        activity = hass.states.get("event.camauth_login_activity")
        assert activity is not None
        assert activity.attributes["event_type"] == "lockout_started"
        started = [e.data for e in bus_events if e.data["type"] == "lockout_started"]
        assert {(data["kind"], data["username"]) for data in started} == {
            ("client", None),
            ("username", "admin"),
        }
        assert all(data["config_entry_id"] == entry.entry_id for data in started)

        # Lift it from Home Assistant.
        lifted = await hass.services.async_call(
            DOMAIN, "unlock", {"all": True}, blocking=True, return_response=True
        )
        assert lifted == {"lifted": 2}
        await until(hass, lambda: _count(bus_events, "lockout_ended") == 2)
        await settle(hass, lambda: _state(hass, "binary_sensor.camauth_lockout_active") == "off")
        assert _state(hass, "binary_sensor.admin_locked_out") == "off"

        # A new password from Home Assistant, which then logs in.
        reset = await hass.services.async_call(
            DOMAIN, "reset_password", {"username": "admin"}, blocking=True, return_response=True
        )
        assert reset is not None
        assert await _login(http, served, "admin", str(reset["password"])) == 200
        assert await _login(http, served, "admin", served.admin_password) == 401

    assert await hass.config_entries.async_unload(entry.entry_id)
    # Home Assistant logged nothing worse than INFO about it, but that it is a custom one.
    problems = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and not record.getMessage().startswith("We found a custom integration camauth")
    ]
    assert problems == []
