"""Find the JWT signing secret, in the documented order, or make one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .const import JWT_SECRET_ENV, JWT_SECRET_FILE
from .errors import ConfigError

DOCKER_SECRETS_DIR = Path("/run/secrets")
# RFC 8725 3.5 / RFC 7518 3.2: an HS256 key needs at least 256 bits.
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True, slots=True)
class JwtSecret:
    """The secret and where it came from (the source is safe to log)."""

    value: str
    source: str


def _checked(value: str, source: str) -> JwtSecret:
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the JWT secret from {source} is too short: use at least {MIN_SECRET_LENGTH} "
            "characters, e.g. python3 -c 'import secrets; print(secrets.token_hex(64))'"
        )
    return JwtSecret(value, source)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read the JWT secret file {path}: {err}") from err


def find_jwt_secret(
    data_dir: Path,
    option: str,
    *,
    environ: Mapping[str, str] = os.environ,
    secrets_dir: Path = DOCKER_SECRETS_DIR,
) -> JwtSecret | None:
    """The first secret found: env, Docker secret, option, data file; None if there is none."""
    if environ.get(JWT_SECRET_ENV, "").strip():
        return _checked(environ[JWT_SECRET_ENV], f"environment variable {JWT_SECRET_ENV}")
    docker = _read(secrets_dir / JWT_SECRET_ENV)
    if docker is not None and docker.strip():
        return _checked(docker, f"{secrets_dir / JWT_SECRET_ENV}")
    if option.strip():
        return _checked(option, "option jwt_secret")
    path = data_dir / JWT_SECRET_FILE
    stored = _read(path)
    if stored is not None and stored.strip():
        return _checked(stored, str(path))
    return None


def generate_jwt_secret(data_dir: Path) -> JwtSecret:
    """Make 64 random bytes (hex) into ``<data-dir>/.jwt_secret``, mode 0600."""
    path = data_dir / JWT_SECRET_FILE
    value = secrets.token_hex(64)
    # O_EXCL with 0600: the secret is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return JwtSecret(value, f"{path} (generated)")
