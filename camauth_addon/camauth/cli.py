"""The ``camauth`` command: ``serve``, ``users`` and ``version``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from pathlib import Path

from . import keys_cli, users_cli
from .const import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    OPTIONS_FILE,
    VERSION,
)
from .errors import ConfigError
from .jwt_secret import find_jwt_secret, generate_jwt_secret
from .logs import setup_logging
from .options import load_options
from .server import ServeConfig, prepare_data_dir, run

EXIT_CONFIG = 2


def _data_dir(value: str | None) -> Path:
    return Path(value or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="camauth", description="Login gateway for camera UIs")
    parser.add_argument("--version", action="version", version=f"camauth {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument(
        "--data-dir", help=f"data directory (env {DATA_DIR_ENV}, default {DEFAULT_DATA_DIR})"
    )
    serve.add_argument("--options", help=f"options JSON file (default <data-dir>/{OPTIONS_FILE})")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"gateway port (default {DEFAULT_PORT})"
    )

    users_cli.add_parser(commands)
    keys_cli.add_parser(commands)
    commands.add_parser("version", help="print the version")
    return parser


def serve(args: argparse.Namespace) -> int:
    """Validate everything, then run the service."""
    data_dir = _data_dir(args.data_dir)
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
        asyncio.run(run(settings, secret, ServeConfig(data_dir, args.host, args.port)))
    except OSError as err:
        logging.getLogger(__name__).error("Cannot start: %s", err)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``camauth`` command."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "users":
        return users_cli.run(args, _data_dir(args.data_dir), getpass.getpass)
    if args.command == "keys":
        return users_cli.with_database(_data_dir(args.data_dir), keys_cli.dispatch, args)
    print(VERSION)
    return 0
