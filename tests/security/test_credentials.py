"""Credentials: no enumeration, long and unicode passwords, the password policy."""

from __future__ import annotations

import ast
import contextlib
import tomllib
import unicodedata
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import camauth
from camauth.errors import Unauthorized

from .conftest import (
    ADMIN_PASSWORD,
    VIEWER_PASSWORD,
    Service,
    ServiceFactory,
    checked_user,
    with_auth,
)
from .helpers import INVALID_CREDENTIALS, TOO_MANY, bearer, login_status, token_for

GENEROUS = with_auth(failed_login_rate_limit="50/minute")


async def _answer(service: Service, username: str, password: str) -> tuple[int, Any, Any]:
    client = await service.fresh_client()
    response = await client.post(
        service.url("/api/login"), json={"username": username, "password": password}
    )
    visible = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in ("date", "content-length")
    }
    return response.status, await response.json(), visible


async def test_unknown_user_and_wrong_password_look_the_same(
    start_service: ServiceFactory,
) -> None:
    service = await start_service(GENEROUS)
    wrong = await _answer(service, "admin", "not the password")
    unknown = await _answer(service, "no-such-user", "not the password")
    unknown_cased = await _answer(service, "NoSuchUser", ADMIN_PASSWORD)
    empty = await _answer(service, "", "")
    assert wrong[0] == 401
    assert wrong[1] == INVALID_CREDENTIALS
    assert wrong == unknown == unknown_cased == empty
    assert "Set-Cookie" not in wrong[2]


async def test_locked_known_and_unknown_accounts_look_the_same(
    start_service: ServiceFactory,
) -> None:
    service = await start_service()
    logins = service.services.logins
    for name in ("viewer", "ghost-user"):
        for i in range(10):  # the per-username limit, from clients that are not over theirs
            with contextlib.suppress(Unauthorized):
                await logins.login(name, "wrong", f"192.0.2.{i + (0 if name == 'viewer' else 50)}")
    # Locked: right password, wrong password, unknown name all answer alike (all are 429).
    locked_right = await _answer(service, "viewer", VIEWER_PASSWORD)
    locked_wrong = await _answer(service, "viewer", "wrong")
    locked_unknown = await _answer(service, "ghost-user", "wrong")
    assert locked_right[0] == 429
    assert locked_right[1] == TOO_MANY
    for answer in (locked_wrong, locked_unknown):
        assert answer[:2] == locked_right[:2]
        assert set(answer[2]) == set(locked_right[2])
    assert "Set-Cookie" not in locked_right[2]


def _seventy_three_bytes() -> str:
    password = ("purple elephants dance quietly beneath a silver moon " * 2)[:73]
    assert len(password.encode("utf-8")) == 73
    return password


async def _create(service: Service, admin: str, username: str, password: str) -> tuple[int, Any]:
    response = await service.request(
        "POST",
        "/api/users",
        json={"username": username, "password": password, "role": "viewer"},
        headers=bearer(admin),
    )
    return response.status, await response.json()


async def test_bytes_after_72_count(start_service: ServiceFactory) -> None:
    """bcrypt reads 72 bytes (bcrypt 5 refuses more): P and P+'x' must never both verify."""
    service = await start_service(GENEROUS)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    password = _seventy_three_bytes()
    status, body = await _create(service, admin, "longpass", password)
    assert status == 201, body
    assert (await login_status(service, "longpass", password + "x"))[:2] == (
        401,
        INVALID_CREDENTIALS,
    )
    assert (await login_status(service, "longpass", password[:72]))[:2] == (
        401,
        INVALID_CREDENTIALS,
    )
    assert (await login_status(service, "longpass", password))[0] == 200
    passphrase = ("a long and winding passphrase about mountains, rivers and owls " * 4)[:200]
    assert len(passphrase.encode("utf-8")) == 200
    status, body = await _create(service, admin, "walker", passphrase)
    assert status == 201, body
    assert (await login_status(service, "walker", passphrase))[0] == 200
    changed_late = passphrase[:-1] + "X"
    assert (await login_status(service, "walker", changed_late))[0] == 401


async def test_unicode_normal_forms_all_log_in(start_service: ServiceFactory) -> None:
    service = await start_service(GENEROUS)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    base = "Ünïcødé façade grows ﬁne \uff14\uff12"  # a ligature and full-width digits: NFKC differs
    forms = {form: unicodedata.normalize(form, base) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    assert len(set(forms.values())) == 4
    status, body = await _create(service, admin, "unicode", forms["NFD"])
    assert status == 201, body
    for form, password in forms.items():
        status, body, _ = await login_status(service, "unicode", password)
        assert status == 200, (form, body)
    assert (await login_status(service, "unicode", "Unicode facade grows fine 42"))[0] == 401


POLICY = [
    ("short pw 1", "Password must be at least 12 characters long"),
    ("qwertyuiop123", "Password is too common; choose a longer phrase of unrelated words"),
    ("password1234", "Password is too common; choose a longer phrase of unrelated words"),
    ("1qaz2wsx3edc", "Password is too common; choose a longer phrase of unrelated words"),
    ("iloveyou2024!", "Password is too common; choose a longer phrase of unrelated words"),
    ("QWERTYUIOP99", "Password is too common; choose a longer phrase of unrelated words"),
    ("aaaaaaaaaaaaaaaa", "Password is too common; choose a longer phrase of unrelated words"),
]


@pytest.mark.parametrize(("password", "message"), POLICY)
async def test_policy_on_create_and_change(
    start_service: ServiceFactory, password: str, message: str
) -> None:
    service = await start_service(GENEROUS)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    before = await (await service.request("GET", "/api/users", headers=bearer(admin))).json()
    status, body = await _create(service, admin, "alice", password)
    assert (status, body["error"]) == (400, message)
    response = await service.request(
        "PUT",
        "/api/auth/password",
        json={"old_password": VIEWER_PASSWORD, "password": password},
        headers=bearer(viewer),
    )
    assert (response.status, (await response.json())["error"]) == (400, message)
    response = await service.request(
        "PUT", "/api/users/viewer/password", json={"password": password}, headers=bearer(admin)
    )
    assert (response.status, (await response.json())["error"]) == (400, message)
    after = await (await service.request("GET", "/api/users", headers=bearer(admin))).json()
    assert after == before
    # Nothing changed: the viewer's password and session still work.
    assert (await service.request("GET", "/api/profile", headers=bearer(viewer))).status == 200
    assert await checked_user(service, "viewer", VIEWER_PASSWORD) is not None


async def test_policy_refuses_the_username(start_service: ServiceFactory) -> None:
    service = await start_service(GENEROUS)
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    viewer = await token_for(service, "viewer", VIEWER_PASSWORD)
    message = {
        "error": "Password must not contain the username",
        "code": "password_contains_username",
    }
    assert await _create(service, admin, "alice", "Alice rides far away") == (400, message)
    response = await service.request(
        "PUT",
        "/api/auth/password",
        json={"old_password": VIEWER_PASSWORD, "password": "the VIEWER of cameras 9"},
        headers=bearer(viewer),
    )
    assert (response.status, await response.json()) == (400, message)
    response = await service.request(
        "PUT",
        "/api/users/viewer/password",
        json={"password": "my viewer account 77"},
        headers=bearer(admin),
    )
    assert (response.status, await response.json()) == (400, message)
    assert await service.services.users.get("alice") is None
    assert await checked_user(service, "viewer", VIEWER_PASSWORD) is not None


def test_common_password_list_ships_in_the_package() -> None:
    data = resources.files("camauth").joinpath("data")
    listing = data.joinpath("common-passwords.txt")
    licence = data.joinpath("common-passwords.LICENSE")
    assert listing.is_file()
    assert licence.is_file()
    words = listing.read_text("utf-8").splitlines()
    assert len(words) >= 10_000
    assert {"password", "qwerty", "iloveyou", "letmein"} <= set(words)
    text = licence.read_text("utf-8")
    assert "zxcvbn" in text
    assert "Permission is hereby granted" in text  # the MIT licence text itself, not a pointer
    # The build includes them: package data of the distribution covers both files.
    pyproject = Path(camauth.__file__).parent.parent / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["camauth"]
    for name in ("data/common-passwords.txt", "data/common-passwords.LICENSE"):
        assert any(fnmatch(name, pattern) for pattern in patterns), name


SECRET_NAMES = {
    "secret",
    "password",
    "stored",
    "digest",
    "token",
    "presented",
    "expected",
    "signature",
    "mac",
}


def _operand_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _operand_name(node.value)
    return None


def _looks_secret(name: str | None) -> bool:
    if name is None:
        return False
    lowered = name.lower().strip("_")
    return lowered in SECRET_NAMES or any(
        part in lowered for part in ("secret", "password", "digest", "_hash", "signature")
    )


def secret_equality_compares(source: str) -> list[str]:
    """``==`` / ``!=`` comparisons where an operand is named like a secret."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            operands = [node.left, *node.comparators]
            if any(_looks_secret(_operand_name(operand)) for operand in operands):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def test_the_detector_finds_a_plain_compare() -> None:
    assert secret_equality_compares("if digest == stored:\n    pass\n") == [
        "line 1: digest == stored"
    ]
    assert secret_equality_compares("ok = key.secret_hash != presented") != []
    assert secret_equality_compares("ok = hmac.compare_digest(a, b)") == []


def test_no_secret_is_compared_with_equality() -> None:
    """Frigate compared its proxy secret with ``!=``; every secret here uses compare_digest."""
    package = Path(camauth.__file__).parent
    offenders = {
        str(path.relative_to(package)): found
        for path in sorted(package.rglob("*.py"))
        if (found := secret_equality_compares(path.read_text("utf-8")))
    }
    assert offenders == {}
    assert (package / "core/tokens.py").is_file()
    assert (package / "core/passwords.py").is_file()
