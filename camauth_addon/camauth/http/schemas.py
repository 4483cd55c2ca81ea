"""What the API answers, as voluptuous schemas: the shapes of its JSON, its errors, its replies.

The route table (``app.route_table``) names for each route its success :class:`Reply` and the
:class:`Failure` answers specific to it; the OpenAPI document is generated from that table
(``camauth.http.openapi``). A :class:`Shape` is a named voluptuous schema: it validates an
answer (the tests check real answers with it) and becomes one entry of the document's
``components/schemas``. Plain string keys of a shape are required; ``vol.Optional`` marks the
others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from ..const import ROLES, VERSION
from ..core.events import EVENT_TYPES
from ..core.identity import SOURCE_API_KEY, SOURCE_DISABLED, SOURCE_INGRESS, SOURCE_SESSION
from ..core.lockouts import KIND_CLIENT, KIND_USERNAME
from ..core.logins import INVALID_CREDENTIALS
from ..core.passwords import MAX_LENGTH, MIN_LENGTH
from ..core.policy import NOT_IN_ROLE, OUTSIDE_PATHS, READ_ONLY
from ..core.roles import ROLE_NAME
from ..core.warnings import COOKIE_NOT_SECURE, FORWARDED_FOR_UNTRUSTED


def _required(tree: Any) -> Any:
    """The same schema with every plain string key of its mappings made ``vol.Required``."""
    if isinstance(tree, dict):
        return {
            vol.Required(key) if isinstance(key, str) else key: _required(value)
            for key, value in tree.items()
        }
    if isinstance(tree, list):
        return [_required(item) for item in tree]
    if isinstance(tree, vol.Any):
        return vol.Any(*(_required(item) for item in tree.validators))
    return tree


@dataclass(frozen=True, slots=True)
class Shape:
    """A named shape of JSON: validates a value, and is one schema of the document."""

    name: str
    schema: vol.Schema
    description: str = ""
    example: Any = None

    def __call__(self, value: Any) -> Any:
        """Validate like the schema (so a shape can sit inside other schemas)."""
        return self.schema(value)


def shape(
    name: str,
    schema: Any,
    description: str = "",
    *,
    example: Any = None,
    extra: int = vol.PREVENT_EXTRA,
) -> Shape:
    """A :class:`Shape`; ``extra`` is voluptuous' (default: no other keys)."""
    return Shape(name, vol.Schema(_required(schema), extra=extra), description, example)


@dataclass(frozen=True, slots=True)
class Reply:
    """A route's success answer: status, what it means, its JSON body and headers.

    ``body`` is a voluptuous schema (a :class:`Shape`, or ``[Shape]`` for a list), or None
    for no body. ``headers`` name entries of the document's ``components/headers``.
    """

    status: int
    description: str
    body: Any = None
    headers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Failure:
    """An error a route answers: ``{"error": message, "code": code}`` with this status.

    ``message`` is the exact text, or an example of it when it names a field or a value;
    ``when`` says in which case, when the message does not.
    """

    status: int
    message: str
    code: str
    when: str = ""


SECONDS = "Seconds since 1970-01-01 UTC."
# Examples for the document, not credentials of anything.
EXAMPLE_PASSWORD = "correct horse battery"  # noqa: S105  # nosec B105
EXAMPLE_NEW_PASSWORD = "tangerine comet 9"  # noqa: S105  # nosec B105
EXAMPLE_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"  # noqa: S105  # nosec B105

ROLE = shape(
    "Role",
    vol.Match(f"^{ROLE_NAME.pattern}$"),
    "`admin`: everything. `viewer`: read-only (safe methods: GET, HEAD, OPTIONS) on the camera "
    "UI and the API, plus the read-only POSTs of camera systems; no management. Or the name "
    "of a custom role (`GET /api/roles`).",
)
EVENT_TYPE = shape("EventType", vol.In(list(EVENT_TYPES)), "What happened.")

ERROR = shape(
    "Error",
    {
        vol.Required("error", description="A human-readable reason, in English."): str,
        vol.Required(
            "code",
            description="What went wrong, as a stable translation key (each operation lists "
            "the codes it can answer).",
        ): str,
    },
    "Every error CamAuth answers, whatever the status.",
    example={"error": "Authentication required", "code": "unauthorized"},
)
SUCCESS = shape(
    "Success",
    {"success": True},
    "The answer of an action that has nothing else to say.",
    example={"success": True},
)
HEALTH = shape("Health", {"status": "ok"}, "The process answers.", example={"status": "ok"})
VERSION_INFO = shape("Version", {"version": str}, example={"version": VERSION})
AUTH_STATUS = shape(
    "AuthStatus",
    {
        vol.Required("auth_enabled", description="Whether `auth.enabled` is on."): bool,
        vol.Required(
            "login_url",
            description="Where the login page is: `auth.login_url`, else `/camauth/login`.",
        ): str,
        vol.Required(
            "logout_url", description="`proxy.logout_url`, or null when none is set."
        ): vol.Any(None, str),
        vol.Required(
            "homeassistant_login",
            description="Whether Home Assistant accounts can sign in (the add-on, with "
            "`auth.homeassistant_login` on).",
        ): bool,
        "version": str,
    },
    "Whether authentication is on, and where to log in and out.",
    example={
        "auth_enabled": True,
        "login_url": "/camauth/login",
        "logout_url": None,
        "homeassistant_login": False,
        "version": VERSION,
    },
)
DOCUMENT = shape("OpenApiDocument", {}, "This document.", extra=vol.ALLOW_EXTRA)

LOGIN_RESULT = shape(
    "LoginResult",
    {
        vol.Required(
            "token",
            description="An HS256 JWT naming a server-side session; send it as "
            "`Authorization: Bearer <token>`. It is valid only while its session is.",
        ): str,
        vol.Required(
            "expires_at", description="When the session ends (UTC, whole seconds, with a `Z`)."
        ): vol.Datetime(format="%Y-%m-%dT%H:%M:%SZ"),
        "username": str,
        "role": ROLE,
    },
    "A new session: its token (also set as the `camauth_token` cookie).",
    example={
        "token": EXAMPLE_TOKEN,
        "expires_at": "2026-01-31T12:00:00Z",
        "username": "alice",
        "role": "viewer",
    },
)
PROFILE = shape(
    "Profile",
    {
        vol.Required(
            "username",
            description="The user, the API key's name, or `anonymous` when auth is disabled.",
        ): str,
        "role": ROLE,
        vol.Required(
            "auth_method",
            description="`session`: the cookie or a bearer token; `api_key`: `X-API-Key`; "
            "`ingress`: a Home Assistant user through the sidebar panel (an admin); "
            "`disabled`: `auth.enabled` is off and every caller is an admin.",
        ): vol.In([SOURCE_SESSION, SOURCE_API_KEY, SOURCE_INGRESS, SOURCE_DISABLED]),
    },
    "Who the caller is.",
    example={"username": "alice", "role": "viewer", "auth_method": "session"},
)
USER = shape(
    "User",
    {
        "username": str,
        "role": ROLE,
        vol.Required("created_at", description=SECONDS): float,
        vol.Required(
            "source",
            description="`local`, or `homeassistant` for a Home Assistant account (its "
            "password is Home Assistant's).",
        ): vol.In(["local", "homeassistant"]),
    },
    "A user; never the password or its hash.",
    example={"username": "alice", "role": "viewer", "created_at": 1767225600.0, "source": "local"},
)
PASSWORD_RESET_RESULT = shape(
    "PasswordResetResult",
    {
        "success": True,
        vol.Required("username", description="The name as given in the path."): str,
        vol.Optional(
            "password",
            description="The generated password, only when none was given; shown once.",
        ): str,
    },
    example={"success": True, "username": "alice", "password": EXAMPLE_NEW_PASSWORD},
)
REVOKE_SESSIONS_RESULT = shape(
    "RevokeSessionsResult",
    {"success": True, vol.Required("revoked", description="Sessions ended."): int},
    example={"success": True, "revoked": 2},
)
API_KEY = shape(
    "ApiKey",
    {
        "id": int,
        vol.Required("name", description="Also the `Remote-User` of requests made with it."): str,
        "role": ROLE,
        vol.Required(
            "prefix", description="The key's non-secret prefix, to recognise it."
        ): vol.Match(r"^[0-9a-f]{8}$"),
        vol.Required("paths", description="Webhook path prefixes; empty for an ordinary key."): [
            str
        ],
        vol.Required("created_at", description=SECONDS): float,
        vol.Required(
            "last_used_at", description=SECONDS + " Recorded about once a minute."
        ): vol.Any(None, float),
    },
    "A stored API key; never its secret.",
    example={
        "id": 3,
        "name": "home assistant",
        "role": "admin",
        "prefix": "1f2e3d4c",
        "paths": [],
        "created_at": 1767225600.0,
        "last_used_at": None,
    },
)
NEW_API_KEY = shape(
    "NewApiKey",
    {
        **API_KEY.schema.schema,
        vol.Required(
            "key", description="The key to send as `X-API-Key`; shown only in this answer."
        ): vol.Match(r"^camauth_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$"),
    },
    "A key just created: the only answer that carries its secret.",
    example={
        "id": 4,
        "name": "nvr",
        "role": "viewer",
        "prefix": "9a8b7c6d",
        "paths": ["/triggers"],
        "created_at": 1767225600.0,
        "last_used_at": None,
        "key": "camauth_9a8b7c6d_" + "x" * 43,
    },
)
LOCKOUT = shape(
    "Lockout",
    {
        "id": int,
        "kind": vol.In([KIND_CLIENT, KIND_USERNAME]),
        vol.Required(
            "key", description="The address (IPv6 counts per /64) or the normalised username."
        ): str,
        vol.Required("started_at", description=SECONDS): float,
        vol.Required("until", description=SECONDS): float,
        vol.Required("retry_after", description="Seconds left, rounded."): int,
        vol.Required("client", description="The address whose failed login started it."): str,
    },
    "A client address or username that may not try to log in until `until`.",
    example={
        "id": 1,
        "kind": "client",
        "key": "192.168.1.20",
        "started_at": 1767225600.0,
        "until": 1767225660.0,
        "retry_after": 42,
        "client": "192.168.1.20",
    },
)
CUSTOM_ROLE = shape(
    "RoleDefinition",
    {
        "name": str,
        "description": str,
        vol.Required("rules", description="What the role may do; nothing else is allowed."): [
            {"paths": [str], "methods": [str]}
        ],
        "presets": [str],
        vol.Required("cameras", description="Only these cameras; null: every camera."): vol.Any(
            None, [str]
        ),
        vol.Required("builtin", description="admin and viewer cannot be changed."): bool,
    },
    "A role and what it allows on the camera UI.",
    example={
        "name": "family",
        "description": "The front door only, live",
        "rules": [{"paths": ["/api/front_door/**"], "methods": ["GET"]}],
        "presets": ["go2rtc_webrtc"],
        "cameras": ["front_door"],
        "builtin": False,
    },
)
PRESET = shape(
    "Preset",
    {"name": str, "description": str, "methods": [str]},
    "A named read-only POST of a camera system.",
    example={"name": "go2rtc_webrtc", "description": "go2rtc's WebRTC offer", "methods": ["POST"]},
)
SESSION = shape(
    "Session",
    {
        vol.Required(
            "id", description="Names the session in this list; it is not a credential."
        ): str,
        "username": str,
        vol.Required("created_at", description=SECONDS): float,
        vol.Required("expires_at", description=SECONDS): float,
        vol.Required("last_seen", description="When it was last used, or null."): vol.Any(
            None, float
        ),
        vol.Required("client", description="The address it was started from."): str,
        vol.Required("user_agent", description="The browser that started it."): str,
    },
    "A live login session.",
    example={
        "id": "3f6c1a9e0b2d4c57",
        "username": "alice",
        "created_at": 1767225600.0,
        "expires_at": 1767312000.0,
        "last_seen": 1767229200.0,
        "client": "192.168.1.20",
        "user_agent": "Mozilla/5.0 (Android 15)",
    },
)
FIRST_PASSWORD = shape(
    "FirstPassword",
    {"username": str, "password": str},
    "The password CamAuth generated for `admin`, shown until it is changed.",
    example={"username": "admin", "password": "tLQudUTqaYg-8YmDB9udjffh"},  # nosec B105
)
LIFT_ALL_RESULT = shape(
    "LiftAllResult",
    {"success": True, vol.Required("lifted", description="Lockouts lifted."): int},
    example={"success": True, "lifted": 1},
)
_EVENT = {
    "type": EVENT_TYPE,
    vol.Required("timestamp", description=SECONDS): float,
    "username": vol.Any(None, str),
    vol.Required("client", description="The client address."): vol.Any(None, str),
    vol.Required(
        "detail",
        description="Depends on the type (for example `by`, `role`, `old_role`, `key_id`, "
        "`lockout_id`, `kind`, `until`, `reason`, `purpose`); never a password, token or key.",
    ): dict,
}
EVENT = shape(
    "Event",
    _EVENT,
    "A security event, as the WebSocket streams it.",
    example={
        "type": "login_failed",
        "timestamp": 1767225600.5,
        "username": "alice",
        "client": "192.168.1.20",
        "detail": {},
    },
)
AUDIT_EVENT = shape(
    "AuditEvent",
    {
        vol.Required(
            "id", description="Increasing; pass the smallest one of a page as `before` to page."
        ): int,
        **_EVENT,
    },
    "An event as stored in the audit log, with its id.",
    example={"id": 42, **EVENT.example},
)
_LAST_LOGIN = {"username": vol.Any(None, str), "timestamp": float, "client": vol.Any(None, str)}
STATS = shape(
    "Stats",
    {
        vol.Required(
            "instance_id", description="This CamAuth's identity, stable across restarts."
        ): str,
        vol.Required("users", description="How many users hold each role, and in all."): {
            **{role: int for role in ROLES},
            "total": int,
        },
        vol.Required(
            "admin_password_generated",
            description="Whether `admin` still has the generated first password.",
        ): bool,
        vol.Required("user_activity", description="Each user, by name."): [
            {
                "username": str,
                "role": ROLE,
                vol.Required("last_login", description=SECONDS): vol.Any(None, float),
                "last_login_client": vol.Any(None, str),
                "active_sessions": int,
                vol.Required(
                    "locked_out", description="Whether the username is locked out now."
                ): bool,
            }
        ],
        "failed_logins_last_hour": int,
        "failed_logins_last_day": int,
        "failed_logins_total": int,
        vol.Required("last_login", description="The latest successful login, or null."): vol.Any(
            None, _LAST_LOGIN
        ),
        "active_sessions": int,
        "lockouts": [LOCKOUT],
        "auth_enabled": bool,
        "version": str,
        vol.Required("timestamp", description="When these figures were taken."): float,
    },
    "The statistics, cheap to poll.",
)
WARNING = shape(
    "Warning",
    {
        vol.Required("id", description="Stable; also the translation key."): vol.In(
            [FORWARDED_FOR_UNTRUSTED, COOKIE_NOT_SECURE]
        ),
        "message": str,
        vol.Required("since", description="When it was first seen. " + SECONDS): float,
        vol.Optional(
            "peer",
            description=f"The peer that sent `X-Forwarded-For` (`{FORWARDED_FOR_UNTRUSTED}`).",
        ): str,
    },
    "A configuration problem CamAuth has seen in the requests it serves.",
)
WARNINGS = shape(
    "Warnings",
    {vol.Required("warnings", description="In the order first seen."): [WARNING]},
    example={"warnings": []},
)
STREAM_MESSAGE = shape(
    "StreamMessage",
    vol.Any(
        {"type": "hello", "version": str, "stats": STATS},
        {"type": "event", "event": EVENT},
        {"type": "stats", "stats": STATS},
    ),
    "A JSON text frame of the `/api/ws` stream, server to client: `hello` once, first; then "
    "an `event` for each event, and `stats` after every minute without one.",
)

# Errors specific to some routes (the generic ones follow from the route's access and body).
USER_NOT_FOUND = Failure(404, "User not found", "user_not_found")
USER_EXISTS = Failure(
    409, "User already exists", "user_exists", "a name equal regardless of case is taken"
)
LAST_ADMIN = Failure(409, "The last admin cannot be removed or demoted", "last_admin")
API_KEY_NOT_FOUND = Failure(404, "API key not found", "api_key_not_found")
API_KEY_EXISTS = Failure(409, "An API key with this name exists", "api_key_exists")
LOCKOUT_NOT_FOUND = Failure(404, "Lockout not found", "lockout_not_found")
ROLE_NOT_FOUND = Failure(404, "Role not found", "role_not_found")
ROLE_EXISTS = Failure(409, "A role with this name exists", "role_exists")
ROLE_IN_USE = Failure(
    409, "The role is held by 1 user(s) and 0 API key(s)", "role_in_use", "someone holds it"
)
BUILTIN_ROLE = Failure(400, "'viewer' is a built-in role", "builtin_role")
INVALID_ROLE_BODY = Failure(
    400,
    "Not a path pattern: 'api/x' (absolute, '*' for a segment, '**' for any)",
    "invalid_role",
    "a rule's pattern or method, a preset or the cameras are not valid",
)
SESSION_NOT_FOUND = Failure(404, "Session not found", "session_not_found")
NO_FIRST_PASSWORD = Failure(
    404,
    "No generated password to show",
    "no_first_password",
    "admin has changed the generated password (or never had one)",
)
INGRESS_ONLY = Failure(
    403,
    "Only through the Home Assistant panel",
    "ingress_required",
    "asked on the gateway port instead of through Home Assistant's ingress",
)
INVALID_QUERY = Failure(
    400,
    "Query parameter 'limit' must be between 1 and 500",
    "invalid_query",
    "a query parameter is unknown, repeated or malformed",
)
BAD_CREDENTIAL = Failure(
    400,
    "Duplicate session cookie",
    "bad_credential",
    "ambiguous credentials: a repeated `Authorization`, `X-API-Key` or `Cookie` header, or "
    "two `camauth_token` cookies",
)
BAD_HANDSHAKE = Failure(400, "Bad Request", "bad_request", "not a WebSocket handshake")
CROSS_SITE = Failure(
    403,
    "Cross-site request refused",
    "cross_site",
    "a browser's request from another site (`Sec-Fetch-Site: cross-site`, or an `Origin` "
    "other than this host)",
)
INVALID_LOGIN = Failure(
    401, INVALID_CREDENTIALS, "invalid_credentials", "any wrong name or password, alike"
)
WRONG_PASSWORD = Failure(401, "Current password is incorrect", "wrong_password")
MEDIAMTX_UNAUTHORIZED = Failure(
    401,
    "Authentication required",
    "unauthorized",
    "no token, key or username, or a token or key that is not (or no longer) valid",
)
MEDIAMTX_REFUSED = Failure(
    403,
    "Not allowed to publish front_door",
    "not_in_role",
    "the identity's role does not allow this action on this path",
)
MEDIAMTX_PATH = Failure(
    403,
    "Not a MediaMTX path CamAuth can judge",
    "path_refused",
    "the path has characters MediaMTX path names do not, or dot segments",
)
NO_HOME_ASSISTANT = Failure(
    400,
    "Signing in with Home Assistant works only in the add-on",
    "no_homeassistant",
    "`source` is `homeassistant` outside the add-on, or with `auth.homeassistant_login` off",
)
HOME_ASSISTANT_UNAVAILABLE = Failure(
    503,
    "Home Assistant cannot check passwords right now; try again shortly",
    "homeassistant_unavailable",
    "the Supervisor did not answer the password check",
)
RATE_LIMITED = Failure(
    429,
    "Too many failed logins, try again later",
    "rate_limited",
    "this client or username is over its failed-login limit or locked out; checked before "
    "the password",
)
BUSY = Failure(
    429,
    "Too many logins in progress, try again shortly",
    "busy",
    "too many password hashes are queued",
)
WEAK_PASSWORD = (
    Failure(400, f"Password must be at least {MIN_LENGTH} characters long", "password_too_short"),
    Failure(400, f"Password must be at most {MAX_LENGTH} characters long", "password_too_long"),
    Failure(400, "Password must not contain control characters", "password_invalid_characters"),
    Failure(
        400,
        "Password is too common; choose a longer phrase of unrelated words",
        "password_too_common",
    ),
    Failure(400, "Password must not contain the username", "password_contains_username"),
)
VIEWER_READ_ONLY = Failure(
    403, READ_ONLY.reason, READ_ONLY.key, "a viewer's proxied request with an unsafe method"
)
NOT_IN_ROLE_FAILURE = Failure(
    403, NOT_IN_ROLE.reason, NOT_IN_ROLE.key, "a custom role with no rule or preset for it"
)
OUTSIDE_KEY_PATHS = Failure(
    403, OUTSIDE_PATHS.reason, OUTSIDE_PATHS.key, "a webhook key outside its `paths`"
)
UNTRUSTED_PROXY = Failure(
    403,
    "The proxy asking is not in auth.trusted_proxies: its request cannot be judged",
    "untrusted_proxy",
    "headers describing the proxied request came from a peer not in `auth.trusted_proxies` "
    "(only admins pass then)",
)
PATH_REFUSED = Failure(
    403,
    "Path refused: it cannot be judged unambiguously",
    "path_refused",
    "the proxied path is not canonical (`%2F`, `//`, `.`, `..`), or the URI headers disagree",
)


def ok(body: Any) -> Reply:
    """The plain 200 answer with this body."""
    return Reply(200, "OK", body)


# The placeholders of route paths. A numeric id that is not 1-18 ASCII digits answers 404.
PATH_PARAMETERS = vol.Schema(
    {
        vol.Required("name", description="The username, matched regardless of case."): vol.All(
            str, vol.Length(min=1)
        ),
        vol.Required("key_id", description="The key's `id`."): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=10**18 - 1)
        ),
        vol.Required("lockout_id", description="The lockout's `id`."): vol.All(
            vol.Coerce(int), vol.Range(min=0, max=10**18 - 1)
        ),
        vol.Required("session_id", description="The session's `id` in the list."): vol.All(
            str, vol.Length(min=1, max=64)
        ),
    }
)
