"""Real reverse proxies (nginx, Caddy, Traefik) in front of a real CamAuth and a camera UI.

The proxies run the configuration files that DOCS.md shows (``camauth_addon/docs/proxies/``),
with only the documented example addresses replaced by the test's loopback ones.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
import pytest_socket

from tests.service.conftest import start_service  # noqa: F401 - the fixture

from .harness import Processes
from .oauth2_proxy import oauth2_proxy  # noqa: F401 - the fixture
from .stack import stack  # noqa: F401 - the fixture
from .upstream import camera  # noqa: F401 - the fixture

LOOPBACK_HOSTS = [f"127.0.0.{n}" for n in range(1, 10)]


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> Iterator[None]:
    """Proxies are tested over real sockets on several loopback addresses."""
    pytest_socket.socket_allow_hosts(LOOPBACK_HOSTS, allow_unix_socket=True)
    yield
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)


@pytest.fixture
def run_process() -> Iterator[Processes]:
    """Processes started by a test, always stopped afterwards."""
    processes: Processes = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
