"""``camauth keys``: manage API keys from the shell (a running service sees changes in 1 s)."""

from __future__ import annotations

import argparse
import sqlite3
import time
from typing import Any

from . import api_keys as keys_db
from .audit import insert_events
from .const import DATA_DIR_ENV, ROLE_VIEWER, ROLES
from .errors import NotFound
from .events import API_KEY_CREATED, API_KEY_REVOKED, Event

SHELL = "shell"


def add_parser(commands: Any) -> None:
    """Register ``keys`` and its sub-commands."""
    keys = commands.add_parser("keys", help="manage API keys (X-API-Key)")
    keys.add_argument("--data-dir", help=f"data directory (env {DATA_DIR_ENV})")
    actions = keys.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list keys (never their secrets)")
    add = actions.add_parser("add", help="create a key and print it once")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default=ROLE_VIEWER)
    add.add_argument(
        "--path",
        action="append",
        default=[],
        help="webhook key: allow forward-auth only under this path prefix (repeatable)",
    )
    revoke = actions.add_parser("revoke", help="revoke a key by id or name")
    revoke.add_argument("key", help="the key's id or name")


def _show(key: keys_db.ApiKey) -> str:
    used = (
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(key.last_used_at))
        if key.last_used_at
        else "never"
    )
    paths = ",".join(key.paths) or "-"
    return f"{key.id}\t{key.name}\t{key.role}\t{paths}\tlast used {used}"


def _find(conn: sqlite3.Connection, ref: str) -> keys_db.ApiKey:
    for key in keys_db.list_keys(conn):
        if str(key.id) == ref or key.name.casefold() == ref.casefold():
            return key
    raise NotFound("API key not found")


def dispatch(args: argparse.Namespace, conn: sqlite3.Connection) -> None:
    """Carry out one ``keys`` action."""
    if args.action == "list":
        for key in keys_db.list_keys(conn):
            print(_show(key))
    elif args.action == "add":
        name = keys_db.validate_name(args.name)
        paths = keys_db.validate_paths(args.path)
        secret, prefix, digest = keys_db.new_key()
        key = keys_db.create_key(conn, name, args.role, paths, prefix, digest)
        detail = {"key_id": key.id, "name": key.name, "role": key.role, "paths": list(paths)}
        insert_events(conn, [Event(API_KEY_CREATED, time.time(), SHELL, None, detail)])
        print(f"Created API key {key.name} ({key.role}). It is shown only now:\n{secret}")
    elif args.action == "revoke":
        key = keys_db.delete_key(conn, _find(conn, args.key).id)
        detail = {"key_id": key.id, "name": key.name}
        insert_events(conn, [Event(API_KEY_REVOKED, time.time(), SHELL, None, detail)])
        print(f"Revoked API key {key.name}")
