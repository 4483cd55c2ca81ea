"""Running a shell command on the services of an existing data directory."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from ..const import DATABASE_FILE
from ..core.roles import validate_role
from ..core.services import Services, open_services
from ..core.sessions import Actor
from ..errors import CamAuthError
from ..options import AuthSettings

Prompt = Callable[[str], str]
Action = Callable[[Services, argparse.Namespace, Prompt], Awaitable[None]]

ROLES_HELP = "admin, viewer, or a custom role (camauth roles list)"


def role_name(value: str) -> str:
    """A role's name of the right form (whether it exists is the service's to say)."""
    try:
        return validate_role(value)
    except CamAuthError as err:
        raise argparse.ArgumentTypeError(err.message) from err


# Who the audit log names for changes made from the shell.
SHELL = Actor("shell", None, "shell")


class Shell:
    """One command against the database of ``data_dir``, through the services."""

    def __init__(self, data_dir: Path) -> None:
        """Remember the data directory."""
        self.data_dir = data_dir

    def run(self, action: Action, args: argparse.Namespace, prompt: Prompt) -> int:
        """Carry out ``action``; 1 with one line on stderr when it fails."""
        if not (self.data_dir / DATABASE_FILE).is_file():
            print(
                f"camauth: no CamAuth database in {self.data_dir} "
                "(use --data-dir, or start 'camauth serve' there once)",
                file=sys.stderr,
            )
            return 1
        try:
            asyncio.run(self._run(action, args, prompt))
        except CamAuthError as err:
            print(f"camauth: {err.message}", file=sys.stderr)
            return 1
        return 0

    async def _run(self, action: Action, args: argparse.Namespace, prompt: Prompt) -> None:
        services = await open_services(self.data_dir, AuthSettings())
        try:
            await action(services, args, prompt)
        finally:
            await services.close()
