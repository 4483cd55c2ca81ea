"""MediaMTX's external authentication (``authMethod: http``).

MediaMTX asks ``POST /api/auth/mediamtx`` before every read, publish, playback or API call,
with a JSON body of ``user``, ``password``, ``token``, ``ip``, ``action``, ``path``,
``protocol``, ``id`` and ``query``; any 2xx answer lets the client in. CamAuth accepts a session
token or API key (as ``token``, or ``jwt=`` in ``query``), or a username and password (through
the login guard: limits, lockouts and events, as any login), and judges the MediaMTX path with
the same roles and rules as everything else: reading needs what reading a stream over WebRTC or
HLS needs; publishing needs an admin, or an API key whose paths include the stream; MediaMTX's
``api``, ``metrics`` and ``pprof`` need an admin.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl

import voluptuous as vol
from aiohttp import web

from ...core.identity import Credential, Identity
from ...core.policy import Target, decide, within
from ...errors import Forbidden, Unauthorized
from ..app_keys import SERVICES, SETTINGS
from ..client_ip import peer_is_trusted, resolve_client
from ..context import client_of
from ..request import read_json
from ..responses import success

ACTIONS = ("read", "playback", "publish", "api", "metrics", "pprof")
_PATH = re.compile(r"[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)*")
_TEXT = vol.All(str, vol.Length(max=4096))
BODY_SCHEMA = vol.Schema(
    {
        vol.Required("action"): vol.In(ACTIONS),
        vol.Optional("path", default=""): vol.All(str, vol.Length(max=1024)),
        vol.Optional("user", default=""): _TEXT,
        vol.Optional("password", default=""): _TEXT,
        vol.Optional("token", default=""): _TEXT,
        vol.Optional("ip", default=""): vol.All(str, vol.Length(max=64)),
        vol.Optional("protocol", default=""): vol.All(str, vol.Length(max=16)),
        vol.Optional("id", default=""): vol.Any(None, vol.All(str, vol.Length(max=128))),
        vol.Optional("query", default=""): _TEXT,
    },
    extra=vol.REMOVE_EXTRA,  # MediaMTX may add fields in later versions
)


def _client(request: web.Request, told: str) -> str:
    """The viewer's address: MediaMTX's word for it, if MediaMTX is a trusted proxy."""
    trusted = request.app[SETTINGS].auth.trusted_proxies
    if told and peer_is_trusted(request, trusted):
        return resolve_client(request.remote, [told], trusted)
    return client_of(request)


def _token(body: dict[str, str]) -> str:
    if body["token"]:
        return body["token"]
    return next((value for name, value in parse_qsl(body["query"]) if name == "jwt"), "")


async def _identity(request: web.Request, body: dict[str, str], client: str) -> Identity:
    services = request.app[SERVICES]
    token = _token(body)
    if token:
        source = "api_key" if token.startswith("camauth_") else "bearer"
        found = services.authenticator.authenticate(Credential(token, source), time.time())
        if found is None:
            raise Unauthorized("Authentication required")
        return found.identity
    if not body["user"]:
        raise Unauthorized("Authentication required")  # MediaMTX then asks for credentials
    user = await services.logins.check_password(
        body["user"], body["password"], client, purpose="mediamtx"
    )
    return Identity(user.username, user.role, "password")


def allowed(identity: Identity, action: str, path: str, request: web.Request) -> bool:
    """Whether MediaMTX may let this identity do this action on this path."""
    roles = request.app[SERVICES].roles.book
    if action in ("api", "metrics", "pprof"):
        return identity.is_admin and not identity.paths
    if action == "publish":
        if identity.paths:
            return within(f"/{path}", identity.paths)
        return identity.is_admin
    # Reading is what watching the stream over WebRTC (WHEP) or HLS needs.
    return any(
        decide(identity, target, roles).allowed
        for target in (Target("POST", f"/{path}/whep"), Target("GET", f"/{path}/index.m3u8"))
    )


async def mediamtx(request: web.Request) -> web.Response:
    """Whether MediaMTX may let a client read, publish, play back or use its API."""
    body = await read_json(request, BODY_SCHEMA)
    path = body["path"].strip("/")
    if body["action"] in ("read", "playback", "publish") and not _PATH.fullmatch(path):
        raise Forbidden("Not a MediaMTX path CamAuth can judge", key="path_refused")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise Forbidden("Not a MediaMTX path CamAuth can judge", key="path_refused")
    client = _client(request, body["ip"])
    identity = await _identity(request, body, client)
    if not allowed(identity, body["action"], path, request):
        raise Forbidden(f"Not allowed to {body['action']} {path or 'this'}", key="not_in_role")
    return success()
