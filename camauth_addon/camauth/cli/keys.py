"""``camauth keys``: manage API keys from the shell (a running service sees changes in 1 s)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from ..const import ROLE_VIEWER
from ..core.api_keys import ApiKey, validate_name, validate_paths
from ..core.services import Services
from ..errors import NotFound
from .shell import ROLES_HELP, SHELL, Prompt, role_name


def add_parser(commands: Any, data_dir_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``keys`` and its sub-commands."""
    keys = commands.add_parser("keys", help="manage API keys (X-API-Key)")
    data_dir_option(keys)
    actions = keys.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    add = actions.add_parser("add", help="create a key and print it once")
    add.add_argument("name")
    add.add_argument("--role", type=role_name, default=ROLE_VIEWER, help=ROLES_HELP)
    add.add_argument(
        "--path",
        action="append",
        default=[],
        help="webhook key: allow forward-auth only under this path prefix (repeatable)",
    )
    revoke = actions.add_parser("revoke", help="revoke a key by id or name")
    revoke.add_argument("key", help="the key's id or name")
    for sub in (listing, add, revoke):
        data_dir_option(sub)


def _show(key: ApiKey) -> str:
    used = (
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(key.last_used_at))
        if key.last_used_at
        else "never"
    )
    paths = ",".join(key.paths) or "-"
    return f"{key.id}\t{key.name}\t{key.role}\t{paths}\tlast used {used}"


async def _find(services: Services, ref: str) -> ApiKey:
    for key in await services.keys.list():
        if str(key.id) == ref or key.name.casefold() == ref.casefold():
            return key
    raise NotFound("API key not found")


async def dispatch(services: Services, args: argparse.Namespace, _prompt: Prompt) -> None:
    """Carry out one ``keys`` action."""
    if args.action == "list":
        found = await services.keys.list()
        for key in found:
            print(_show(key))
        if not found:
            print("No API keys. Create one with: camauth keys add <name> [--role admin]")
    elif args.action == "add":
        name, paths = validate_name(args.name), validate_paths(args.path)
        created = await services.keys.create(name, args.role, paths, SHELL)
        key = created.key
        print(f"Created API key {key.name} ({key.role}). It is shown only now:\n{created.secret}")
    elif args.action == "revoke":
        key = await services.keys.revoke((await _find(services, args.key)).id, SHELL)
        print(f"Revoked API key {key.name}")
