"""nginx in front of the benchmark's upstream: with ``auth_request`` to CamAuth, and without.

The site with ``auth_request`` has the shape of the documented recipe
(``camauth_addon/docs/proxies/nginx.conf``): the internal location asking CamAuth's
``/api/auth`` with ``X-Original-URI`` and ``X-Original-Method``, the identity headers passed
on, ``proxy_buffering off``. Unlike the recipe, both sites keep their connections to the
upstream (and to CamAuth) open (``keepalive``, ``Connection ""``), as CamAuth's own pool does:
the comparison is of the proxies, not of connection set-up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .processes import HOST, Pinning, free_port, proc_status_kb
from .servers import Server, spawn

KEEPALIVE = 256  # idle connections nginx keeps to each upstream
WORKER_CONNECTIONS = 4096  # a slow client holds two: its own and the upstream's

_CONFIG = """\
{user}worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream camera {{ server {host}:{upstream}; keepalive {keepalive}; }}
    upstream camauth {{ server {host}:{camauth}; keepalive {keepalive}; }}

    # (b) the documented recipe's shape: every request asks CamAuth first.
    server {{
        listen {host}:{auth_port};
        location = /internal/camauth {{
            internal;
            proxy_pass http://camauth/camauth/api/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        location / {{
            auth_request /internal/camauth;
            auth_request_set $camauth_user $upstream_http_remote_user;
            auth_request_set $camauth_role $upstream_http_remote_role;
            auth_request_set $camauth_cookie $upstream_http_set_cookie;
            add_header Set-Cookie $camauth_cookie;
            proxy_set_header Remote-User $camauth_user;
            proxy_set_header Remote-Role $camauth_role;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_pass http://camera;
        }}
    }}

    # (c) a plain reverse proxy, no authentication.
    server {{
        listen {host}:{plain_port};
        location / {{
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_pass http://camera;
        }}
    }}
}}
"""


@dataclass(frozen=True, slots=True)
class Nginx:
    """The running nginx: one master, one worker, two sites."""

    server: Server  # its port is the plain site's
    auth_port: int

    @property
    def plain_port(self) -> int:
        """The site without authentication."""
        return self.server.port

    def pids(self) -> list[int]:
        """The master's and its workers' process ids."""
        master = self.server.proc.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        with contextlib.suppress(OSError):
            return [master, *(int(pid) for pid in children.read_text().split())]
        return [master]


def nginx_binary() -> str | None:
    """The nginx on PATH, or where Debian puts it."""
    found = shutil.which("nginx")
    return found or (str(path) if (path := Path("/usr/sbin/nginx")).exists() else None)


def nginx_config(work: Path, upstream: int, camauth: int, auth_port: int, plain_port: int) -> str:
    """The configuration: temporary paths under ``work``, one worker, both sites."""
    return _CONFIG.format(
        user="user root;\n" if os.geteuid() == 0 else "",  # else workers cannot use ``work``
        work=work,
        host=HOST,
        upstream=upstream,
        camauth=camauth,
        auth_port=auth_port,
        plain_port=plain_port,
        keepalive=KEEPALIVE,
        worker_connections=WORKER_CONNECTIONS,
    )


def start_nginx(
    stack: contextlib.ExitStack, work: Path, pin: Pinning, upstream: int, camauth: int
) -> Nginx:
    """Start nginx on CPU 0 (master and worker), both sites ready; stopped when ``stack`` closes."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed")
    home = work / "nginx"
    home.mkdir()
    auth_port, plain_port = free_port(), free_port()
    config = home / "nginx.conf"
    config.write_text(nginx_config(home, upstream, camauth, auth_port, plain_port))
    argv = [binary, "-p", str(home), "-e", str(home / "error.log"), "-c", str(config)]
    argv += ["-g", "daemon off;"]
    log = work / "nginx.log"
    server = spawn(stack, "nginx", argv, "/small", log, pin, port=plain_port)
    return Nginx(server, auth_port)


def rss_kb(pids: list[int]) -> int | None:
    """The summed resident memory of these processes (None if one is gone)."""
    sizes = [proc_status_kb(pid, "VmRSS") for pid in pids]
    return None if any(size is None for size in sizes) else sum(filter(None, sizes))
