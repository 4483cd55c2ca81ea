"""The client address of every request, decided once, here.

``X-Forwarded-For`` is believed only when the direct peer is in ``auth.trusted_proxies``
(empty by default). It is then walked right to left, past trusted hops; the first untrusted
address is the client. Nothing a client sends can make a malformed, empty or oversized header
raise: the walk stops and falls back to the last address that a trusted hop vouched for.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import web

from ..options import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOPS = 32  # nobody is behind 32 proxies; bounds the work an attacker can cause
MAX_HEADER = 4096


def parse_address(value: str) -> IPAddress | None:
    """An address from a hop or peer: ports, brackets and zone ids dropped; v4-mapped as v4."""
    text = value.strip()
    if text.startswith("["):  # [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    text = text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    """Whether an address lies in one of the trusted networks."""
    return any(address in network for network in trusted)


def _hops(headers: Iterable[str]) -> list[str]:
    joined = ",".join(headers)[-MAX_HEADER:]
    return [hop for hop in joined.split(",") if hop.strip()][-MAX_HOPS:]


def resolve_client(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client address for a peer and its ``X-Forwarded-For`` values."""
    current = parse_address(peer or "")
    if current is None:
        return "unknown"
    if not trusted or not is_trusted(current, trusted):
        return str(current)
    for hop in reversed(_hops(forwarded_for)):
        address = parse_address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(address, trusted):
            break
    return str(current)


def peer_is_trusted(request: web.Request, trusted: Sequence[IPNetwork]) -> bool:
    """Whether the direct peer is one of the trusted proxies."""
    address = parse_address(request.remote or "")
    return address is not None and bool(trusted) and is_trusted(address, trusted)


def client_address(request: web.Request, trusted: Sequence[IPNetwork] = ()) -> str:
    """The client address of a request (the gateway middleware asks once per request)."""
    forwarded = request.headers.getall("X-Forwarded-For", []) if trusted else ()
    return resolve_client(request.remote, forwarded, trusted)
