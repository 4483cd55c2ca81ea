"""Fixtures for the security tests: the service fixtures of tests/service, over real sockets."""

from __future__ import annotations

import pytest

from tests.service.conftest import (  # noqa: F401 - fixtures re-exported for the tests here
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    checked_user,
    free_port,
    proxied,
    service,
    start_service,
    with_auth,
)


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """The service is tested over real loopback sockets."""
