"""Session tokens: signed JWTs, their expiry, and the bounded cache of verified ones."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from camauth.core.tokens import TokenCodec

SECRET = "k" * 40

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
