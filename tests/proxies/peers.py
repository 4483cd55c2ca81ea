"""How each real proxy is started on its recipe: nginx, NPM's nginx, Caddy and Traefik.

Each listens on 127.0.0.2; CamAuth and the camera UI listen on 127.0.0.1, and the proxies
reach them from 127.0.0.1, the only address in CamAuth's ``auth.trusted_proxies``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from tests.service.conftest import free_port

from .harness import Processes, recipe, require_binary, start_peer, wait_for_port

PROXY = "127.0.0.2"
NGINX_MAIN = Path(__file__).with_name("nginx-main.conf")


@dataclass(frozen=True, slots=True)
class Ports:
    """Where the test's CamAuth and camera UI listen (on 127.0.0.1)."""

    camauth: int
    camera: int

    def upstreams(self) -> dict[str, str]:
        """The recipes' example upstreams, as this test's addresses."""
        return {
            "camauth:8971": f"127.0.0.1:{self.camauth}",
            "frigate:8971": f"127.0.0.1:{self.camera}",
        }


Starter = Callable[[Path, Processes, Ports], Awaitable[str]]


def nginx_main(tmp: Path, site: Path) -> Path:
    """nginx's main file: temporary paths for this test, then the site under test."""
    main = tmp / "nginx-main.conf"
    text = NGINX_MAIN.read_text(encoding="utf-8")
    text = text.replace("@TMP@", str(tmp)).replace("@SITE@", str(site))
    # As root, workers would run as nobody, who cannot write request bodies into tmp.
    main.write_text(("user root;\n" if os.geteuid() == 0 else "") + text)
    return main


def run_nginx(tmp: Path, processes: Processes, site: str) -> None:
    """Start nginx on a site file's text."""
    nginx = require_binary("nginx")
    path = tmp / "site.conf"
    path.write_text(site)
    main = nginx_main(tmp, path)
    start_peer(processes, [nginx, "-e", str(tmp / "error.log"), "-c", str(main)], tmp / "out.log")


async def serve_nginx(
    tmp: Path, processes: Processes, name: str, replacements: dict[str, str]
) -> str:
    """nginx on the recipe ``name``, listening on 127.0.0.2; returns its URL."""
    port = free_port()
    listen = {"listen 80;": f"listen {PROXY}:{port};"}
    run_nginx(tmp, processes, recipe(name, {**replacements, **listen}))
    await wait_for_port(PROXY, port)
    return f"http://{PROXY}:{port}"


async def start_nginx(tmp: Path, processes: Processes, ports: Ports) -> str:
    """nginx on ``nginx.conf``."""
    return await serve_nginx(tmp, processes, "nginx.conf", ports.upstreams())


async def start_npm(tmp: Path, processes: Processes, ports: Ports) -> str:
    """nginx as Nginx Proxy Manager runs it, with ``npm-advanced.conf`` in the Advanced tab."""
    port = free_port()
    here = Path(__file__).parent
    proxy_conf = here / "npm-proxy.conf"
    advanced = tmp / "advanced.conf"
    replacements = {
        "camauth:8971": ports.upstreams()["camauth:8971"],  # NPM itself knows the camera's
        "conf.d/include/proxy.conf": str(proxy_conf),
    }
    advanced.write_text(recipe("npm-advanced.conf", replacements))
    host = (here / "npm-proxy-host.conf").read_text(encoding="utf-8")
    for name, value in {
        "@CAMERA_PORT@": str(ports.camera),
        "@LISTEN@": f"{PROXY}:{port}",
        "@ADVANCED@": str(advanced),
    }.items():
        host = host.replace(name, value)
    run_nginx(tmp, processes, host)
    await wait_for_port(PROXY, port)
    return f"http://{PROXY}:{port}"


async def start_caddy(tmp: Path, processes: Processes, ports: Ports) -> str:
    """Caddy on ``Caddyfile`` (with its admin endpoint off, plain HTTP)."""
    caddy = require_binary("caddy")
    port = free_port()
    site = recipe(
        "Caddyfile",
        {**ports.upstreams(), "cams.example.com {": f"http://{PROXY}:{port} {{"},
    )
    config = tmp / "Caddyfile"
    config.write_text("{\n\tadmin off\n}\n" + site)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp)}
    command = [caddy, "run", "--config", str(config), "--adapter", "caddyfile"]
    start_peer(processes, command, tmp / "caddy.log", env)
    await wait_for_port(PROXY, port)
    return f"http://{PROXY}:{port}"


async def serve_traefik(
    tmp: Path, processes: Processes, name: str, replacements: dict[str, str]
) -> str:
    """Traefik on ``traefik.yml``, its file provider reading the recipe ``name``."""
    traefik = require_binary("traefik")
    port = free_port()
    dynamic = tmp / "camauth.yml"
    dynamic.write_text(recipe(name, {**replacements, "cams.example.com": PROXY}))
    static = tmp / "traefik.yml"
    static.write_text(
        recipe(
            "traefik.yml",
            {'":80"': f'"{PROXY}:{port}"', "/etc/traefik/camauth.yml": str(dynamic)},
        )
    )
    start_peer(processes, [traefik, f"--configFile={static}"], tmp / "traefik.log")
    await wait_for_port(PROXY, port)
    return f"http://{PROXY}:{port}"


async def start_traefik(tmp: Path, processes: Processes, ports: Ports) -> str:
    """Traefik on ``traefik-camauth.yml``."""
    return await serve_traefik(tmp, processes, "traefik-camauth.yml", ports.upstreams())


PEERS: dict[str, Starter] = {
    "nginx": start_nginx,
    "npm": start_npm,
    "caddy": start_caddy,
    "traefik": start_traefik,
}
