"""``camauth users``: manage users from the shell, straight on the database.

A running service picks the changes up within a second (it watches SQLite's data_version).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import users as users_db
from .accounts import generate_password
from .const import DATA_DIR_ENV, DATABASE_FILE, ROLE_VIEWER, ROLES
from .errors import CamAuthError
from .passwords import check_policy, hash_password
from .server import prepare_data_dir
from .store import connect

Prompt = Callable[[str], str]


def add_parser(commands: Any) -> None:
    """Register ``users`` and its sub-commands."""
    users = commands.add_parser("users", help="manage users")
    users.add_argument("--data-dir", help=f"data directory (env {DATA_DIR_ENV})")
    actions = users.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list users and roles")
    add = actions.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default=ROLE_VIEWER)
    passwd = actions.add_parser("passwd", help="set a user's password (ends their sessions)")
    passwd.add_argument("username")
    for sub in (add, passwd):
        source = sub.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true", help="read it from stdin")
        source.add_argument("--generate", action="store_true", help="generate and print one")
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    delete = actions.add_parser("delete", help="delete a user")
    delete.add_argument("username")


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


def _new_hash(args: argparse.Namespace, prompt: Prompt) -> tuple[str, bool]:
    password, generated = _read_password(args, prompt)
    if not generated:
        check_policy(password, args.username)
    else:
        print(f"Generated password for {args.username}: {password}")
    return hash_password(password), generated


def with_database(
    data_dir: Path,
    action: Callable[[argparse.Namespace, sqlite3.Connection], None],
    args: argparse.Namespace,
) -> int:
    """Run a shell action on the database; 1 with a message on failure."""
    prepare_data_dir(data_dir)
    conn = connect(data_dir / DATABASE_FILE)
    try:
        action(args, conn)
    except CamAuthError as err:
        print(f"camauth: {err.message}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


def run(args: argparse.Namespace, data_dir: Path, prompt: Prompt) -> int:
    """Carry out one ``users`` action; 1 with a message on failure."""
    return with_database(data_dir, lambda a, conn: _dispatch(a, conn, prompt), args)


def _dispatch(args: argparse.Namespace, conn: sqlite3.Connection, prompt: Prompt) -> None:
    if args.action == "list":
        for user in users_db.list_users(conn):
            print(f"{user.username}\t{user.role}")
        return
    if args.action == "add":
        users_db.validate_username(args.username)
        if users_db.get_user(conn, args.username) is not None:
            raise CamAuthError("User already exists")
        password_hash, generated = _new_hash(args, prompt)
        users_db.create_user(conn, args.username, args.role, password_hash, generated=generated)
        print(f"Added {args.username} ({args.role})")
    elif args.action == "passwd":
        if users_db.get_user(conn, args.username) is None:
            raise CamAuthError("User not found")
        password_hash, generated = _new_hash(args, prompt)
        users_db.set_password(conn, args.username, password_hash, generated=generated)
        print(f"Password of {args.username} changed; their sessions have ended")
    elif args.action == "role":
        users_db.set_role(conn, args.username, args.role)
        print(f"{args.username} is now {args.role}")
    elif args.action == "delete":
        users_db.delete_user(conn, args.username)
        print(f"Deleted {args.username}")
