"""The command line: ``script/bench [options]`` or ``python -m bench [options]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

from .flood import FLOOD_RATE, NEW_DEVICE_GIVE_UP, run_flood
from .loadgen import make_generator
from .processes import Pinning
from .proxy import main as proxy_main
from .report import (
    Check,
    Report,
    as_json,
    flood_figures,
    memory_checks,
    peak_rss,
    render,
    start_checks,
    targets,
)
from .scenarios import build_scenarios, run_all
from .servers import login, run_bare_server, start_fleet


def run_bench(args: argparse.Namespace) -> tuple[Report, list[Check]]:
    """Start everything, measure everything, stop everything."""
    pin = Pinning.detect(not args.no_pin)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camauth-bench-")))
        print("Starting the bare server and CamAuth ...", file=sys.stderr)
        fleet = start_fleet(stack, work, pin)
        pin.pin_self()
        gen = make_generator(args.no_wrk, pin, work)
        creds = login(fleet.main.port, fleet.password)
        scenarios = build_scenarios(fleet, creds, args.connections, args.login_connections)
        print(f"Measuring with {gen.name}:", file=sys.stderr)
        measured = run_all(gen, fleet, scenarios, args.duration, args.rounds)
        time.sleep(1.0)  # let the storm's queued logins drain before reading the idle RSS
        memory, starts = memory_checks(fleet, measured.served()), start_checks(fleet)
        flood = None
        if not args.no_flood:
            flood = run_flood(work, pin, gen, args.flood_give_up, args.flood_rate)
        figures = [*starts, *peak_rss(fleet), *(flood_figures(flood) if flood else [])]
        report = Report(
            gen.name, args.duration, pin.describe(), scenarios, measured, figures, flood
        )
        return report, targets(report, memory, starts)


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="script/bench",
        description="Benchmark CamAuth against a bare aiohttp handler, with PRODUCT.md's targets.",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds, each scenario beside the bare handler; the report shows their medians",
    )
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument(
        "--login-connections", type=int, default=8, help="connections for bcrypt-bound logins"
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--no-wrk", action="store_true", help="use the in-process load generator")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--flood-give-up",
        type=float,
        default=NEW_DEVICE_GIVE_UP,
        metavar="SECONDS",
        help="how long each login during the flood may take (the new device keeps retrying)",
    )
    parser.add_argument(
        "--flood-rate",
        type=float,
        default=FLOOD_RATE,
        metavar="PER_SECOND",
        help="logins a second the flood is paced at (0: as fast as answered)",
    )
    parser.add_argument("--no-flood", action="store_true", help="skip the flood scenario")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``script/bench`` and ``python -m bench``; ``proxy`` first: bench.proxy."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["proxy"]:
        return proxy_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.bare_server:
        run_bare_server(args.bare_server)
        return 0
    if args.duration <= 0 or min(args.connections, args.login_connections, args.rounds) < 1:
        build_parser().error("--duration, --rounds and the connection counts must be positive")
    if args.flood_give_up <= 0 or args.flood_rate < 0:
        build_parser().error("--flood-give-up must be positive, --flood-rate not negative")
    report, target_checks = run_bench(args)
    print(render(report, target_checks))
    if args.json:
        print(json.dumps(as_json(report, target_checks), indent=2))
    return 0
