"""CamAuth's actions: reset a password, lift lockouts, end a user's sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service
from homeassistant.util.json import JsonObjectType

from .api import (
    KIND_CLIENT,
    KIND_USERNAME,
    CamAuthAuthenticationError,
    CamAuthError,
    CamAuthNotFoundError,
    CamAuthRequestError,
    address_key,
    username_key,
)
from .const import (
    ATTR_ADDRESS,
    ATTR_ALL,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_PASSWORD,
    ATTR_USERNAME,
    DOMAIN,
    PASSWORD_REFUSALS,
    SERVICE_RESET_PASSWORD,
    SERVICE_REVOKE_SESSIONS,
    SERVICE_UNLOCK,
)
from .coordinator import CamAuthConfigEntry

_ENTRY: dict[vol.Marker, Any] = {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
RESET_PASSWORD_SCHEMA = vol.Schema(
    {**_ENTRY, vol.Required(ATTR_USERNAME): cv.string, vol.Optional(ATTR_PASSWORD): cv.string}
)
UNLOCK_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Optional(ATTR_USERNAME): cv.string,
        vol.Optional(ATTR_ADDRESS): cv.string,
        vol.Optional(ATTR_ALL): cv.boolean,
    }
)
REVOKE_SESSIONS_SCHEMA = vol.Schema({**_ENTRY, vol.Required(ATTR_USERNAME): cv.string})


def _entry(hass: HomeAssistant, call: ServiceCall) -> CamAuthConfigEntry:
    """The CamAuth the call is for: the one named, or the only one there is."""
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        loaded: list[CamAuthConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
        if len(loaded) != 1:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="config_entry_required"
            )
        return loaded[0]
    entry: CamAuthConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="config_entry_not_found",
            translation_placeholders={"config_entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="config_entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


@asynccontextmanager
async def _camauth_errors(
    hass: HomeAssistant, entry: CamAuthConfigEntry, username: str = ""
) -> AsyncIterator[None]:
    """Turn CamAuth's errors into Home Assistant's, with translated messages."""
    try:
        yield
    except CamAuthNotFoundError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="user_not_found",
            translation_placeholders={"username": username},
        ) from err
    except CamAuthRequestError as err:
        # A refused password in the user's language when CamAuth names the rule, else its words.
        refusal = err.code if err.code in PASSWORD_REFUSALS else None
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=refusal or "request_refused",
            translation_placeholders={"error": err.message},
        ) from err
    except CamAuthAuthenticationError as err:
        entry.async_start_reauth(hass)
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_auth",
            translation_placeholders={"error": str(err)},
        ) from err
    except CamAuthError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err


async def _reset_password(call: ServiceCall) -> ServiceResponse:
    username: str = call.data[ATTR_USERNAME]
    password: str | None = call.data.get(ATTR_PASSWORD)
    if password is None and not call.return_response:
        # A generated password nobody receives would lock the user out.
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="password_or_response_required"
        )
    entry = _entry(call.hass, call)
    async with _camauth_errors(call.hass, entry, username):
        generated = await entry.runtime_data.client.reset_password(username, password)
    response: JsonObjectType = {ATTR_USERNAME: username}
    if generated is not None:
        response[ATTR_PASSWORD] = generated
    return response


def _unlock_target(call: ServiceCall) -> tuple[str, str] | None:
    """What to unlock: (kind, key) of a user or an address, or None for everything."""
    username = call.data.get(ATTR_USERNAME)
    address = call.data.get(ATTR_ADDRESS)
    everything = call.data.get(ATTR_ALL, False)
    if (username is not None) + (address is not None) + everything != 1:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unlock_target")
    if username is not None:
        return (KIND_USERNAME, username_key(username))
    if address is not None:
        try:
            return (KIND_CLIENT, address_key(address))
        except ValueError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_address",
                translation_placeholders={"address": address},
            ) from err
    return None


async def _unlock(call: ServiceCall) -> ServiceResponse:
    target = _unlock_target(call)
    entry = _entry(call.hass, call)
    client = entry.runtime_data.client
    async with _camauth_errors(call.hass, entry):
        if target is None:
            lifted = await client.lift_all_lockouts()
        else:
            matching = [
                lockout.id
                for lockout in await client.lockouts()
                if (lockout.kind, lockout.key) == target
            ]
            lifted = sum([await client.lift_lockout(lockout_id) for lockout_id in matching])
    await entry.runtime_data.coordinator.async_request_refresh()
    return {"lifted": lifted}


async def _revoke_sessions(call: ServiceCall) -> ServiceResponse:
    username: str = call.data[ATTR_USERNAME]
    entry = _entry(call.hass, call)
    async with _camauth_errors(call.hass, entry, username):
        revoked = await entry.runtime_data.client.revoke_sessions(username)
    return {"revoked": revoked}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every CamAuth entry); Home Assistant admins only."""
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_RESET_PASSWORD,
        _reset_password,
        RESET_PASSWORD_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
    async_register_admin_service(
        hass, DOMAIN, SERVICE_UNLOCK, _unlock, UNLOCK_SCHEMA, SupportsResponse.OPTIONAL
    )
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_REVOKE_SESSIONS,
        _revoke_sessions,
        REVOKE_SESSIONS_SCHEMA,
        SupportsResponse.OPTIONAL,
    )
