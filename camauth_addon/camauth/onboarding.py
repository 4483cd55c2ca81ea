"""First start: make sure an admin exists, and show a generated password once."""

from __future__ import annotations

import sys
from typing import TextIO

from . import users as users_db
from .accounts import Accounts, Actor, generate_password
from .const import ADMIN_USERNAME, ROLE_ADMIN


async def ensure_admin(accounts: Accounts, *, reset: bool) -> str | None:
    """Create ``admin`` when there are no users, or reset its password; returns it to show once."""
    actor = Actor("camauth")
    if reset:
        password = generate_password()
        if await accounts.get_user(ADMIN_USERNAME) is None:
            await accounts.create_user(
                ADMIN_USERNAME, password, ROLE_ADMIN, actor=actor, generated=True
            )
        else:
            await accounts.set_password(ADMIN_USERNAME, password, actor=actor, generated=True)
        return password
    if await accounts.db.run(users_db.count_users) == 0:
        password = generate_password()
        await accounts.create_user(
            ADMIN_USERNAME, password, ROLE_ADMIN, actor=actor, generated=True
        )
        return password
    return None


def print_banner(password: str, url: str, *, reset: bool, stream: TextIO = sys.stderr) -> None:
    """The one place a password is ever printed: a banner on stderr, not a log line."""
    title = "Admin password RESET (auth.reset_admin_password)" if reset else "Welcome to CamAuth"
    lines = [
        title,
        "",
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
