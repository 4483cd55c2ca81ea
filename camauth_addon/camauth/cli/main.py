"""The ``camauth`` command: ``serve``, ``users``, ``keys`` and ``version``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path

from ..const import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_INGRESS_PORT,
    DEFAULT_PORT,
    OPTIONS_FILE,
    VERSION,
)
from ..errors import ConfigError
from ..jwt_secret import find_jwt_secret, generate_jwt_secret
from ..logs import setup_logging
from ..options import load_options
from . import keys, roles, users
from .serve import ServeConfig, prepare_data_dir, run
from .shell import Shell

EXIT_CONFIG = 2
# Everything CamAuth writes (database, secrets, keys) is for this user only.
PRIVATE_UMASK = 0o077


def data_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--data-dir``, accepted before or after any sub-command."""
    parser.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help=f"data directory (env {DATA_DIR_ENV}, default {DEFAULT_DATA_DIR})",
    )


def _data_dir(args: argparse.Namespace) -> Path:
    value = getattr(args, "data_dir", None)
    return Path(value or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="camauth", description="Login gateway for camera UIs")
    parser.add_argument("--version", action="version", version=f"camauth {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    data_dir_option(serve)
    serve.add_argument("--options", help=f"options JSON file (default <data-dir>/{OPTIONS_FILE})")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"gateway port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--ingress-port",
        type=int,
        help=f"also serve the admin panel for Home Assistant's ingress on this port (the add-on "
        f"uses {DEFAULT_INGRESS_PORT}; outside it, bound to 127.0.0.1)",
    )

    users.add_parser(commands, data_dir_option)
    keys.add_parser(commands, data_dir_option)
    roles.add_parser(commands, data_dir_option)
    commands.add_parser("version", help="print the version")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Validate everything, then run the service."""
    data_dir = _data_dir(args)
    options = Path(args.options) if args.options else data_dir / OPTIONS_FILE
    try:
        settings = load_options(options if args.options or options.is_file() else None)
        secret = find_jwt_secret(data_dir, settings.jwt_secret)
    except ConfigError as err:
        print(f"camauth: {err}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(settings.log_level)
    try:
        prepare_data_dir(data_dir)
        secret = secret or generate_jwt_secret(data_dir)
        config = ServeConfig(data_dir, args.host, args.port, args.ingress_port)
        asyncio.run(run(settings, secret, config))
    except ConfigError as err:  # only found on starting: a certificate pair that does not load
        print(f"camauth: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as err:
        logging.getLogger(__name__).error("Cannot start: %s", err)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``camauth`` command."""
    os.umask(PRIVATE_UMASK)
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "users":
        return Shell(_data_dir(args)).run(users.dispatch, args, getpass.getpass)
    if args.command == "keys":
        return Shell(_data_dir(args)).run(keys.dispatch, args, getpass.getpass)
    if args.command == "roles":
        return Shell(_data_dir(args)).run(roles.dispatch, args, getpass.getpass)
    print(VERSION)
    return 0
