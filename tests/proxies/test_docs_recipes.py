"""DOCS.md shows the recipe files exactly, and MediaMTX's snippet names what CamAuth expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.service.conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Service, ServiceFactory

from .harness import RECIPES, ROOT

DOCS = ROOT / "camauth_addon/DOCS.md"
LANGUAGES = {".conf": "nginx", ".yml": "yaml", ".yaml": "yaml", "": "caddy"}
# The keys of MediaMTX's external authentication (mediamtx.yml, authMethod: http).
MEDIAMTX_KEYS = {"authMethod", "authHTTPAddress", "authHTTPExclude"}


def fenced(path: Path) -> str:
    """A recipe as DOCS.md shows it: the whole file in one fenced block."""
    return f"```{LANGUAGES[path.suffix]}\n{path.read_text(encoding='utf-8')}```\n"


@pytest.mark.parametrize("path", sorted(RECIPES.iterdir()), ids=lambda path: path.name)
def test_docs_show_each_recipe_as_it_is_tested(path: Path) -> None:
    assert fenced(path) in DOCS.read_text(encoding="utf-8"), f"DOCS.md differs from {path.name}"


def mediamtx() -> dict[str, Any]:
    snippet: dict[str, Any] = yaml.safe_load((RECIPES / "mediamtx.yml").read_text())
    return snippet


def test_the_mediamtx_snippet_uses_only_mediamtx_keys() -> None:
    snippet = mediamtx()
    assert set(snippet) <= MEDIAMTX_KEYS
    assert snippet["authMethod"] == "http"
    # MediaMTX's default leaves api, metrics and pprof unasked; CamAuth limits them to admins.
    assert snippet["authHTTPExclude"] == []


async def ask_as_mediamtx(service: Service, path: str, body: dict[str, Any]) -> int:
    client = await service.fresh_client()
    async with client.post(service.url(path), json=body) as response:
        return response.status


@pytest.mark.parametrize(
    ("user", "password", "action", "allowed"),
    [
        ("viewer", VIEWER_PASSWORD, "read", True),
        ("viewer", VIEWER_PASSWORD, "publish", False),
        ("viewer", VIEWER_PASSWORD, "api", False),
        ("admin", ADMIN_PASSWORD, "api", True),
        ("viewer", "wrong password guess", "read", False),
    ],
)
async def test_camauth_answers_mediamtx_at_the_documented_address(
    start_service: ServiceFactory, user: str, password: str, action: str, allowed: bool
) -> None:
    service = await start_service()
    address = urlsplit(mediamtx()["authHTTPAddress"])
    assert (address.scheme, address.netloc) == ("http", "camauth:8971")
    body = {
        "user": user,
        "password": password,
        "token": "",
        "ip": "192.168.1.20",
        "action": action,
        "path": "front_door",
        "protocol": "webrtc",
        "id": "3f2a",
        "query": "",
    }
    status = await ask_as_mediamtx(service, address.path, body)
    assert (200 <= status < 300) is allowed, status
