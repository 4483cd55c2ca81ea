"""Modules on their own: options, the JWT secret, the store, sessions, tokens, the header guard."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from camauth import store
from camauth.api.middlewares import header_guard_middleware
from camauth.errors import ConfigError
from camauth.jwt_secret import find_jwt_secret, generate_jwt_secret
from camauth.options import Settings, parse_options
from camauth.sessions import Principal, Session, SessionDirectory
from camauth.tokens import TokenCodec

SECRET = "k" * 40


def test_options_default_to_the_settings_defaults() -> None:
    assert parse_options({}) == Settings()


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"auth": {"enabled": 1}}, "auth.enabled"),
        ({"auth": {"session_length": True}}, "auth.session_length"),
        ({"auth": {"session_length": 1.5}}, "auth.session_length"),
        ({"auth": {"failed_login_rate_limit": "0/minute"}}, "auth.failed_login_rate_limit"),
        ({"proxy": {"default_role": "root"}}, "proxy.default_role"),
        ({"proxy": {"header_map": {"user": "bad header"}}}, "proxy.header_map.user"),
        ({"audit": {"max_events": 10}}, "audit.max_events"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_options_name_the_option(raw: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        parse_options(raw)


def test_ipv6_and_mapped_trusted_proxies() -> None:
    auth = parse_options({"auth": {"trusted_proxies": ["fd00::/8", "::ffff:10.0.0.0/104"]}}).auth
    assert [str(n) for n in auth.trusted_proxies] == ["fd00::/8", "10.0.0.0/8"]


def test_jwt_secret_lookup_order(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (tmp_path / ".jwt_secret").write_text("f" * 40)
    env = {"CAMAUTH_JWT_SECRET": "e" * 40}
    assert (
        find_jwt_secret(tmp_path, "o" * 40, environ=env, secrets_dir=secrets_dir).value == "e" * 40
    )
    (secrets_dir / "CAMAUTH_JWT_SECRET").write_text("d" * 40 + "\n")
    found = find_jwt_secret(tmp_path, "o" * 40, environ={}, secrets_dir=secrets_dir)
    assert found.value == "d" * 40
    (secrets_dir / "CAMAUTH_JWT_SECRET").write_text("  \n")
    assert (
        find_jwt_secret(tmp_path, "o" * 40, environ={}, secrets_dir=secrets_dir).value == "o" * 40
    )
    assert find_jwt_secret(tmp_path, "", environ={}, secrets_dir=secrets_dir).value == "f" * 40
    (tmp_path / ".jwt_secret").unlink()
    assert find_jwt_secret(tmp_path, "", environ={}, secrets_dir=secrets_dir) is None
    with pytest.raises(ConfigError, match="too short"):
        find_jwt_secret(tmp_path, "short", environ={}, secrets_dir=secrets_dir)


def test_generated_secret_is_private_and_never_overwritten(tmp_path: Path) -> None:
    secret = generate_jwt_secret(tmp_path)
    path = tmp_path / ".jwt_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == secret.value + "\n"
    with pytest.raises(FileExistsError):
        generate_jwt_secret(tmp_path)


def test_migrations_are_idempotent_and_refuse_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "camauth.db"
    conn = store.connect(path)
    assert store.schema_version(conn) == len(store.MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    conn = store.connect(path)  # a second open applies nothing twice
    versions = conn.execute("SELECT version FROM schema_version").fetchall()
    assert [row[0] for row in versions] == list(range(1, len(store.MIGRATIONS) + 1))
    conn.execute("INSERT INTO schema_version (version) VALUES (999)")
    conn.close()
    with pytest.raises(RuntimeError, match="newer"):
        store.connect(path)


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    conn = store.connect(tmp_path / "camauth.db")

    def insert_twice() -> None:
        with store.transaction(conn):
            conn.execute("INSERT INTO counters (name, value) VALUES ('a', 1)")
            conn.execute("INSERT INTO counters (name, value) VALUES ('a', 2)")

    with pytest.raises(sqlite3.IntegrityError):
        insert_twice()
    assert conn.execute("SELECT COUNT(*) FROM counters").fetchone()[0] == 0
    conn.close()


def test_session_directory_expiry_and_removal() -> None:
    directory = SessionDirectory()
    directory.set_principal(Principal(1, "alice", "viewer"))
    directory.add_session(Session("s1", 1, expires_at=100.0))
    assert directory.lookup("s1", 99.0) == Principal(1, "alice", "viewer")
    assert directory.lookup("s1", 100.0) is None
    directory.extend_session("s1", 200.0)
    assert directory.lookup("s1", 150.0) is not None
    directory.remove_user_sessions(1)
    assert directory.lookup("s1", 150.0) is None
    assert directory.has_username("alice")
    assert not directory.has_username("bob")


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
