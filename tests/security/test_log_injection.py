"""No client-chosen text can forge a log line of the real ``camauth serve``.

A username is logged with every failed login. Sent with a line break inside it (any of the
characters that end a line for a log reader: LF, CR, NEL, the Unicode line and paragraph
separators, and the other C0 separators), it must stay on the line of its own log record,
escaped. At debug level the access log also carries the client's User-Agent.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.service.test_serve_process import LOG_LINE, serving, write_options

# What a forger would put after the line break: a complete, plausible log line.
FORGED = "2026-01-01 00:00:00,000 ERROR x: forged"
# Each line break, and how the log must show it.
BREAKS = {
    "LF": ("\n", "\\x0a"),
    "CR": ("\r", "\\x0d"),
    "CRLF": ("\r\n", "\\x0d\\x0a"),
    "NEL": ("\x85", "\\x85"),
    "LS": ("\u2028", "\\u2028"),
    "PS": ("\u2029", "\\u2029"),
    "VT": ("\x0b", "\\x0b"),
    "FF": ("\x0c", "\\x0c"),
    "FS": ("\x1c", "\\x1c"),
}
# The first-start banner: blank lines, a border of stars, and "* text *" lines.
BANNER_LINE = re.compile(r"|\*+|\* .* \*")
WRONG = "wrong-guess-Zq8v3Lk2Pw"


def stray_lines(text: str) -> list[str]:
    """Lines of stderr that are neither a log record nor the banner (split as readers do)."""
    return [
        line
        for line in text.splitlines()
        if not LOG_LINE.match(line) and not BANNER_LINE.fullmatch(line)
    ]


def raw_request(port: int, user_agent: bytes) -> bytes:
    """One request with a User-Agent of raw bytes (obs-text passes HTTP parsers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /api/health HTTP/1.1\r\nHost: cam.local\r\nUser-Agent: "
            + user_agent
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("log_level", ["info", "debug"])
def test_a_username_with_a_line_break_forges_no_log_line(tmp_path: Path, log_level: str) -> None:
    data = tmp_path / "data"
    write_options(data, {"log_level": log_level, "auth": {"failed_login_rate_limit": "100/minute"}})
    with serving(tmp_path, data) as served:
        for character, _ in BREAKS.values():
            answer = served.login(f"eve{character}{FORGED}", WRONG)
            assert answer.status == 401, answer.body
        if log_level == "debug":
            # U+2028 in UTF-8, then a lone NEL byte (not UTF-8: aiohttp keeps it escaped).
            answer = raw_request(served.port, b"cam\xe2\x80\xa8" + FORGED.encode() + b"\x85x")
            assert answer.startswith(b"HTTP/1.1 200"), answer
        assert served.stop() == 0
        text = served.stderr()

    assert stray_lines(text) == []
    # Each attempt was logged, on its own record, with the break escaped (the name as the
    # login guard keys it: case-folded).
    for _, shown in BREAKS.values():
        record = f"login_failed user=eve{shown}{FORGED.casefold()} client=127.0.0.1"
        assert len([line for line in text.splitlines() if record in line]) == 1, (record, text)
    if log_level == "debug":
        access = [line for line in text.splitlines() if "aiohttp.access" in line]
        shown = f"cam\\u2028{FORGED}"
        assert [line for line in access if shown in line], "\n".join(access)
