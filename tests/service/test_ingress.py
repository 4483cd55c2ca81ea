"""The panel's listener for Home Assistant's ingress: only the Supervisor, acting as an admin."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from camauth.cli.onboarding import ensure_admin
from camauth.cli.serve import ingress_host
from camauth.core.audit import EventQuery
from camauth.core.first_password import FILE
from camauth.http.ingress import create_ingress_app
from camauth.options import Settings

from .conftest import ADMIN_PASSWORD, Service, ServiceFactory, free_port, with_auth
from .test_serve_process import call as call_url
from .test_serve_process import serving

INGRESS_PATH = "/api/hassio_ingress/Xq3r9-token_1"
AS_SUPERVISOR = {
    "X-Ingress-Path": INGRESS_PATH,
    "X-Remote-User-Name": "Paulus",
    "X-Remote-User-Id": "8a2b",
}
PANEL = {**AS_SUPERVISOR, "X-CamAuth-Request": "panel"}

Ingress = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def ingress_for() -> AsyncIterator[Ingress]:
    """Start the ingress listener of a service, believing ``peer`` is the Supervisor."""
    servers: list[TestServer] = []

    async def start(service: Service, peer: str = "127.0.0.1") -> TestServer:
        settings = Settings()
        server = TestServer(
            create_ingress_app(settings, service.services, peer=peer), host="127.0.0.1"
        )
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


async def call(
    server: TestServer, method: str, path: str, headers: dict[str, str], **kwargs: object
) -> tuple[int, str]:
    async with (
        ClientSession() as client,
        client.request(
            method, str(server.make_url(path)), headers=headers, allow_redirects=False, **kwargs
        ) as response,
    ):
        return response.status, await response.text()


async def test_any_other_peer_is_refused_whatever_it_sends(
    service: Service, ingress_for: Ingress
) -> None:
    server = await ingress_for(service, peer="127.0.0.2")  # we connect from 127.0.0.1
    spoofed = {
        **PANEL,
        "X-Forwarded-For": "172.30.32.2",
        "X-Real-IP": "172.30.32.2",
        "Forwarded": "for=172.30.32.2",
        "Cookie": "",
    }
    for method, path in [
        ("GET", "/"),
        ("GET", "/api/users"),
        ("GET", "/api/onboarding"),
        ("POST", "/api/users"),
        ("DELETE", "/api/lockouts"),
        ("GET", "/static/camauth/pages.js"),
    ]:
        status, body = await call(server, method, path, spoofed)
        assert status == 403, (method, path)
        assert json.loads(body)["code"] == "forbidden"
    assert [user.username for user in await service.services.users.list()] == ["admin", "viewer"]


async def test_the_panel_is_served_under_the_ingress_path(
    service: Service, ingress_for: Ingress
) -> None:
    server = await ingress_for(service)
    status, page = await call(server, "GET", "/", AS_SUPERVISOR)
    assert status == 200
    assert f'content="{INGRESS_PATH}"' in page
    assert f'src="{INGRESS_PATH}/static/camauth/pages.js"' in page
    assert f'href="{INGRESS_PATH}/static/camauth/camauth.css"' in page
    # A path the Supervisor would never send is not used as a prefix.
    for bogus in ("/elsewhere", "//evil.example", '/api/hassio_ingress/x"><script>', ""):
        status, page = await call(server, "GET", "/", {**AS_SUPERVISOR, "X-Ingress-Path": bogus})
        assert status == 200
        assert 'name="camauth-base" content=""' in page, bogus
    status, _ = await call(server, "GET", "/static/camauth/pages.js", AS_SUPERVISOR)
    assert status == 200


async def test_home_assistant_may_frame_the_panel_and_no_other_site_may(
    service: Service, ingress_for: Ingress
) -> None:
    """Home Assistant shows ingress panels in a frame of its own page, on its own origin."""
    server = await ingress_for(service)
    async with (
        ClientSession() as client,
        client.get(str(server.make_url("/")), headers=AS_SUPERVISOR) as response,
    ):
        assert response.status == 200
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy
        assert "default-src 'self'" in policy
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    # The gateway's pages are never framed, not even by their own origin.
    answer = await service.request("GET", "/login")
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"


async def test_the_home_assistant_user_acts_as_an_admin_under_their_name(
    service: Service, ingress_for: Ingress
) -> None:
    server = await ingress_for(service)
    status, body = await call(server, "GET", "/api/profile", AS_SUPERVISOR)
    assert status == 200
    assert json.loads(body) == {"username": "Paulus", "role": "admin", "auth_method": "ingress"}
    new = {"username": "alice", "password": "tangerine comet bridge 9"}
    status, _ = await call(server, "POST", "/api/users", PANEL, json=new)
    assert status == 201
    found = await service.services.audit.query(EventQuery(type="user_created", username="alice"))
    [created] = found
    assert created.detail["by"] == "Paulus"
    assert created.detail["source"] == "ingress"
    # Without a name from the Supervisor, the owner is "homeassistant".
    nameless = {k: v for k, v in AS_SUPERVISOR.items() if k != "X-Remote-User-Name"}
    status, body = await call(server, "GET", "/api/profile", nameless)
    assert json.loads(body)["username"] == "homeassistant"


async def test_changes_need_the_panels_own_header(service: Service, ingress_for: Ingress) -> None:
    server = await ingress_for(service)
    new = {"username": "mallory", "password": "tangerine comet bridge 9"}
    status, body = await call(server, "POST", "/api/users", AS_SUPERVISOR, json=new)
    assert (status, json.loads(body)["code"]) == (403, "cross_site")
    assert await service.services.users.get("mallory") is None


async def test_logins_and_forward_auth_are_not_on_the_panels_port(
    service: Service, ingress_for: Ingress
) -> None:
    server = await ingress_for(service)
    for method, path in [
        ("POST", "/api/login"),
        ("POST", "/api/logout"),
        ("PUT", "/api/auth/password"),
        ("GET", "/api/auth"),
        ("GET", "/login"),
    ]:
        status, _ = await call(server, method, path, PANEL)
        assert status == 404, (method, path)


async def test_a_locked_out_admin_still_gets_in_through_the_panel(
    start_service: ServiceFactory, ingress_for: Ingress
) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="100/minute"))
    stranger = await service.fresh_client()
    for _ in range(11):
        await stranger.post(
            service.url("/api/login"), json={"username": "admin", "password": "guess"}
        )
    locked = await stranger.post(
        service.url("/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert locked.status == 429
    server = await ingress_for(service)
    status, body = await call(server, "GET", "/api/lockouts", AS_SUPERVISOR)
    assert status == 200
    assert [lock["key"] for lock in json.loads(body)] == ["admin"]
    status, _ = await call(server, "DELETE", "/api/lockouts", PANEL)
    assert status == 200
    again = await stranger.post(
        service.url("/api/login"), json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert again.status == 200


async def test_the_generated_admin_password_is_shown_until_changed(
    start_service: ServiceFactory, ingress_for: Ingress
) -> None:
    service = await start_service(seed=False)
    password = await ensure_admin(service.services, reset=False)
    assert password is not None
    kept = service.data_dir / FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    server = await ingress_for(service)
    status, body = await call(server, "GET", "/api/onboarding", AS_SUPERVISOR)
    assert (status, json.loads(body)) == (200, {"username": "admin", "password": password})
    # Only through the panel: never on the gateway, not even for admin itself.
    token = await service.login("admin", password)
    answer = await service.request(
        "GET", "/api/onboarding", headers={"Authorization": f"Bearer {token}"}
    )
    assert (answer.status, (await answer.json())["code"]) == (403, "ingress_required")
    changed = await service.request(
        "PUT",
        "/api/auth/password",
        json={"old_password": password, "password": "tangerine comet bridge 9"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status == 200
    assert not kept.exists()
    status, body = await call(server, "GET", "/api/onboarding", AS_SUPERVISOR)
    assert (status, json.loads(body)["code"]) == (404, "no_first_password")


async def test_the_event_stream_works_through_the_panel(
    service: Service, ingress_for: Ingress
) -> None:
    server = await ingress_for(service)
    async with (
        ClientSession() as client,
        client.ws_connect(
            str(server.make_url("/api/ws")), headers={**AS_SUPERVISOR, "Origin": "http://ha.local"}
        ) as ws,
    ):
        hello = await ws.receive_json(timeout=10)
        assert hello["type"] == "hello"
        service.services.live.recheck()  # nothing in CamAuth can revoke Home Assistant's user
        await service.services.users.create("bob", "tangerine comet bridge 9", "viewer")
        event = await ws.receive_json(timeout=10)
        assert (event["type"], event["event"]["type"]) == ("event", "user_created")


def test_the_listener_binds_everywhere_only_in_the_add_on() -> None:
    assert ingress_host({"SUPERVISOR_TOKEN": "abc"}) == "0.0.0.0"  # noqa: S104 - the add-on
    assert ingress_host({}) == "127.0.0.1"
    assert ingress_host({"SUPERVISOR_TOKEN": ""}) == "127.0.0.1"


def test_camauth_serve_starts_the_panel_listener_on_this_machine_only(tmp_path: Path) -> None:
    port = free_port()
    with serving(tmp_path, tmp_path / "data", "--ingress-port", str(port)) as served:
        answer = call_url(f"http://127.0.0.1:{port}/api/users", headers=AS_SUPERVISOR)
        # It runs, and 127.0.0.1 is not the Supervisor: refused, whatever the headers say.
        assert (answer.status, answer.json()["code"]) == (403, "forbidden")
        assert "Admin panel for ingress on 127.0.0.1:" in served.stderr()
        with socket.socket() as probe:
            host = socket.gethostbyname(socket.gethostname())
            if host.startswith("127."):
                return  # no other address to try on this machine
            assert probe.connect_ex((host, port)) != 0  # not reachable from the network
