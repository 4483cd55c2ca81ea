"""A missing proxy skips its tests on a developer's machine and fails them in CI."""

from __future__ import annotations

import pytest

from .harness import require_binary


def test_a_missing_peer_is_skipped_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_binary("camauth-no-such-proxy")


def test_a_missing_peer_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_binary("camauth-no-such-proxy")


@pytest.mark.parametrize("name", ["nginx", "caddy", "traefik"])
def test_each_peer_is_found_where_script_test_installs_it(name: str) -> None:
    assert require_binary(name)
