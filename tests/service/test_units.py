"""Modules on their own: options, the JWT secret, the store, users, passwords, sessions, tokens,
return addresses and the header guard, called directly on real files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import bcrypt
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from camauth.core.passwords import (
    DEFAULT_ROUNDS,
    PasswordHasher,
    WeakPassword,
    check_policy,
    hash_password,
    hash_rounds,
    verify_password,
)
from camauth.core.redirects import safe_return_path
from camauth.core.tokens import TokenCodec
from camauth.http.middlewares import header_guard_middleware
from tests.data import DATA
from tests.helpers import TEST_ROUNDS, wide

SECRET = "k" * 40
OPEN_REDIRECTS = DATA / "openredirects.txt"


def test_token_cache_never_outlives_expiry() -> None:
    codec = TokenCodec(SECRET, cache_size=2)
    token = codec.issue(username="a", role="viewer", sid="s", now=1000.0, expires_at=2000.0)
    assert codec.decode(token, 1500.0) is None  # PyJWT judges expiry by the real clock
    fresh = codec.issue(username="a", role="viewer", sid="s", now=0, expires_at=4102444800)
    claims = codec.decode(fresh, 1500.0)
    assert claims is not None
    assert claims.sid == "s"
    assert codec.decode(fresh, 4102444800.0) is None  # a cached token still expires
    for n in range(5):
        codec.decode(
            codec.issue(username="a", role="viewer", sid=str(n), now=0, expires_at=4102444800), 1.0
        )
    assert len(codec._cache) <= 2


async def test_header_guard_refuses_control_characters() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="reached")

    bad = make_mocked_request("GET", "/", headers={"X-Test": "a\x01b"})
    good = make_mocked_request("GET", "/", headers={"X-Test": "a\tb"})
    refused = await header_guard_middleware(bad, handler)
    assert refused.status == 400
    passed = await header_guard_middleware(good, handler)
    assert isinstance(passed, web.Response)
    assert passed.text == "reached"


# Passwords

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


# Tokens

FUTURE = 4102444800.0  # 2100-01-01: far enough for PyJWT's own clock


def test_token_round_trip() -> None:
    codec = TokenCodec(SECRET)
    now = time.time()
    token = codec.issue(username="alice", role="admin", sid="sid-1", now=now, expires_at=now + 60)
    claims = codec.decode(token, now)
    assert claims is not None
    assert (claims.sub, claims.role, claims.sid) == ("alice", "admin", "sid-1")
    assert claims.iat == int(now)
    assert claims.exp == int(now + 60)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    other = codec.issue(username="alice", role="admin", sid="sid-1", now=now, expires_at=now + 60)
    assert codec.decode(other, now).jti != claims.jti  # type: ignore[union-attr]


def test_expired_token_is_refused() -> None:
    codec = TokenCodec(SECRET)
    now = time.time()
    token = codec.issue(username="a", role="viewer", sid="s", now=now - 100, expires_at=now - 10)
    assert codec.decode(token, now) is None
    assert codec.decode(token, now - 50) is None  # PyJWT's real clock says expired too


def test_cache_does_not_bypass_expiry() -> None:
    codec = TokenCodec(SECRET)
    token = codec.issue(username="a", role="viewer", sid="s", now=0, expires_at=FUTURE)
    assert codec.decode(token, 1000.0) is not None  # verified and cached
    assert codec.decode(token, FUTURE - 1) is not None
    assert codec.decode(token, FUTURE) is None
    assert codec.decode(token, FUTURE + 1) is None
    assert codec.decode(token, 1000.0) is not None


@pytest.mark.parametrize("cache_size", [1, 3, 10])
def test_cache_is_bounded(cache_size: int) -> None:
    codec = TokenCodec(SECRET, cache_size=cache_size)
    tokens = [
        codec.issue(username="a", role="viewer", sid=f"s{n}", now=0, expires_at=FUTURE)
        for n in range(cache_size * 3 + 2)
    ]
    for token in tokens:
        assert codec.decode(token, 1.0) is not None
        assert len(codec._cache) <= cache_size
    for token in tokens:  # evicted tokens still verify
        assert codec.decode(token, 1.0) is not None


def _forge(payload: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


GOOD_CLAIMS = {"sub": "a", "role": "admin", "sid": "s", "jti": "j", "iat": 0, "exp": int(FUTURE)}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_forge(GOOD_CLAIMS, key="x" * 40), id="other-secret"),
        pytest.param(_forge(GOOD_CLAIMS, algorithm="HS512"), id="hs512"),
        pytest.param(
            jwt.encode(GOOD_CLAIMS, None, algorithm="none"),
            id="alg-none",  # type: ignore[arg-type]
        ),
        pytest.param(_forge({k: v for k, v in GOOD_CLAIMS.items() if k != "sid"}), id="no-sid"),
        pytest.param(_forge({k: v for k, v in GOOD_CLAIMS.items() if k != "exp"}), id="no-exp"),
        pytest.param(_forge({**GOOD_CLAIMS, "role": ""}), id="empty-role"),
        pytest.param(_forge({**GOOD_CLAIMS, "role": "r" * 65}), id="long-role"),
        pytest.param(_forge({**GOOD_CLAIMS, "sub": 5}), id="sub-not-text"),
        pytest.param(_forge({**GOOD_CLAIMS, "iat": True}), id="iat-bool"),
        pytest.param(_forge({**GOOD_CLAIMS, "pad": "p" * 5000}), id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("a.b.c", id="garbage"),
        pytest.param("\ud800.\ud800.\ud800", id="surrogates"),
    ],
)
def test_forged_or_malformed_tokens_are_refused_and_not_cached(token: str) -> None:
    codec = TokenCodec(SECRET)
    assert codec.decode(token, 1.0) is None
    assert codec._cache == {}


def test_tampered_payload_is_refused() -> None:
    codec = TokenCodec(SECRET)
    token = codec.issue(username="a", role="viewer", sid="s", now=0, expires_at=FUTURE)
    header, _, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    claims["role"] = "admin"
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert codec.decode(f"{header}.{body}.{signature}", 1.0) is None


# Return addresses: one table, for the server here and the login page in Chromium

RETURN_ADDRESSES = json.loads((DATA / "return_addresses.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("value", "expected"), RETURN_ADDRESSES["cases"])
def test_safe_return_path(value: str, expected: str) -> None:
    assert safe_return_path(value) == expected


def test_no_return_address_is_home() -> None:
    assert safe_return_path(None) == "/"


def _stays_on_host(result: str) -> bool:
    if result == "/":
        return True
    # Also the way a browser reads it: tabs and newlines dropped, backslashes as slashes.
    browser = result.replace("\\", "/").translate({9: None, 10: None, 13: None})
    for candidate in (result, browser):
        parts = urlsplit(urljoin("http://cam.local/", candidate))
        if parts.scheme != "http" or parts.netloc != "cam.local" or parts.hostname != "cam.local":
            return False
    return result.startswith("/") and not result.startswith("//")


OPEN_REDIRECT_PAYLOADS = [
    line for line in OPEN_REDIRECTS.read_text(encoding="utf-8").splitlines() if line
]


def test_open_redirect_payloads_are_loaded() -> None:
    assert len(OPEN_REDIRECT_PAYLOADS) > 500


@pytest.mark.parametrize(
    "payload", OPEN_REDIRECT_PAYLOADS, ids=[f"line{n}" for n in range(len(OPEN_REDIRECT_PAYLOADS))]
)
def test_open_redirect_payloads_stay_on_the_host(payload: str) -> None:
    result = safe_return_path(payload)
    assert result in ("/", payload) or payload.count(".") >= 1  # kept, refused, or resolved
    assert _stays_on_host(result), (payload, result)
