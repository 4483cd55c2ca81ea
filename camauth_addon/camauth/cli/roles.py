"""``camauth roles``: custom roles from the shell (a running service sees changes in 1 s)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..core.cameras import PRESETS
from ..core.roles import Role, parse_role, validate_role_name
from ..core.services import Services
from ..errors import CamAuthError
from .shell import SHELL, Prompt


def add_parser(commands: Any, data_dir_option: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``roles`` and its sub-commands."""
    roles = commands.add_parser("roles", help="manage roles (what each may do on the camera UI)")
    data_dir_option(roles)
    actions = roles.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list roles and what they allow")
    add = actions.add_parser("add", help="add (or, with --replace, change) a custom role")
    add.add_argument("name")
    add.add_argument("--description", default="")
    add.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="'METHODS PATTERN'",
        help="a rule, e.g. 'GET,HEAD /api/events/**' ('*' one segment, '**' any); repeatable",
    )
    add.add_argument(
        "--preset", action="append", default=[], choices=list(PRESETS), help="repeatable"
    )
    add.add_argument("--camera", action="append", default=None, help="only this camera; repeatable")
    add.add_argument("--replace", action="store_true", help="change an existing role")
    delete = actions.add_parser("delete", help="delete a custom role nobody holds")
    delete.add_argument("name")
    for sub in (listing, add, delete):
        data_dir_option(sub)


def _rule(text: str) -> dict[str, Any]:
    methods, _, paths = text.strip().partition(" ")
    if not paths.strip():
        raise CamAuthError(f"--allow needs 'METHODS PATTERN', got {text!r}")
    return {"methods": methods.split(","), "paths": paths.split()}


def _describe(role: Role) -> str:
    rules = "; ".join(
        f"{','.join(sorted(rule.methods))} {' '.join(rule.paths)}" for rule in role.rules
    )
    cameras = ",".join(role.cameras) if role.cameras is not None else "all cameras"
    if role.is_admin:
        rules = "everything"
    return f"{role.name}\t{rules or '-'}\tpresets: {','.join(role.presets) or '-'}\t{cameras}"


async def dispatch(services: Services, args: argparse.Namespace, _prompt: Prompt) -> None:
    """Carry out one ``roles`` action."""
    if args.action == "list":
        book = services.roles.book
        for name in book.names():
            role = book.get(name)
            if role is not None:
                print(_describe(role))
    elif args.action == "add":
        raw = {
            "description": args.description,
            "rules": [_rule(text) for text in args.allow],
            "presets": args.preset,
            "cameras": args.camera,
        }
        role = parse_role(validate_role_name(args.name), raw)
        await services.roles.save(role, SHELL, create=not args.replace)
        print(f"{'Changed' if args.replace else 'Added'} role {role.name}")
    elif args.action == "delete":
        await services.roles.delete(args.name, SHELL)
        print(f"Deleted role {args.name}")
