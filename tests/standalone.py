"""What the service's tests take from Home Assistant's test plugin, for a run without it.

script/test also runs the service's own tests (tests/unit, tests/service, tests/security,
tests/machine) on Python 3.11, which the service supports and Home Assistant does not, so
pytest-homeassistant-custom-component is not installed there. Those tests rely on one thing
of it: every socket is refused except a test's own that asks for ``socket_enabled``
(pytest-socket's fixture), and then only to 127.0.0.1. tests/conftest.py loads this module
when the plugin is absent.
"""

from __future__ import annotations

import pytest_socket


def pytest_runtest_setup() -> None:
    """Refuse sockets as the plugin does; Unix sockets stay, as asyncio's loop needs them."""
    pytest_socket.socket_allow_hosts(["127.0.0.1"])  # must come before disable_socket
    pytest_socket.disable_socket(allow_unix_socket=True)
