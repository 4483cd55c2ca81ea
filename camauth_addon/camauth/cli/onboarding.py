"""First start: make sure an admin exists, and show a generated password once."""

from __future__ import annotations

import sys
from typing import TextIO

from ..const import ADMIN_USERNAME, ROLE_ADMIN
from ..core.services import Services
from ..core.sessions import Actor
from ..core.users import generate_password


async def ensure_admin(services: Services, *, reset: bool) -> str | None:
    """Create ``admin`` when there are no users, or reset its password; returns it to show once."""
    users, actor = services.users, Actor("camauth")
    if reset:
        password = generate_password()
        if await users.get(ADMIN_USERNAME) is None:
            await users.create(ADMIN_USERNAME, password, ROLE_ADMIN, actor, generated=True)
        else:
            await users.set_password(ADMIN_USERNAME, password, actor, generated=True)
    elif await users.count() == 0:
        password = generate_password()
        await users.create(ADMIN_USERNAME, password, ROLE_ADMIN, actor, generated=True)
    else:
        return None
    if users.first_password is not None:  # for the owner, in the Home Assistant panel
        users.first_password.keep(password)
    return password


def print_banner(
    password: str, url: str, *, reset: bool, listening: str = "", stream: TextIO = sys.stderr
) -> None:
    """The one place a password is ever printed: a banner on stderr, not a log line."""
    title = "Admin password RESET (auth.reset_admin_password)" if reset else "Welcome to CamAuth"
    lines = [
        title,
        "",
        *([f"  Listening:  {listening}"] if listening else []),
        f"  Log in at:  {url}",
        f"  Username:   {ADMIN_USERNAME}",
        f"  Password:   {password}",
        "",
        "This password is shown only now. Change it after logging in.",
    ]
    if reset:
        lines.append("Set auth.reset_admin_password back to false, or it resets on every start.")
    width = max(len(line) for line in lines) + 4
    border = "*" * width
    body = "\n".join(f"* {line.ljust(width - 4)} *" for line in lines)
    stream.write(f"\n{border}\n{body}\n{border}\n\n")
    stream.flush()
