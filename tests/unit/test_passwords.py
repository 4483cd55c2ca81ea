"""Passwords: the keyed pre-hash and bcrypt, the policy for new ones, and the hashing pool."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys

import bcrypt
import pytest

from camauth.core.passwords import (
    DEFAULT_ROUNDS,
    PasswordHasher,
    WeakPassword,
    check_policy,
    hash_password,
    hash_rounds,
    verify_password,
)
from tests.helpers import TEST_ROUNDS, wide

PASSPHRASE = "copper meadow falcon 3"


def test_default_cost_is_12() -> None:
    # pytest-homeassistant-custom-component pins bcrypt.gensalt to cost 4 in this process
    # (session-wide, autouse), so the default is checked where nothing is patched.
    script = (
        "from camauth.core.passwords import hash_password, hash_rounds, verify_password\n"
        f"stored = hash_password({PASSPHRASE!r})\n"
        f"print(hash_rounds(stored), verify_password({PASSPHRASE!r}, stored))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["12", "True"]
    assert DEFAULT_ROUNDS == 12
    hasher = PasswordHasher(workers=1)
    try:
        assert hasher.rounds == 12
        assert not hasher.needs_rehash("bcrypt-sha256$$2b$12$" + "a" * 53)
        assert hasher.needs_rehash("bcrypt-sha256$$2b$10$" + "a" * 53)
    finally:
        hasher.close()


@pytest.mark.parametrize(
    ("password", "attempt", "expected"),
    [
        (PASSPHRASE, PASSPHRASE, True),
        (PASSPHRASE, PASSPHRASE.upper(), False),
        (PASSPHRASE, PASSPHRASE + " ", False),
        (PASSPHRASE, PASSPHRASE[:-1], False),
        (PASSPHRASE, "", False),
        ("", "", True),
        ("abc\x00def", "abc", False),
        ("abc", "abc\x00def", False),
        # NFKC: the same password typed on two keyboards is the same password.
        (wide("copper meadow"), "copper meadow", True),
        ("copper meadow", wide("copper meadow"), True),
        ("ﬁne ﬁsh ﬂies", "fine fish flies", True),
        ("cafe\u0301 au lait", "café au lait", True),
        ("café au lait", "cafe au lait", False),
        # bcrypt alone sees 72 bytes; CamAuth sees every byte.
        ("a" * 72, "a" * 72 + "x", False),
        ("a" * 72 + "x", "a" * 72, False),
        ("a" * 72 + "x", "a" * 72 + "y", False),
        ("é" * 36, "é" * 36 + "x", False),
        ("é" * 36 + "x", "é" * 36 + "x", True),
        ("w" * 500 + "1", "w" * 500 + "2", False),
        ("w" * 1024, "w" * 1024, True),
    ],
)
def test_verify_password(password: str, attempt: str, expected: bool) -> None:
    assert verify_password(attempt, hash_password(password, rounds=TEST_ROUNDS)) is expected


def _raw_bcrypt_of(password: str) -> str:
    """The bcrypt part alone (no scheme prefix) of a valid CamAuth hash of ``password``."""
    return hash_password(password, rounds=TEST_ROUNDS).removeprefix("bcrypt-sha256$")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "bcrypt-sha256$",
        "bcrypt-sha256$garbage",
        "bcrypt-sha256$$2b$04$",
        "bcrypt-sha256$$2b$04$" + "a" * 10,
        "bcrypt-sha256$é",
        "bcrypt-sha256$\x00",
        "plain text password",
        PASSPHRASE,
        "pbkdf2_sha256$600000$salt$hash",
        "$2b$04$" + "a" * 53,
    ],
)
def test_malformed_stored_hash_never_matches(stored: str) -> None:
    assert verify_password(PASSPHRASE, stored) is False
    assert verify_password("", stored) is False


def test_hash_without_the_scheme_or_truncated_never_matches() -> None:
    raw = _raw_bcrypt_of(PASSPHRASE)
    assert verify_password(PASSPHRASE, raw) is False
    assert verify_password(PASSPHRASE, "bcrypt-sha256$" + raw[:-5]) is False
    # A bcrypt hash of the password itself (not pre-hashed) is not ours either.
    plain = bcrypt.hashpw(PASSPHRASE.encode(), bcrypt.gensalt(TEST_ROUNDS)).decode()
    assert verify_password(PASSPHRASE, "bcrypt-sha256$" + plain) is False


def test_prehash_is_keyed_and_fixed_length() -> None:
    stored = hash_password("x" * 1000, rounds=TEST_ROUNDS)
    assert stored.startswith("bcrypt-sha256$$2b$04$")
    # What bcrypt sees is 44 base64 bytes of HMAC-SHA256, whatever the password.
    digest = hmac.new(b"camauth-password-v1", b"x" * 1000, hashlib.sha256).digest()
    inner = stored.removeprefix("bcrypt-sha256$").encode()
    assert bcrypt.checkpw(base64.b64encode(digest), inner)


@pytest.mark.parametrize(
    ("stored", "rounds"),
    [
        ("bcrypt-sha256$$2b$04$" + "a" * 53, 4),
        ("bcrypt-sha256$$2b$12$" + "a" * 53, 12),
        ("$2b$12$" + "a" * 53, None),
        ("", None),
        ("bcrypt-sha256$garbage", None),
        ("bcrypt-sha256$$2b$xx$" + "a" * 53, None),
    ],
)
def test_hash_rounds(stored: str, rounds: int | None) -> None:
    assert hash_rounds(stored) == rounds


WEAK_PASSWORDS = [
    # (id, password, username, message fragment)
    ("empty", "", "", "at least 12"),
    ("too-short", "fresh pear", "", "at least 12"),
    ("eleven", "abcdefghijk", "", "at least 12"),
    ("common", "leavemealone", "", "too common"),
    ("common-case", "LeaveMeAlone", "", "too common"),
    ("common-12", "qwerty123456", "", "too common"),
    ("common-digits", "football123456", "", "too common"),
    ("common-digits-symbol", "password2024!", "", "too common"),
    ("common-wrapped", "123password123", "", "too common"),
    ("repeated", "aaaaaaaaaaaa", "", "too common"),
    ("repeated-pair", "abababababab", "", "too common"),
    ("repeated-symbol", "!!!!!!!!!!!!!", "", "too common"),
    ("username", "alice in wonderland 7", "alice", "username"),
    ("username-case", "ALICE in wonderland 7", "alice", "username"),
    ("username-case-2", "alice in wonderland 7", "Alice", "username"),
    ("nul", "copper meadow\x00falcon", "", "control"),
    ("tab", "copper\tmeadow falcon", "", "control"),
    ("newline", "copper meadow falcon\n", "", "control"),
    ("del", "copper meadow\x7ffalcon", "", "control"),
    ("c1", "copper meadow\x85falcon", "", "control"),
    ("surrogate", "copper meadow \ud800 falcon", "", "surrogate"),
    ("over-1024", "copper meadow falcon " * 49, "", "at most 1024"),
]
GOOD_PASSWORDS = [
    ("passphrase", "copper meadow falcon 3", "admin"),
    ("classic", "correct horse battery staple", "alice"),
    ("exactly-12", "tq8#vLm2!pQz", "bob"),
    ("exactly-1024", ("copper meadow falcon " * 49)[:1024], "admin"),
    ("german", "grüne Wiese über dem Fluss", "admin"),
    ("japanese", "日本語のパスフレーズは長いです", "admin"),
    ("accents", "àéîõüçñßøåæœ", "admin"),
    ("emoji", "🦊🌲🦉🍄 forest night", "admin"),
    ("spaces-inside", "  copper  meadow  ", "admin"),
    ("no-username", "copper meadow falcon 3", ""),
]


@pytest.mark.parametrize(
    ("password", "username", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in WEAK_PASSWORDS],
)
def test_check_policy_refuses(password: str, username: str, message: str) -> None:
    with pytest.raises(WeakPassword, match=message) as caught:
        check_policy(password, username)
    assert caught.value.status == 400
    if password.strip():
        assert password not in caught.value.message  # never echoed back


@pytest.mark.parametrize(
    ("password", "username"), [pytest.param(*case[1:], id=case[0]) for case in GOOD_PASSWORDS]
)
def test_check_policy_accepts(password: str, username: str) -> None:
    check_policy(password, username)


async def test_password_hasher_verify_and_unknown_user() -> None:
    hasher = PasswordHasher(rounds=TEST_ROUNDS, workers=1)
    try:
        stored = await hasher.hash(PASSPHRASE)
        assert hash_rounds(stored) == TEST_ROUNDS
        assert await hasher.verify(PASSPHRASE, stored) is True
        assert await hasher.verify("wrong " + PASSPHRASE, stored) is False
        assert await hasher.verify(PASSPHRASE, None) is False  # unknown user
        assert await hasher.verify("", None) is False
        assert await hasher.verify(PASSPHRASE, "bcrypt-sha256$garbage") is False
        assert not hasher.needs_rehash(stored)
        assert hasher.needs_rehash(stored.replace("$2b$04$", "$2b$05$", 1))
        assert hasher.needs_rehash("garbage")
    finally:
        hasher.close()
