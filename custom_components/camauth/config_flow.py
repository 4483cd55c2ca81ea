"""Set-up of CamAuth: discovered from the add-on, or by URL and API key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_URL, CONF_VERIFY_SSL
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from yarl import URL

from .api import (
    CamAuthAuthenticationError,
    CamAuthConnectionError,
    CamAuthError,
    CamAuthNotAdminError,
    Stats,
)
from .const import DOMAIN
from .coordinator import create_client

TITLE = "CamAuth"
KEY_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off"))
USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(
            TextSelectorConfig(type=TextSelectorType.URL, autocomplete="url")
        ),
        vol.Required(CONF_API_KEY): KEY_SELECTOR,
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
    }
)
REAUTH_SCHEMA = vol.Schema({vol.Required(CONF_API_KEY): KEY_SELECTOR})


def normalize_url(text: str) -> str | None:
    """The base URL of a CamAuth as typed, or None if it is not an http(s) URL."""
    try:
        url = URL(text.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    return str(url.with_query(None).with_fragment(None)).rstrip("/")


class CamAuthConfigFlow(ConfigFlow, domain=DOMAIN):
    """Discovery, manual set-up, re-authentication and reconfiguration."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._discovered: dict[str, Any] = {}

    async def _validate(self, data: Mapping[str, Any]) -> tuple[dict[str, str], Stats | None]:
        """Connect with these settings: errors for the form, or CamAuth's statistics."""
        try:
            stats = await create_client(self.hass, data).validate()
        except CamAuthNotAdminError:
            return {"base": "not_admin"}, None
        except CamAuthAuthenticationError:
            return {"base": "invalid_auth"}, None
        except CamAuthConnectionError:
            return {"base": "cannot_connect"}, None
        except CamAuthError:
            return {"base": "not_camauth"}, None
        return {}, stats

    async def _validate_form(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any], Stats | None]:
        """Validate the URL form: errors, the cleaned data and, when all is well, stats."""
        url = normalize_url(user_input[CONF_URL])
        if url is None:
            return {CONF_URL: "invalid_url"}, user_input, None
        data = {**user_input, CONF_URL: url}
        errors, stats = await self._validate(data)
        return errors, data, stats

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up by URL and API key."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, data, stats = await self._validate_form(user_input)
            if stats is not None:
                await self.async_set_unique_id(stats.instance_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=TITLE, data=data)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself: update a known CamAuth, or offer to add it."""
        config = discovery_info.config
        try:
            instance_id, api_key = str(config["instance_id"]), str(config["api_key"])
            tls = config.get("ssl") is True
            scheme = "https" if tls else "http"
            url = str(URL.build(scheme=scheme, host=str(config["host"]), port=int(config["port"])))
        except (KeyError, TypeError, ValueError):
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(instance_id)
        # A known CamAuth with a new host, port or key is updated in place (and reloaded).
        # The add-on's certificate names its public host, never the internal one used here.
        found = {CONF_URL: url, CONF_API_KEY: api_key, CONF_VERIFY_SSL: not tls}
        self._abort_if_unique_id_configured(updates=found)
        self._discovered = found
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before adding the discovered CamAuth."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, stats = await self._validate(self._discovered)
            if stats is not None:
                return self.async_create_entry(title=TITLE, data=self._discovered)
        self._set_confirm_only()
        return self.async_show_form(
            step_id="hassio_confirm",
            description_placeholders={"name": self.context["title_placeholders"]["name"]},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """CamAuth refused the API key: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check the new key against the same CamAuth."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, stats = await self._validate({**entry.data, **user_input})
            if stats is not None:
                await self.async_set_unique_id(stats.instance_id)
                self._abort_if_unique_id_mismatch(reason="wrong_instance")
                return self.async_update_reload_and_abort(entry, data_updates=user_input)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            errors=errors,
            description_placeholders={"url": entry.data[CONF_URL]},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the URL, key or certificate check of a configured CamAuth."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, data, stats = await self._validate_form(user_input)
            if stats is not None:
                await self.async_set_unique_id(stats.instance_id)
                self._abort_if_unique_id_mismatch(reason="wrong_instance")
                return self.async_update_reload_and_abort(entry, data=data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                USER_SCHEMA, user_input or dict(entry.data)
            ),
            errors=errors,
        )
