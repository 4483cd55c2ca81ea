"""Logging to stderr at the configured level, one line per record."""

from __future__ import annotations

import logging
import re
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 and C1 controls and the Unicode line and paragraph separators: each could start a line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    r"""Show control characters as ``\xNN`` escapes, so no value can forge a log line."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the message; tracebacks keep their own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The formatted line, with the message made safe."""
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def setup_logging(level: str) -> None:
    """Send every log line to stderr; aiohttp's access log only when debugging."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
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
