"""What `camauth serve` says about where it listens."""

from __future__ import annotations

import pytest

from camauth.cli.serve import listening_on, public_url


@pytest.mark.parametrize(
    ("host", "listening", "url"),
    [
        (
            "0.0.0.0",  # noqa: S104 - the text, not a bind
            "port 8971 on every network interface (0.0.0.0)",
            "http://127.0.0.1:8971/camauth/login",
        ),
        ("::", "port 8971 on every network interface (::)", "http://127.0.0.1:8971/camauth/login"),
        ("127.0.0.1", "port 8971 on 127.0.0.1 only", "http://127.0.0.1:8971/camauth/login"),
        ("::1", "port 8971 on ::1 only", "http://[::1]:8971/camauth/login"),
        ("cams.lan", "port 8971 on cams.lan only", "http://cams.lan:8971/camauth/login"),
    ],
)
def test_the_banner_says_where_it_listens(host: str, listening: str, url: str) -> None:
    assert listening_on(host, 8971) == listening
    assert public_url(host, 8971) == url


def test_public_url_under_tls_is_https() -> None:
    assert public_url("0.0.0.0", 8971, tls=True) == "https://127.0.0.1:8971/camauth/login"  # noqa: S104
