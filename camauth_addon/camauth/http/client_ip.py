"""The client address of every request, decided once, here.

``X-Forwarded-For`` is believed only when the direct peer is in ``auth.trusted_proxies``
(empty by default). It is then walked right to left, past trusted hops; the first untrusted
address is the client. Nothing a client sends can make a malformed, empty or oversized header
raise: the walk stops and falls back to the last address that a trusted hop vouched for.

Every request asks, and nearly every request asks the same question again (the same proxy or
browser, the same header), so :class:`ClientResolver` remembers the last few thousand
answers; an answer depends only on the peer, the header and the trusted networks.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence

from aiohttp import hdrs, web

from ..core.memo import remember
from ..options import IPNetwork

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_HOPS = 32  # nobody is behind 32 proxies; bounds the work an attacker can cause
MAX_HEADER = 4096
MEMO_SIZE = 4096  # answers remembered (then forgotten all at once)
MEMO_HEADER = 256  # longer X-Forwarded-For values are resolved each time, never remembered


@functools.lru_cache(maxsize=4096)  # peers and hops repeat; parsing one costs microseconds
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


class ClientResolver:
    """Resolves client addresses for one set of trusted proxies, remembering recent answers.

    The memo is bounded in entries and in what each holds (a peer and a short header), so a
    client sending ever new headers costs itself a resolution each time, and nobody memory.
    """

    def __init__(self, trusted: Sequence[IPNetwork]) -> None:
        """Resolve against these trusted networks (empty: never read X-Forwarded-For)."""
        self.trusted = tuple(trusted)
        self._memo: dict[tuple[str | None, tuple[str, ...]], str] = {}
        self._peers: dict[str | None, bool] = {}

    def client(self, request: web.BaseRequest) -> str:
        """The client address of a request (the gateway middleware asks once per request)."""
        peer = request.remote
        forwarded: tuple[str, ...] = ()
        if self.trusted:
            forwarded = tuple(request.headers.getall(hdrs.X_FORWARDED_FOR, ()))
        key = (peer, forwarded)
        found = self._memo.get(key)
        if found is None:
            found = resolve_client(peer, forwarded, self.trusted)
            if sum(map(len, forwarded)) <= MEMO_HEADER and (peer is None or len(peer) <= 64):
                remember(self._memo, key, found, MEMO_SIZE)
        return found

    def peer_is_trusted(self, request: web.BaseRequest) -> bool:
        """Whether the direct peer is one of the trusted proxies."""
        peer = request.remote
        found = self._peers.get(peer)
        if found is None:
            address = parse_address(peer or "")
            found = address is not None and bool(self.trusted) and is_trusted(address, self.trusted)
            if peer is None or len(peer) <= 64:
                remember(self._peers, peer, found, MEMO_SIZE)
        return found
