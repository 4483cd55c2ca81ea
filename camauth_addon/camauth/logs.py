"""Logging to stderr at the configured level."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    """Send every log line to stderr; aiohttp's access log only when debugging."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per proxied camera request would drown everything else.
    logging.getLogger("aiohttp.access").setLevel(
        logging.DEBUG if level == "debug" else logging.WARNING
    )
    # The HTTP parser logs a malformed request with its raw header line, which may hold a
    # cookie; the client already got its 400, so such lines are kept for debugging only.
    logging.getLogger("aiohttp.server").setLevel(
        logging.DEBUG if level == "debug" else logging.CRITICAL
    )
