"""The JWT secret: where it is looked for, in which order, and the one generated on first start."""

from __future__ import annotations

import itertools
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from camauth.errors import ConfigError
from camauth.jwt_secret import (
    MIN_SECRET_LENGTH,
    JwtSecret,
    find_jwt_secret,
    generate_jwt_secret,
)

SOURCES = ("env", "docker", "option", "file")
VALUES = {source: source[0] * 40 for source in SOURCES}


@dataclass
class Places:
    """Where find_jwt_secret looks, with the given sources' values put there."""

    data_dir: Path
    option: str
    environ: dict[str, str]
    secrets_dir: Path

    @property
    def docker_secret(self) -> Path:
        """The Docker secret's file."""
        return self.secrets_dir / "CAMAUTH_JWT_SECRET"

    @property
    def secret_file(self) -> Path:
        """The data folder's secret file."""
        return self.data_dir / ".jwt_secret"

    def find(self) -> JwtSecret | None:
        """The secret find_jwt_secret picks from these places."""
        return find_jwt_secret(
            self.data_dir, self.option, environ=self.environ, secrets_dir=self.secrets_dir
        )


def place(tmp_path: Path, values: dict[str, str]) -> Places:
    """Put each given source's value where find_jwt_secret looks."""
    data_dir = tmp_path / "data"
    secrets_dir = tmp_path / "secrets"
    data_dir.mkdir(exist_ok=True)
    secrets_dir.mkdir(exist_ok=True)
    environ = {"CAMAUTH_JWT_SECRET": values["env"]} if "env" in values else {}
    places = Places(data_dir, values.get("option", ""), environ, secrets_dir)
    if "docker" in values:
        places.docker_secret.write_text(values["docker"])
    if "file" in values:
        places.secret_file.write_text(values["file"])
    return places


def with_later_sources(source: str, value: str) -> dict[str, str]:
    """``value`` for ``source``, and good values for every source looked at after it."""
    later = SOURCES[SOURCES.index(source) + 1 :]
    return {source: value} | {other: VALUES[other] for other in later}


@pytest.mark.parametrize(
    "present",
    [combo for n in range(len(SOURCES) + 1) for combo in itertools.combinations(SOURCES, n)],
    ids=lambda combo: "+".join(combo) or "none",
)
def test_jwt_secret_first_source_wins(tmp_path: Path, present: tuple[str, ...]) -> None:
    places = place(tmp_path, {source: VALUES[source] for source in present})
    found = places.find()
    if not present:
        assert found is None
        return
    winner = present[0]  # combinations keep SOURCES' order: the documented order
    assert found is not None
    assert found.value == VALUES[winner]
    expected_source = {
        "env": "environment variable CAMAUTH_JWT_SECRET",
        "docker": str(places.docker_secret),
        "option": "option jwt_secret",
        "file": str(places.secret_file),
    }[winner]
    assert found.source == expected_source
    assert found.value not in found.source


@pytest.mark.parametrize("blank", ["", " ", "\n", " \t\n "])
@pytest.mark.parametrize("source", SOURCES)
def test_jwt_secret_whitespace_only_values_are_skipped(
    tmp_path: Path, source: str, blank: str
) -> None:
    later = SOURCES[SOURCES.index(source) + 1 :]
    found = place(tmp_path, with_later_sources(source, blank)).find()
    if later:
        assert found is not None
        assert found.value == VALUES[later[0]]
    else:
        assert found is None


@pytest.mark.parametrize("source", SOURCES)
def test_jwt_secret_is_stripped(tmp_path: Path, source: str) -> None:
    found = place(tmp_path, {source: "  " + "z" * 40 + "\r\n"}).find()
    assert found is not None
    assert found.value == "z" * 40


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("value", ["q7Zk", "y" * (MIN_SECRET_LENGTH - 1), " " + "y" * 31 + " "])
def test_jwt_secret_too_short_is_a_config_error_not_a_fallback(
    tmp_path: Path, source: str, value: str
) -> None:
    places = place(tmp_path, with_later_sources(source, value))
    with pytest.raises(ConfigError, match="too short") as caught:
        places.find()
    assert value.strip() not in str(caught.value)  # the error never shows the secret


@pytest.mark.parametrize("source", SOURCES)
def test_jwt_secret_of_the_minimum_length_is_accepted(tmp_path: Path, source: str) -> None:
    found = place(tmp_path, {source: "m" * MIN_SECRET_LENGTH}).find()
    assert found is not None
    assert found.value == "m" * MIN_SECRET_LENGTH
    assert MIN_SECRET_LENGTH >= 32  # RFC 7518 3.2: 256 bits for HS256


@pytest.mark.parametrize("where", ["docker", "file"])
@pytest.mark.parametrize("kind", ["directory", "not-utf8"])
def test_unreadable_jwt_secret_file_is_a_config_error(
    tmp_path: Path, where: str, kind: str
) -> None:
    places = place(tmp_path, {})
    path = places.docker_secret if where == "docker" else places.secret_file
    if kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"\xff" * 64)
    with pytest.raises(ConfigError, match="cannot read"):
        places.find()


def test_unreadable_docker_secret_does_not_matter_when_env_is_set(tmp_path: Path) -> None:
    places = place(tmp_path, {"env": VALUES["env"]})
    places.docker_secret.mkdir()
    found = places.find()
    assert found is not None
    assert found.value == VALUES["env"]


def test_missing_secrets_directory_is_skipped(tmp_path: Path) -> None:
    found = find_jwt_secret(
        tmp_path, VALUES["option"], environ={}, secrets_dir=tmp_path / "no-such-dir"
    )
    assert found is not None
    assert found.value == VALUES["option"]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_generated_secret_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        secret = generate_jwt_secret(tmp_path)
    finally:
        os.umask(previous)
    path = tmp_path / ".jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{128}", secret.value)
    assert path.read_text() == secret.value + "\n"
    assert "generated" in secret.source
    found = find_jwt_secret(tmp_path, "", environ={}, secrets_dir=tmp_path / "none")
    assert found is not None
    assert found.value == secret.value


def test_generated_secrets_differ(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert generate_jwt_secret(tmp_path / "a").value != generate_jwt_secret(tmp_path / "b").value


@pytest.mark.parametrize("existing", ["file", "empty-file", "dangling-symlink", "symlink"])
def test_generate_refuses_to_overwrite_or_follow(tmp_path: Path, existing: str) -> None:
    path = tmp_path / ".jwt_secret"
    target = tmp_path / "elsewhere"
    if existing == "file":
        path.write_text("keep me\n")
    elif existing == "empty-file":
        path.write_text("")
    else:
        if existing == "symlink":
            target.write_text("other file\n")
        path.symlink_to(target)
    before = target.read_text() if target.exists() else None
    with pytest.raises(FileExistsError):
        generate_jwt_secret(tmp_path)
    if existing == "file":
        assert path.read_text() == "keep me\n"
    if existing == "empty-file":
        assert path.read_text() == ""
    if existing.endswith("symlink"):
        assert path.is_symlink()
        assert (target.read_text() if target.exists() else None) == before
