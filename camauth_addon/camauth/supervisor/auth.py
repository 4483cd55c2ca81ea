"""Home Assistant accounts: the Supervisor checks a user's password for the add-on.

The add-on declares ``auth_api: true``; then ``POST http://supervisor/auth`` with the
add-on's ``SUPERVISOR_TOKEN`` answers 200 for a right username and password, and 401 (or 400
or 403) for anything else. CamAuth asks it only under the same limits, lockouts and events as
a local login (core.logins).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import aiohttp

from ..errors import CamAuthError
from .discovery import DEFAULT_SUPERVISOR_URL, SUPERVISOR_TOKEN_ENV, SUPERVISOR_URL_ENV

_LOGGER = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=15)


class HomeAssistantUnavailable(CamAuthError):
    """The Supervisor did not answer; the password was not judged."""

    status = 503
    default_key = "homeassistant_unavailable"


class HomeAssistantAuth:
    """Asks the Supervisor whether a Home Assistant username and password are right."""

    def __init__(self, url: str, token: str) -> None:
        """The Supervisor's address and the add-on's token."""
        self._url = url.rstrip("/") + "/auth"
        self._token = token

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> HomeAssistantAuth | None:
        """The checker when running as an add-on; None anywhere else."""
        token = environ.get(SUPERVISOR_TOKEN_ENV, "")
        if not token:
            return None
        return cls(environ.get(SUPERVISOR_URL_ENV, DEFAULT_SUPERVISOR_URL), token)

    async def check(self, username: str, password: str) -> bool:
        """Whether Home Assistant knows this user with this password."""
        headers = {"Authorization": f"Bearer {self._token}"}
        body = {"username": username, "password": password}
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.post(self._url, json=body, headers=headers) as response,
            ):
                if response.status == 200:
                    return True
                if response.status in (400, 401, 403, 404):
                    return False
                _LOGGER.warning("The Supervisor answered %d to a password check", response.status)
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.warning("The Supervisor did not answer a password check: %s", err)
        raise HomeAssistantUnavailable(
            "Home Assistant cannot check passwords right now; try again shortly",
        )
