"""The CamAuth API client: the one module that talks HTTP (and WebSocket) to CamAuth.

It takes Home Assistant's shared aiohttp session, speaks CamAuth's public API with an
``X-API-Key`` header, turns answers into typed values and every failure into one of the
``CamAuth…Error`` classes below. Nothing else in the integration touches raw HTTP.
"""

from __future__ import annotations

import ipaddress
import json
import unicodedata
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from yarl import URL

API_KEY_HEADER: Final = "X-API-Key"
REQUEST_TIMEOUT: Final = 10.0
WS_HEARTBEAT: Final = 60.0
# Close codes CamAuth uses when the stream's credential stops being good enough.
WS_CLOSE_REVOKED: Final = 4001
WS_CLOSE_NOT_ADMIN: Final = 4003
KIND_CLIENT: Final = "client"
KIND_USERNAME: Final = "username"


class CamAuthError(Exception):
    """Base of every error the client raises."""


class CamAuthConnectionError(CamAuthError):
    """CamAuth cannot be reached, timed out, failed, or dropped the connection."""


class CamAuthResponseError(CamAuthError):
    """The answer is not what CamAuth answers: probably not a CamAuth at that address."""


class CamAuthAuthenticationError(CamAuthError):
    """The API key is wrong or has been revoked."""


class CamAuthNotAdminError(CamAuthAuthenticationError):
    """The API key is valid but does not carry the admin role."""


class CamAuthRequestError(CamAuthError):
    """CamAuth refused a request (a 4xx other than authentication)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class CamAuthNotFoundError(CamAuthRequestError):
    """The user (or lockout) named does not exist."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Who the API key is."""

    username: str
    role: str
    auth_method: str


@dataclass(frozen=True, slots=True)
class LastLogin:
    """The most recent successful login."""

    username: str | None
    timestamp: datetime
    client: str | None


@dataclass(frozen=True, slots=True)
class Lockout:
    """A client address or username that may not log in until ``until``."""

    id: int
    kind: str
    key: str
    started_at: datetime
    until: datetime
    retry_after: int


@dataclass(frozen=True, slots=True)
class UserActivity:
    """One CamAuth user as the statistics describe them."""

    username: str
    role: str
    last_login: datetime | None
    last_login_client: str | None
    active_sessions: int
    locked_out: bool

    @property
    def key(self) -> str:
        """The user's identity in Home Assistant (unique ids, devices)."""
        return username_key(self.username)


@dataclass(frozen=True, slots=True)
class Stats:
    """A snapshot of ``/api/stats``."""

    instance_id: str
    version: str
    auth_enabled: bool
    users: Mapping[str, int]
    admin_password_generated: bool
    failed_logins_last_hour: int
    failed_logins_last_day: int
    failed_logins_total: int
    last_login: LastLogin | None
    active_sessions: int
    lockouts: tuple[Lockout, ...]
    user_activity: tuple[UserActivity, ...]
    timestamp: datetime

    @property
    def users_total(self) -> int:
        """How many users CamAuth has."""
        return self.users.get("total", 0)


@dataclass(frozen=True, slots=True)
class ConfigWarning:
    """A configuration problem CamAuth observes (``/api/warnings``)."""

    id: str
    message: str


@dataclass(frozen=True, slots=True)
class Hello:
    """The first message of the event stream."""

    version: str
    stats: Stats


@dataclass(frozen=True, slots=True)
class StatsUpdate:
    """A periodic statistics snapshot on the event stream."""

    stats: Stats


@dataclass(frozen=True, slots=True)
class CamAuthEvent:
    """Something that happened in CamAuth (a login, a lockout, …)."""

    type: str
    timestamp: datetime
    username: str | None
    client: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


type StreamMessage = Hello | StatsUpdate | CamAuthEvent


def username_key(username: str) -> str:
    """A username as CamAuth compares them: NFKC, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def address_key(address: str) -> str:
    """An address as CamAuth counts it: IPv4 as is, IPv6 per /64 network.

    Raises ``ValueError`` for anything that is neither an address nor a network.
    """
    text = address.strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        network = ipaddress.ip_network(text, strict=False)
        if network.version == 6:
            network = network.supernet(new_prefix=64) if network.prefixlen > 64 else network
        return str(network)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


# --- parsing: anything off-contract is a CamAuthResponseError -------------------------------


def _typed[T](value: Any, kind: type[T]) -> T:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _typed(value, str)


def _time(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a timestamp")
    return datetime.fromtimestamp(value, UTC)


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else _time(value)


def _parse[R](parser: Callable[[Any], R], data: Any, what: str) -> R:
    try:
        return parser(data)
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise CamAuthResponseError(f"Unexpected {what} from CamAuth: {err}") from err


def _lockout(data: Any) -> Lockout:
    return Lockout(
        id=_typed(data["id"], int),
        kind=_typed(data["kind"], str),
        key=_typed(data["key"], str),
        started_at=_time(data["started_at"]),
        until=_time(data["until"]),
        retry_after=_typed(data["retry_after"], int),
    )


def _user_activity(data: Any) -> UserActivity:
    return UserActivity(
        username=_typed(data["username"], str),
        role=_typed(data["role"], str),
        last_login=_optional_time(data["last_login"]),
        last_login_client=_optional_str(data["last_login_client"]),
        active_sessions=_typed(data["active_sessions"], int),
        locked_out=_typed(data["locked_out"], bool),
    )


def _stats(data: Any) -> Stats:
    last = data["last_login"]
    users = _typed(data["users"], dict)
    return Stats(
        instance_id=_typed(data["instance_id"], str),
        version=_typed(data["version"], str),
        auth_enabled=_typed(data["auth_enabled"], bool),
        users={_typed(role, str): _typed(count, int) for role, count in users.items()},
        admin_password_generated=_typed(data["admin_password_generated"], bool),
        failed_logins_last_hour=_typed(data["failed_logins_last_hour"], int),
        failed_logins_last_day=_typed(data["failed_logins_last_day"], int),
        failed_logins_total=_typed(data["failed_logins_total"], int),
        last_login=(
            None
            if last is None
            else LastLogin(
                username=_optional_str(last["username"]),
                timestamp=_time(last["timestamp"]),
                client=_optional_str(last["client"]),
            )
        ),
        active_sessions=_typed(data["active_sessions"], int),
        lockouts=tuple(_lockout(item) for item in _typed(data["lockouts"], list)),
        user_activity=tuple(_user_activity(item) for item in _typed(data["user_activity"], list)),
        timestamp=_time(data["timestamp"]),
    )


def _event(data: Any) -> CamAuthEvent:
    return CamAuthEvent(
        type=_typed(data["type"], str),
        timestamp=_time(data["timestamp"]),
        username=_optional_str(data.get("username")),
        client=_optional_str(data.get("client")),
        detail=_typed(data.get("detail") or {}, dict),
    )


def _message(data: Any) -> StreamMessage | None:
    kind = data["type"]
    if kind == "hello":
        return Hello(version=_typed(data["version"], str), stats=_stats(data["stats"]))
    if kind == "stats":
        return StatsUpdate(stats=_stats(data["stats"]))
    if kind == "event":
        return _event(data["event"])
    return None  # a message type from a newer CamAuth


def _warnings(data: Any) -> list[ConfigWarning]:
    return [
        ConfigWarning(id=_typed(item["id"], str), message=_typed(item["message"], str))
        for item in _typed(data["warnings"], list)
    ]


def _profile(data: Any) -> Profile:
    return Profile(
        username=_typed(data["username"], str),
        role=_typed(data["role"], str),
        auth_method=_typed(data["auth_method"], str),
    )


# --- the client ------------------------------------------------------------------------------


class CamAuthClient:
    """Talks to one CamAuth at ``url`` with one API key."""

    def __init__(self, session: aiohttp.ClientSession, url: str, api_key: str) -> None:
        self._session = session
        self._url = URL(url)
        self._api_key = api_key

    @property
    def url(self) -> str:
        """The base URL of this CamAuth."""
        return str(self._url)

    def _endpoint(self, *parts: str) -> URL:
        segments = [quote(part, safe="") for part in parts]
        # /camauth/api/ is CamAuth's in every setup, also when a camera UI is served at /.
        return self._url.joinpath("camauth", "api", *segments, encoded=True)

    async def _request(self, method: str, *path: str, json: Any = None, auth: bool = True) -> Any:
        headers = {API_KEY_HEADER: self._api_key} if auth else {}
        try:
            async with self._session.request(
                method,
                self._endpoint(*path),
                json=json,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                allow_redirects=False,
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CamAuthConnectionError(
                f"Cannot reach CamAuth at {self._url}: {_describe(err)}"
            ) from err
        body = _json_or_none(text)
        if status >= 400:
            raise _status_error(status, body)
        if body is None or not 200 <= status < 300:
            raise CamAuthResponseError(f"Unexpected answer from CamAuth (HTTP {status})")
        return body

    async def health(self) -> None:
        """Check that a CamAuth answers at this address (no key needed)."""
        body = await self._request("GET", "health", auth=False)
        if not isinstance(body, dict) or body.get("status") != "ok":
            raise CamAuthResponseError("Not a CamAuth health answer")

    async def profile(self) -> Profile:
        """Who the key belongs to."""
        return _parse(_profile, await self._request("GET", "profile"), "profile")

    async def stats(self) -> Stats:
        """The current statistics."""
        return _parse(_stats, await self._request("GET", "stats"), "statistics")

    async def validate(self) -> Stats:
        """Everything set-up needs: a CamAuth, a valid key, the admin role; its stats."""
        try:
            await self.health()
        except (CamAuthRequestError, CamAuthAuthenticationError) as err:
            raise CamAuthResponseError(f"No CamAuth answers at {self._url}") from err
        try:
            profile = await self.profile()
        except CamAuthRequestError as err:
            raise CamAuthResponseError(f"No CamAuth answers at {self._url}") from err
        if profile.role != "admin":
            raise CamAuthNotAdminError(f"The key of {profile.username} has no admin role")
        return await self.stats()

    async def warnings(self) -> list[ConfigWarning]:
        """Configuration problems CamAuth reports (none from a CamAuth too old to say)."""
        try:
            body = await self._request("GET", "warnings")
        except CamAuthNotFoundError:
            return []
        return _parse(_warnings, body, "warnings")

    async def lockouts(self) -> list[Lockout]:
        """The active lockouts."""
        body = await self._request("GET", "lockouts")
        return _parse(lambda data: [_lockout(item) for item in data], body, "lockouts")

    async def lift_lockout(self, lockout_id: int) -> bool:
        """Lift one lockout; False when it had already ended."""
        try:
            await self._request("DELETE", "lockouts", str(lockout_id))
        except CamAuthNotFoundError:
            return False
        return True

    async def lift_all_lockouts(self) -> int:
        """Lift every lockout; how many there were."""
        body = await self._request("DELETE", "lockouts")
        return _parse(lambda data: _typed(data["lifted"], int), body, "answer")

    async def reset_password(self, username: str, password: str | None = None) -> str | None:
        """Set a user's password, or have one generated: the generated one is returned."""
        payload = {} if password is None else {"password": password}
        body = await self._request("POST", "users", username, "reset_password", json=payload)
        return _parse(lambda data: _optional_str(data.get("password")), body, "answer")

    async def revoke_sessions(self, username: str) -> int:
        """End every session of a user; how many there were."""
        body = await self._request("POST", "users", username, "revoke_sessions", json={})
        return _parse(lambda data: _typed(data["revoked"], int), body, "answer")

    async def listen(self) -> AsyncIterator[StreamMessage]:
        """Follow the event stream; ends only by raising a ``CamAuthError``."""
        try:
            ws = await self._session.ws_connect(
                self._endpoint("ws"),
                headers={API_KEY_HEADER: self._api_key},
                heartbeat=WS_HEARTBEAT,
                timeout=aiohttp.ClientWSTimeout(ws_close=REQUEST_TIMEOUT),
            )
        except aiohttp.WSServerHandshakeError as err:
            raise _status_error(err.status, None) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            raise CamAuthConnectionError(f"Cannot open the event stream: {_describe(err)}") from err
        async with ws:
            async for frame in ws:
                if frame.type is aiohttp.WSMsgType.TEXT:
                    message = _parse(_message, _json_or_none(frame.data), "stream message")
                    if message is not None:
                        yield message
            code = ws.close_code
        if code == WS_CLOSE_REVOKED:
            raise CamAuthAuthenticationError("CamAuth revoked the API key")
        if code == WS_CLOSE_NOT_ADMIN:
            raise CamAuthNotAdminError("The API key lost the admin role")
        raise CamAuthConnectionError(f"The event stream closed (code {code})")


def _describe(err: Exception) -> str:
    """An exception in words (a timeout has none of its own)."""
    return str(err) or type(err).__name__


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _status_error(status: int, body: Any) -> CamAuthError:
    """The error for a refused request, with CamAuth's message and code when it sent them."""
    error = body.get("error") if isinstance(body, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    message = error if isinstance(error, str) else f"HTTP {status}"
    if status == 401:
        return CamAuthAuthenticationError(message)
    if status == 403:
        return CamAuthNotAdminError(message)
    if status >= 500:
        return CamAuthConnectionError(f"CamAuth failed: {message}")
    kind = CamAuthNotFoundError if status == 404 else CamAuthRequestError
    return kind(status, message, code if isinstance(code, str) else None)
