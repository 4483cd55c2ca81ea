"""Upstreams reachable without CamAuth become a configuration warning (and a repair issue)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer

from camauth.core.upstreams import Upstream
from camauth.core.warnings import UPSTREAM_EXPOSED, ConfigWarnings
from camauth.supervisor.exposure import check_upstreams

from .conftest import free_port


@pytest.mark.parametrize(
    ("origin", "exposed"),
    [
        ("http://192.168.1.20:5000", "192.168.1.20:5000"),
        ("http://[2001:db8::5]:5000", "[2001:db8::5]:5000"),
        ("https://10.0.0.9", "10.0.0.9:443"),
        ("http://127.0.0.1:5000", None),
        ("http://172.30.33.4:5000", None),  # another add-on, on the Supervisor's network
        ("http://ccab4aaf-frigate:5000", None),
    ],
)
async def test_an_upstream_on_the_home_network_is_reported(
    origin: str, exposed: str | None
) -> None:
    warnings = ConfigWarnings()
    await check_upstreams((Upstream("frigate", origin),), warnings, host_address=None)
    found = {warning.id: warning.detail for warning in warnings.current()}
    if exposed is None:
        assert found == {}
    else:
        assert found[UPSTREAM_EXPOSED]["where"] == exposed
        assert found[UPSTREAM_EXPOSED]["upstream"] == "frigate"


async def test_a_port_also_published_on_the_host_is_reported(camera: TestServer) -> None:
    # The camera listens on 127.0.0.1: here that address plays the Home Assistant host.
    published = Upstream("frigate", f"http://ccab4aaf-frigate:{camera.port}")
    closed = Upstream("go2rtc", f"http://ccab4aaf-go2rtc:{free_port()}")
    warnings = ConfigWarnings()
    await check_upstreams((closed,), warnings, host_address="127.0.0.1")
    assert warnings.current() == []
    await check_upstreams((closed, published), warnings, host_address="127.0.0.1")
    (warning,) = warnings.current()
    assert warning.detail["where"] == f"port {camera.port} of the Home Assistant host"
