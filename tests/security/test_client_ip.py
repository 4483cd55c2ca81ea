"""The client address: X-Forwarded-For believed only from trusted proxies, never raising."""

from __future__ import annotations

import contextlib
import ipaddress
from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camauth.http.client_ip import resolve_client
from camauth.options import parse_options

from .conftest import ADMIN_PASSWORD, ServiceFactory, with_auth
from .helpers import INVALID_CREDENTIALS, PROPERTY, TOO_MANY, bearer, login_status, token_for

LOOPBACK = (ip_network("127.0.0.1/32"),)
LAN = (ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"))
V6_PROXIES = (ip_network("2001:db8:1::/48"),)

CASES = [
    # (id, peer, X-Forwarded-For header lines, trusted networks, expected client)
    ("no-trust-ignores-xff", "127.0.0.1", ["203.0.113.9"], (), "127.0.0.1"),
    ("no-trust-ignores-many-hops", "127.0.0.1", ["10.0.0.1, 203.0.113.9"], (), "127.0.0.1"),
    ("untrusted-peer-ignored", "198.51.100.1", ["10.0.0.1"], LAN, "198.51.100.1"),
    ("trusted-peer-one-hop", "127.0.0.1", ["203.0.113.9"], LOOPBACK, "203.0.113.9"),
    ("spoofed-left-part-ignored", "127.0.0.1", ["1.1.1.1, 203.0.113.9"], LOOPBACK, "203.0.113.9"),
    (
        "walk-past-trusted-hops",
        "127.0.0.1",
        ["198.51.100.7, 203.0.113.9, 10.0.0.2, 10.0.0.3"],
        LAN,
        "203.0.113.9",
    ),
    ("all-hops-trusted-leftmost", "127.0.0.1", ["10.0.0.3, 10.0.0.2"], LAN, "10.0.0.3"),
    ("no-header", "127.0.0.1", [], LOOPBACK, "127.0.0.1"),
    ("empty-header", "127.0.0.1", [""], LOOPBACK, "127.0.0.1"),
    ("whitespace-header", "127.0.0.1", ["   ,  ,\t"], LOOPBACK, "127.0.0.1"),
    ("malformed-only", "127.0.0.1", ["not-an-address"], LOOPBACK, "127.0.0.1"),
    ("malformed-left-of-client", "127.0.0.1", ["junk, 203.0.113.9"], LOOPBACK, "203.0.113.9"),
    ("malformed-after-trusted", "127.0.0.1", ["203.0.113.9, junk, 10.0.0.2"], LAN, "10.0.0.2"),
    ("half-a-bracket", "127.0.0.1", ["[2001:db8::1"], LOOPBACK, "127.0.0.1"),
    ("v4-with-port", "127.0.0.1", ["1.2.3.4:5678"], LOOPBACK, "1.2.3.4"),
    ("v6-with-port", "127.0.0.1", ["[2001:db8::1]:443"], LOOPBACK, "2001:db8::1"),
    ("v6-bracketed", "127.0.0.1", ["[2001:db8::1]"], LOOPBACK, "2001:db8::1"),
    ("v6-plain", "127.0.0.1", ["2001:db8::1"], LOOPBACK, "2001:db8::1"),
    ("v6-zone-id", "127.0.0.1", ["fe80::1%eth0"], LOOPBACK, "fe80::1"),
    ("v6-zone-id-bracketed", "127.0.0.1", ["[fe80::1%25eth0]:80"], LOOPBACK, "fe80::1"),
    ("multiple-lines", "127.0.0.1", ["198.51.100.7", "203.0.113.9"], LOOPBACK, "203.0.113.9"),
    ("multiple-lines-trusted", "127.0.0.1", ["203.0.113.9", "10.0.0.2"], LAN, "203.0.113.9"),
    ("mapped-peer-trusted", "::ffff:127.0.0.1", ["203.0.113.9"], LOOPBACK, "203.0.113.9"),
    ("mapped-peer-untrusted", "::ffff:198.51.100.1", ["10.0.0.1"], LAN, "198.51.100.1"),
    ("mapped-peer-no-trust", "::ffff:10.0.0.1", ["203.0.113.9"], (), "10.0.0.1"),
    ("mapped-hop-as-v4", "127.0.0.1", ["::ffff:203.0.113.9"], LOOPBACK, "203.0.113.9"),
    ("mapped-hop-trusted", "127.0.0.1", ["203.0.113.9, ::ffff:10.0.0.2"], LAN, "203.0.113.9"),
    ("mapped-hop-bracketed", "127.0.0.1", ["[::ffff:203.0.113.9]:80"], LOOPBACK, "203.0.113.9"),
    ("v6-cidr-peer", "2001:db8:1::5", ["203.0.113.9"], V6_PROXIES, "203.0.113.9"),
    (
        "v6-cidr-walk",
        "2001:db8:1::5",
        ["2001:db8:ffff::9, 2001:db8:1:2::7"],
        V6_PROXIES,
        "2001:db8:ffff::9",
    ),
    ("v6-peer-outside-cidr", "2001:db8:2::5", ["203.0.113.9"], V6_PROXIES, "2001:db8:2::5"),
    ("no-peer", None, ["203.0.113.9"], LOOPBACK, "unknown"),
    ("garbage-peer", "garbage", ["203.0.113.9"], LOOPBACK, "unknown"),
]


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_resolve_client_table(
    peer: str | None, xff: list[str], trusted: tuple[ipaddress.IPv4Network, ...], expected: str
) -> None:
    assert resolve_client(peer, xff, trusted) == expected


def test_huge_header_is_bounded_and_still_finds_the_client() -> None:
    hops = ", ".join(["10.0.0.9"] * 10_000) + ", 203.0.113.9, 10.0.0.2"
    assert len(hops) > 100_000
    assert resolve_client("127.0.0.1", [hops], LAN) == "203.0.113.9"
    assert resolve_client("127.0.0.1", ["x" * 100_000], LOOPBACK) == "127.0.0.1"
    assert resolve_client("127.0.0.1", ["203.0.113.9, " + "9" * 100_000], LOOPBACK) == "127.0.0.1"


def test_thousand_hops() -> None:
    addresses = [f"198.51.{i // 256}.{i % 256}" for i in range(1000)]
    # Only the rightmost untrusted hop counts, however many come before it.
    assert resolve_client("127.0.0.1", [", ".join(addresses)], LOOPBACK) == addresses[-1]
    assert resolve_client("127.0.0.1", addresses, LOOPBACK) == addresses[-1]
    trusted = [f"10.0.{i // 256}.{i % 256}" for i in range(1000)]
    # All trusted: the walk is bounded and ends on a trusted hop from the header.
    assert resolve_client("127.0.0.1", [", ".join(trusted)], LAN) in trusted


def test_mapped_trusted_network_matches_the_v4_peer() -> None:
    """A trusted proxy written as ``::ffff:10.0.0.0/104`` is the same proxy as 10.0.0.0/8."""
    settings = parse_options({"auth": {"trusted_proxies": ["::ffff:10.0.0.0/104"]}})
    trusted = settings.auth.trusted_proxies
    assert resolve_client("::ffff:10.0.0.1", ["203.0.113.9"], trusted) == "203.0.113.9"
    assert resolve_client("10.0.0.1", ["203.0.113.9"], trusted) == "203.0.113.9"


TRUSTED_SETS = st.sampled_from([(), LOOPBACK, LAN, V6_PROXIES, LAN + V6_PROXIES])
HOP = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(
        ["10.0.0.2", "127.0.0.1", "::ffff:10.0.0.3", "[2001:db8::1]:443", "1.2.3.4:80", ""]
    ),
    st.text(max_size=24),
)
HEADER_LINE = st.lists(HOP, max_size=8).map(", ".join)
HEADERS = st.lists(st.one_of(HEADER_LINE, st.text(max_size=200)), max_size=4)
PEER = st.one_of(st.none(), st.text(max_size=40), st.ip_addresses().map(str))


def _normal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _candidates(text: str) -> set[str]:
    """Every address a hop of the header could stand for (ports, brackets, zones dropped)."""
    found = set()
    for hop in text.split(","):
        raw = hop.strip()
        forms = {raw, raw.split("%")[0]}
        if raw.startswith("[") and "]" in raw:
            forms.add(raw[1 : raw.index("]")].split("%")[0])
        if raw.count(":") == 1:
            forms.add(raw.split(":")[0])
        for form in forms:
            with contextlib.suppress(ValueError):
                found.add(_normal(ipaddress.ip_address(form)))
    return found


@PROPERTY
@given(peer=PEER, headers=HEADERS, trusted=TRUSTED_SETS)
def test_never_raises_and_only_names_the_peer_or_a_hop(
    peer: str | None, headers: list[str], trusted: tuple[ipaddress.IPv4Network, ...]
) -> None:
    result = resolve_client(peer, headers, trusted)
    allowed = _candidates(peer or "") | _candidates(",".join(headers)) | {"unknown"}
    assert result in allowed


@PROPERTY
@given(peer=st.ip_addresses(), headers=HEADERS)
def test_without_trusted_proxies_the_peer_is_the_client(
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address, headers: list[str]
) -> None:
    assert resolve_client(str(peer), headers, ()) == _normal(peer)


@PROPERTY
@given(peer=st.ip_addresses(), headers=HEADERS, trusted=TRUSTED_SETS)
def test_an_untrusted_peers_headers_never_matter(
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address,
    headers: list[str],
    trusted: tuple[ipaddress.IPv4Network, ...],
) -> None:
    normal = ipaddress.ip_address(_normal(peer))
    if any(normal.version == net.version and normal in net for net in trusted):
        return
    assert resolve_client(str(peer), headers, trusted) == _normal(peer)
    assert resolve_client(str(peer), [], trusted) == _normal(peer)


async def test_spoofed_xff_does_not_escape_the_client_limit(start_service: ServiceFactory) -> None:
    service = await start_service(with_auth(failed_login_rate_limit="5/minute"))
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    for i in range(5):
        status, body, _ = await login_status(
            service, "admin", "wrong password", headers={"X-Forwarded-For": f"203.0.113.{i}"}
        )
        assert (status, body) == (401, INVALID_CREDENTIALS)
    status, body, _ = await login_status(
        service, "admin", ADMIN_PASSWORD, headers={"X-Forwarded-For": "203.0.113.200"}
    )
    assert (status, body) == (429, TOO_MANY)
    response = await service.request("GET", "/api/lockouts", headers=bearer(admin))
    lockouts = await response.json()
    assert [(item["kind"], item["key"]) for item in lockouts] == [("client", "127.0.0.1")]


async def test_xff_from_a_trusted_proxy_names_the_client(start_service: ServiceFactory) -> None:
    service = await start_service(
        with_auth(failed_login_rate_limit="5/minute", trusted_proxies=LOOPBACK)
    )
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    for _ in range(5):
        status, body, _ = await login_status(service, "admin", "wrong", headers=forwarded)
        assert (status, body) == (401, INVALID_CREDENTIALS)
    status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD, headers=forwarded)
    assert (status, body) == (429, TOO_MANY)
    response = await service.request("GET", "/api/lockouts", headers=bearer(admin))
    lockouts = await response.json()
    assert [(item["kind"], item["key"]) for item in lockouts] == [("client", "203.0.113.9")]
    # Another client behind the same proxy, and the proxy itself, are not locked out.
    other = {"X-Forwarded-For": "203.0.113.10"}
    status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD, headers=other)
    assert status == 200, body
    status, body, _ = await login_status(service, "admin", ADMIN_PASSWORD)
    assert status == 200, body


async def test_underscore_xff_is_not_xff(start_service: ServiceFactory) -> None:
    """``X_Forwarded_For`` (oauth2-proxy CVE-2025-64484) is never read as X-Forwarded-For."""
    service = await start_service(
        with_auth(failed_login_rate_limit="5/minute", trusted_proxies=LOOPBACK)
    )
    admin = await token_for(service, "admin", ADMIN_PASSWORD)
    for i in range(5):
        status, _, _ = await login_status(
            service, "admin", "wrong", headers={"X_Forwarded_For": f"203.0.113.{i}"}
        )
        assert status == 401
    response = await service.request("GET", "/api/lockouts", headers=bearer(admin))
    lockouts = await response.json()
    assert [(item["kind"], item["key"]) for item in lockouts] == [("client", "127.0.0.1")]
