"""``camauth users``: manage users from the shell, through the same services as the API.

Every change is in the audit log, and a running service picks it up within a second (it
watches SQLite's data_version) and streams its event.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..const import ROLE_VIEWER
from ..core.names import validate_username
from ..core.services import Services
from ..core.users import generate_password
from ..errors import CamAuthError, NotFound
from .shell import ROLES_HELP, SHELL, Prompt, role_name


def add_parser(commands: Any, data_dir_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``users`` and its sub-commands."""
    users = commands.add_parser("users", help="manage users")
    data_dir_option(users)
    actions = users.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list users and roles")
    add = actions.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", type=role_name, default=ROLE_VIEWER, help=ROLES_HELP)
    passwd = actions.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("username")
    for sub in (add, passwd):
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true", help="read it from stdin")
        source.add_argument("--generate", action="store_true", help="generate and print one")
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", type=role_name, help=ROLES_HELP)
    delete = actions.add_parser("delete", help="delete a user")
    delete.add_argument("username")
    for sub in (listing, add, passwd, role, delete):
        data_dir_option(sub)


def _read_password(args: argparse.Namespace, prompt: Prompt) -> tuple[str, bool]:
    """The new password and whether it was generated."""
    if args.generate:
        return generate_password(), True
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if not sys.stdin.isatty():
        raise CamAuthError("no terminal: use --password-stdin or --generate")
    first = prompt("New password: ")
    if first != prompt("Repeat password: "):
        raise CamAuthError("the passwords do not match")
    return first, False


def _show_generated(args: argparse.Namespace, password: str, generated: bool) -> None:
    if generated:
        print(f"Generated password for {args.username}: {password}")


async def _add(services: Services, args: argparse.Namespace, prompt: Prompt) -> None:
    validate_username(args.username)
    if await services.users.get(args.username) is not None:
        raise CamAuthError("User already exists")
    password, generated = _read_password(args, prompt)
    await services.users.create(args.username, password, args.role, SHELL, generated=generated)
    _show_generated(args, password, generated)
    print(f"Added {args.username} ({args.role})")


async def _passwd(services: Services, args: argparse.Namespace, prompt: Prompt) -> None:
    if await services.users.get(args.username) is None:
        raise NotFound("User not found")
    password, generated = _read_password(args, prompt)
    await services.users.set_password(args.username, password, SHELL, generated=generated)
    _show_generated(args, password, generated)
    print(f"Password of {args.username} changed; their sessions have ended")


async def dispatch(services: Services, args: argparse.Namespace, prompt: Prompt) -> None:
    """Carry out one ``users`` action."""
    if args.action == "list":
        for user in await services.users.list():
            print(f"{user.username}\t{user.role}")
    elif args.action == "add":
        await _add(services, args, prompt)
    elif args.action == "passwd":
        await _passwd(services, args, prompt)
    elif args.action == "role":
        await services.users.set_role(args.username, args.role, SHELL)
        print(f"{args.username} is now {args.role}")
    elif args.action == "delete":
        await services.users.delete(args.username, SHELL)
        print(f"Deleted {args.username}")
