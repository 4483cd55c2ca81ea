"""The add-on's options, table-driven: defaults, good values, strict types, and the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from camauth.errors import ConfigError
from camauth.options import (
    MAX_SESSION_LENGTH,
    AuditSettings,
    AuthSettings,
    ProxySettings,
    Settings,
    load_options,
    parse_options,
)

EXPLICIT_DEFAULTS = {
    "jwt_secret": "",
    "auth": {
        "enabled": True,
        "session_length": 86400,
        "refresh_time": 1800,
        "failed_login_rate_limit": "1/second;5/minute;20/hour",
        "trusted_proxies": [],
        "reset_admin_password": False,
        "cookie_secure": False,
    },
    "proxy": {"auth_secret": "", "header_map": {}, "separator": ",", "default_role": "viewer"},
    "log_level": "info",
}


def assert_refused(raw: object, path: str) -> None:
    """``raw`` is refused with one line that names the option at ``path`` and gives a reason."""
    with pytest.raises(ConfigError) as caught:
        parse_options(raw)
    message = str(caught.value)
    prefix = f"invalid option '{path}': "
    assert message.startswith(prefix), message
    assert "\n" not in message  # one line at start-up
    assert len(message) > len(prefix), message  # and a reason


def option(settings: Settings, path: str) -> Any:
    """The value at a dotted ``path`` in ``settings`` (through dataclasses and dicts)."""
    value: Any = settings
    for part in path.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


def nested(path: str, value: Any) -> dict[str, Any]:
    """Raw options that set only the option at ``section.name``."""
    section, name = path.split(".")
    return {section: {name: value}}


@pytest.mark.parametrize("raw", [{}, EXPLICIT_DEFAULTS], ids=["empty", "explicit"])
def test_no_options_and_explicit_defaults_are_the_settings_defaults(raw: dict[str, Any]) -> None:
    assert parse_options(raw) == Settings()


def test_no_file_is_the_settings_defaults() -> None:
    assert load_options(None) == Settings()
    assert Settings().auth == AuthSettings()
    assert Settings().proxy == ProxySettings()
    assert Settings().audit == AuditSettings()
    assert Settings().auth.trusted_proxies == ()  # trust no proxy unless told


@pytest.mark.parametrize("raw", [[], [1, 2], "options", 5, None, True])
def test_options_must_be_an_object(raw: Any) -> None:
    with pytest.raises(ConfigError, match="top level"):
        parse_options(raw)


# Wrong booleans and integers are in the type tables below.
@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"auth": {"failed_login_rate_limit": "0/minute"}}, "auth.failed_login_rate_limit"),
        ({"proxy": {"default_role": "no spaces"}}, "proxy.default_role"),
        ({"proxy": {"group_roles": ["admins"]}}, "proxy.group_roles.0"),
        ({"proxy": {"group_roles": ["=admin"]}}, "proxy.group_roles.0"),
        ({"auth": {"cookie_domain": "localhost"}}, "auth.cookie_domain"),
        ({"auth": {"cookie_domain": "exa mple.com"}}, "auth.cookie_domain"),
        ({"auth": {"login_url": "javascript:alert(1)"}}, "auth.login_url"),
        ({"auth": {"login_url": "//evil.example/login"}}, "auth.login_url"),
        ({"auth": {"login_url": "https://user@auth.example/login"}}, "auth.login_url"),
        ({"auth": {"return_domains": ["*.example.com"]}}, "auth.return_domains.0"),
        ({"auth": {"return_domains": "example.com"}}, "auth.return_domains"),
        ({"auth": {"homeassistant_login": "yes"}}, "auth.homeassistant_login"),
        ({"proxy": {"header_map": {"user": "bad header"}}}, "proxy.header_map.user"),
        ({"audit": {"max_events": 10}}, "audit.max_events"),
        ({"extra": 1}, "extra"),
        ({"auth": {"bogus": 1}}, "auth.bogus"),
        ({"auth": "yes"}, "auth"),
        ({"auth": []}, "auth"),
        ({"auth": {"session_length": "x"}}, "auth.session_length"),
        ({"auth": {"session_length": 5}}, "auth.session_length"),
        ({"auth": {"session_length": 59, "refresh_time": 0}}, "auth.session_length"),
        ({"auth": {"session_length": MAX_SESSION_LENGTH + 1}}, "auth.session_length"),
        ({"auth": {"session_length": -86400}}, "auth.session_length"),
        ({"auth": {"refresh_time": -1}}, "auth.refresh_time"),
        ({"auth": {"refresh_time": "10"}}, "auth.refresh_time"),
        ({"auth": {"refresh_time": 86400}}, "auth.refresh_time"),
        ({"auth": {"session_length": 3600, "refresh_time": 7200}}, "auth.refresh_time"),
        ({"auth": {"failed_login_rate_limit": "lots"}}, "auth.failed_login_rate_limit"),
        ({"auth": {"failed_login_rate_limit": 5}}, "auth.failed_login_rate_limit"),
        ({"auth": {"failed_login_rate_limit": "1/fortnight"}}, "auth.failed_login_rate_limit"),
        ({"auth": {"failed_login_user_rate_limit": ""}}, "auth.failed_login_user_rate_limit"),
        (
            {"auth": {"failed_login_user_rate_limit": "1/second"}},
            "auth.failed_login_user_rate_limit",
        ),
        (
            {"auth": {"failed_login_user_rate_limit": "101/hour"}},
            "auth.failed_login_user_rate_limit",
        ),
        (
            {"auth": {"failed_login_user_rate_limit": "lots"}},
            "auth.failed_login_user_rate_limit",
        ),
        ({"auth": {"trusted_proxies": "10.0.0.0/8"}}, "auth.trusted_proxies"),
        ({"auth": {"trusted_proxies": ["not-an-ip"]}}, "auth.trusted_proxies.0"),
        ({"auth": {"trusted_proxies": ["10.0.0.0/8", 5]}}, "auth.trusted_proxies.1"),
        ({"auth": {"trusted_proxies": ["10.0.0.0/33"]}}, "auth.trusted_proxies.0"),
        ({"auth": {"trusted_proxies": ["::/129"]}}, "auth.trusted_proxies.0"),
        ({"auth": {"trusted_proxies": [None]}}, "auth.trusted_proxies.0"),
        ({"auth": {"trusted_proxies": [""]}}, "auth.trusted_proxies.0"),
        ({"proxy": {"auth_secret": 5}}, "proxy.auth_secret"),
        ({"proxy": {"auth_secret": "x" * 4097}}, "proxy.auth_secret"),
        ({"proxy": {"header_map": {"user": "X-User\r\nX-Evil: 1"}}}, "proxy.header_map.user"),
        ({"proxy": {"header_map": {"role": ""}}}, "proxy.header_map.role"),
        ({"proxy": {"header_map": {"groups": 5}}}, "proxy.header_map.groups"),
        ({"proxy": {"header_map": {"bogus": "X-Bogus"}}}, "proxy.header_map.bogus"),
        ({"proxy": {"separator": ""}}, "proxy.separator"),
        ({"proxy": {"separator": "123456789"}}, "proxy.separator"),
        ({"proxy": {"default_role": "Admin"}}, "proxy.default_role"),
        ({"proxy": {"logout_url": 5}}, "proxy.logout_url"),
        ({"audit": {"retention_days": 0}}, "audit.retention_days"),
        ({"audit": {"retention_days": 3651}}, "audit.retention_days"),
        ({"log_level": "loud"}, "log_level"),
        ({"log_level": 5}, "log_level"),
        ({"log_level": None}, "log_level"),
        ({"jwt_secret": 5}, "jwt_secret"),
        ({"jwt_secret": "x" * 4097}, "jwt_secret"),
    ],
)
def test_bad_options_name_the_option(raw: dict[str, object], path: str) -> None:
    assert_refused(raw, path)


@pytest.mark.parametrize(
    ("raw", "path", "expected"),
    [
        ({"auth": {"enabled": False}}, "auth.enabled", False),
        ({"auth": {"session_length": 60, "refresh_time": 0}}, "auth.session_length", 60),
        (
            {"auth": {"session_length": MAX_SESSION_LENGTH}},
            "auth.session_length",
            MAX_SESSION_LENGTH,
        ),
        ({"auth": {"refresh_time": 0}}, "auth.refresh_time", 0),
        ({"auth": {"session_length": 3600, "refresh_time": 3599}}, "auth.refresh_time", 3599),
        (
            {"auth": {"failed_login_rate_limit": "10/minute;100/hour"}},
            "auth.failed_login_rate_limit",
            "10/minute;100/hour",
        ),
        (
            {"auth": {"failed_login_user_rate_limit": "100/hour"}},
            "auth.failed_login_user_rate_limit",
            "100/hour",
        ),
        (
            {"auth": {"failed_login_user_rate_limit": "3/minute;20/hour"}},
            "auth.failed_login_user_rate_limit",
            "3/minute;20/hour",
        ),
        ({"auth": {"reset_admin_password": True}}, "auth.reset_admin_password", True),
        ({"auth": {"cookie_secure": True}}, "auth.cookie_secure", True),
        ({"proxy": {"auth_secret": "p" * 40}}, "proxy.auth_secret", "p" * 40),
        (
            {"proxy": {"header_map": {"user": "Remote-User", "groups": "X_Forwarded_Groups"}}},
            "proxy.header_map",
            {"user": "Remote-User", "groups": "X-Forwarded-Groups"},
        ),
        (
            {"proxy": {"header_map": {"email": " x-auth-request-email "}}},
            "proxy.header_map.email",
            "X-Auth-Request-Email",
        ),
        ({"proxy": {"separator": "|"}}, "proxy.separator", "|"),
        ({"proxy": {"default_role": "admin"}}, "proxy.default_role", "admin"),
        (
            {"proxy": {"logout_url": "https://sso.example/logout"}},
            "proxy.logout_url",
            "https://sso.example/logout",
        ),
        ({"audit": {"retention_days": 1}}, "audit.retention_days", 1),
        ({"log_level": "DEBUG"}, "log_level", "debug"),
        ({"log_level": "warning"}, "log_level", "warning"),
        ({"jwt_secret": "s" * 64}, "jwt_secret", "s" * 64),
    ],
)
def test_good_options_are_kept(raw: dict[str, Any], path: str, expected: Any) -> None:
    assert option(parse_options(raw), path) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["10.0.0.1"], ["10.0.0.1/32"]),
        ([" 192.168.1.0/24 "], ["192.168.1.0/24"]),
        (["192.168.1.5/24"], ["192.168.1.0/24"]),
        (["0.0.0.0/0"], ["0.0.0.0/0"]),
        (["::1"], ["::1/128"]),
        (["fd00::/8"], ["fd00::/8"]),
        (["2001:db8::/32"], ["2001:db8::/32"]),
        (["2001:db8::1/64"], ["2001:db8::/64"]),
        (["fe80::/10"], ["fe80::/10"]),
        (["::/0"], ["::/0"]),
        (["::ffff:10.0.0.0/104"], ["10.0.0.0/8"]),
        (["::ffff:192.168.1.1"], ["192.168.1.1/32"]),
        (["fd00::/8", "::ffff:10.0.0.0/104"], ["fd00::/8", "10.0.0.0/8"]),  # kept in order
    ],
)
def test_trusted_proxies_accept_ipv4_and_ipv6(values: list[str], expected: list[str]) -> None:
    auth = parse_options({"auth": {"trusted_proxies": values}}).auth
    assert [str(network) for network in auth.trusted_proxies] == expected


BOOLEAN_OPTIONS = ["auth.enabled", "auth.reset_admin_password", "auth.cookie_secure"]
INTEGER_OPTIONS = [
    "auth.session_length",
    "auth.refresh_time",
    "audit.retention_days",
    "audit.max_events",
]
NOT_BOOLEANS = [1, 0, "true", "false", "yes", None, 1.0]
NOT_INTEGERS = [True, False, 1.5, 3600.0, "3600", None, [3600]]


@pytest.mark.parametrize("path", BOOLEAN_OPTIONS)
@pytest.mark.parametrize("value", [True, False])
def test_booleans_accept_true_and_false(path: str, value: bool) -> None:
    assert option(parse_options(nested(path, value)), path) is value


# Booleans must be real booleans; integers refuse booleans, fractions and text.
WRONG_TYPES = [(path, value) for path in BOOLEAN_OPTIONS for value in NOT_BOOLEANS] + [
    (path, value) for path in INTEGER_OPTIONS for value in NOT_INTEGERS
]


@pytest.mark.parametrize(("path", "value"), WRONG_TYPES)
def test_wrong_types_are_refused(path: str, value: Any) -> None:
    assert_refused(nested(path, value), path)


def test_load_options_reads_and_validates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "options.json"
    path.write_text(json.dumps({"auth": {"session_length": 3600}, "log_level": "debug"}))
    settings = load_options(path)
    assert settings.auth.session_length == 3600
    assert settings.log_level == "debug"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "not found"),
        (b"{", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "cannot read"),
        (b"[]", "top level"),
        (b'{"auth": {"session_length": 5}}', "auth.session_length"),
    ],
    ids=["missing", "truncated", "empty", "not-utf8", "array", "invalid"],
)
def test_load_options_errors_are_config_errors(
    tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    path = tmp_path / "options.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=fragment) as caught:
        load_options(path)
    assert "\n" not in str(caught.value)


def test_load_options_on_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_options(tmp_path)
