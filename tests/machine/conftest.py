"""The machine interface, through a real server on 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.service.conftest import proxied, service, start_service  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Real loopback sockets."""
