"""The fix for the one issue Home Assistant can fix: set a new password for "admin"."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api import CamAuthAuthenticationError, CamAuthError, CamAuthRequestError
from .const import DOMAIN, PASSWORD_REFUSALS

ADMIN_USERNAME = "admin"
PASSWORD_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PASSWORD): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="new-password")
        )
    }
)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow that fixes ``admin_password_generated`` (the only fixable issue)."""
    return AdminPasswordFlow(str((data or {}).get("entry_id")))


class AdminPasswordFlow(RepairsFlow):
    """Replace the generated admin password with one the owner chooses."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    async def async_step_init(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Ask for the new password."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, str] | None = None) -> FlowResult:
        """Set it in CamAuth."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        data = entry.runtime_data
        errors: dict[str, str] = {}
        placeholders = {"error": "", "url": data.client.url}
        if user_input is not None:
            try:
                await data.client.reset_password(ADMIN_USERNAME, user_input[CONF_PASSWORD])
            except CamAuthRequestError as err:
                refusal = err.code if err.code in PASSWORD_REFUSALS else None
                errors[CONF_PASSWORD] = refusal or "password_rejected"
                placeholders["error"] = err.message
            except CamAuthAuthenticationError:
                errors["base"] = "invalid_auth"
            except CamAuthError:
                errors["base"] = "cannot_connect"
            else:
                await data.coordinator.async_refresh()
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=PASSWORD_SCHEMA,
            errors=errors,
            description_placeholders=placeholders,
        )
