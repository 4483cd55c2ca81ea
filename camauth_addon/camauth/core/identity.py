"""Who is making a request: an identity, and the credential it was proven with."""

from __future__ import annotations

from dataclasses import dataclass

from ..const import ROLE_ADMIN

SOURCE_SESSION = "session"
SOURCE_API_KEY = "api_key"
SOURCE_DISABLED = "disabled"  # auth.enabled is off: everyone is an anonymous admin
SOURCE_INGRESS = "ingress"  # a Home Assistant user through the Supervisor's ingress
SOURCE_PROXY = "proxy"  # a user an SSO proxy in front vouches for (header mode)


@dataclass(frozen=True, slots=True)
class Identity:
    """An authenticated caller, with the role they hold *now*."""

    username: str
    role: str
    method: str  # SOURCE_SESSION, SOURCE_API_KEY, SOURCE_INGRESS or SOURCE_DISABLED
    session_id: str = ""
    paths: tuple[str, ...] = ()  # an API key limited to these forward-auth paths (webhooks)
    email: str = ""  # known for users of an SSO proxy
    name: str = ""
    groups: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role == ROLE_ADMIN


@dataclass(frozen=True, slots=True)
class Credential:
    """A token or key presented by a request, and how."""

    token: str
    source: str  # "bearer", "api_key" or "cookie"
