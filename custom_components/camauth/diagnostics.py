"""Diagnostics: what the integration knows, with the key, tokens and addresses redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_URL
from homeassistant.core import HomeAssistant

from .coordinator import CamAuthConfigEntry

# "key" is a lockout's address or username; "client" and "*_client" are addresses; a
# warning's message may quote an address.
TO_REDACT = {
    CONF_API_KEY,
    CONF_URL,
    "client",
    "key",
    "last_login_client",
    "message",
    "password",
    "token",
}


def _plain(value: Any) -> Any:
    """Dataclass output as JSON-like lists and dicts, so redaction reaches every level."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CamAuthConfigEntry
) -> dict[str, Any]:
    """The entry, the stream's state and CamAuth's latest statistics and warnings."""
    coordinator = entry.runtime_data.coordinator
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "stream_connected": coordinator.connected,
        "last_update_success": coordinator.last_update_success,
        "snapshot": async_redact_data(_plain(asdict(coordinator.data)), TO_REDACT),
    }
