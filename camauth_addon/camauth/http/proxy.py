"""The built-in reverse proxy: camera UIs behind CamAuth's login, with no other software.

A request for an upstream (``core.upstreams``) is judged by the one policy function on its
canonical path, like forward-auth judges a proxied request, and only then forwarded: the
path that was judged is the path the camera UI receives. Bodies stream both ways with
back-pressure (nothing is read into memory whole), WebSockets are bridged (``proxy_ws``),
and the whole exchange is watched, so that a revoked session's stream ends at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from ..const import SAFE_METHODS
from ..core.identity import Identity
from ..core.live import CloseReason
from ..core.paths import canonical_target
from ..core.policy import Target, decide
from ..core.redirects import safe_return_path
from ..core.upstreams import CONNECT_TIMEOUT, Upstream, match
from ..errors import BadGateway, BadRequest, CamAuthError, GatewayTimeout, MethodNotAllowed
from .access import check_same_origin, refusal, require_identity
from .app_keys import PAGES, SERVICES, SETTINGS, UPSTREAM_CLIENT
from .context import RequestContext, context
from .forwarded import original
from .live import watch_access
from .navigation import is_navigation, login_page, with_return
from .proxy_headers import browser_response_headers, host_name, upstream_headers
from .proxy_ws import bridge, is_websocket_upgrade
from .renewal import renew_session_cookie
from .responses import json_error

_LOGGER = logging.getLogger(__name__)

_REFUSED_METHODS = frozenset({"CONNECT", "TRACE"})  # a tunnel, and a mirror of the cookies
_NO_CSRF = frozenset({"bearer", "api_key"})
SHORT_ANSWER = 64 * 1024  # answers up to this size are read whole and sent in one write


def upstream_of(request: web.Request) -> Upstream | None:
    """The upstream a request is for, if any (CamAuth's own paths are never one)."""
    upstreams = request.app[SETTINGS].upstreams
    if not upstreams:
        return None
    try:
        path, _ = canonical_target(request.raw_path)
    except BadRequest:
        path = request.path  # the proxy refuses it below, if it is an upstream's at all
    return match(upstreams, host_name(original(request).host), path)


def _judge(request: web.Request, target: Target) -> Identity:
    """The identity the policy allows ``target``; raises the refusal otherwise."""
    ctx = context(request)
    # Nobody: 400 for a malformed credential, else 401 (require_identity raises).
    identity = ctx.identity or ctx.webhook or require_identity(request)
    unsafe = target.method not in SAFE_METHODS or is_websocket_upgrade(request)
    if unsafe and ctx.source not in _NO_CSRF:
        check_same_origin(request)  # the browser's cookie, sent by another site's page
    decision = decide(identity, target, request.app[SERVICES].roles.book)
    if not decision.allowed:
        raise refusal(decision)
    return identity


def _target(request: web.Request) -> Target:
    if request.method in _REFUSED_METHODS:
        raise MethodNotAllowed(f"{request.method} is not passed on")
    path, query = canonical_target(request.raw_path)
    if request.body_exists and request.method in ("GET", "HEAD"):
        raise BadRequest("A GET or HEAD request carries no body", key="body_not_allowed")
    return Target(request.method, path, query)


def _login_hint(request: web.Request) -> str:
    """Where a script's page should go to sign in: back to the page it is on (``Referer``)."""
    referer = request.headers.get("Referer", "")
    told = original(request)
    same_host = f"{told.scheme}://{told.host}/"
    wanted = referer[len(same_host) - 1 :] if referer.startswith(same_host) else "/"
    return with_return(login_page(request), safe_return_path(wanted))


def _refused(request: web.Request, err: CamAuthError) -> web.Response:
    """A refusal as the camera UI's visitor needs it: a page for a browser, else JSON."""
    navigation = is_navigation(request)
    if err.status == 401:
        if navigation:
            target = safe_return_path(request.path_qs)
            return web.Response(
                status=302, headers={"Location": with_return(login_page(request), target)}
            )
        # Frigate's frontend goes to the Location of a 401 answer: our login, not its own.
        return json_error(401, err.message, {"Location": _login_hint(request)}, key=err.key)
    if navigation:
        return request.app[PAGES].error(request, err.status, err.key or "forbidden")
    return json_error(err.status, err.message, err.headers, key=err.key)


async def proxy(request: web.Request, upstream: Upstream) -> web.StreamResponse:
    """Judge a request for a camera UI, then pass it on; refusals as page or JSON."""
    try:
        target = _target(request)
        identity = _judge(request, target)
        if is_websocket_upgrade(request):
            return await bridge(request, upstream, identity, target)
        return await _forward(request, upstream, identity, target)
    except CamAuthError as err:
        return _refused(request, err)


async def _chunks(answer: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    async for chunk in answer.content.iter_any():
        yield chunk


@functools.lru_cache(maxsize=64)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """An upstream's timeouts: connecting, then each read (a stream may last for hours)."""
    return aiohttp.ClientTimeout(sock_connect=CONNECT_TIMEOUT, sock_read=seconds)


async def _forward(
    request: web.Request, upstream: Upstream, identity: Identity, target: Target
) -> web.StreamResponse:
    headers = upstream_headers(request, identity, upstream)
    body = request.content if request.body_exists else None
    try:
        async with request.app[UPSTREAM_CLIENT].request(
            request.method,
            upstream.url(target.path, target.query),
            headers=headers,
            data=body,
            allow_redirects=False,
            timeout=_timeout(upstream.timeout),
        ) as answer:
            return await _relay(request, upstream, target, answer)
    except TimeoutError as err:
        _LOGGER.warning("Upstream %s did not answer in %ss", upstream.name, upstream.timeout)
        raise GatewayTimeout(f"{upstream.name} did not answer in time") from err
    except aiohttp.ClientError as err:
        _LOGGER.warning("Upstream %s unreachable: %s", upstream.name, err)
        raise BadGateway(f"{upstream.name} cannot be reached") from err


def _is_short(request: web.Request, answer: aiohttp.ClientResponse) -> bool:
    """An answer small enough to read whole and send at once (a page's API call, an icon)."""
    length = answer.content_length
    return (
        length is not None
        and length <= SHORT_ANSWER
        and request.method != "HEAD"  # its Content-Length tells of a body it does not have
        and answer.status not in (204, 304)
    )


async def _relay(
    request: web.Request, upstream: Upstream, target: Target, answer: aiohttp.ClientResponse
) -> web.StreamResponse:
    """Pass the camera UI's answer on: a short one whole, else streamed as long as access lasts."""
    ctx = context(request)
    headers = browser_response_headers(answer.headers, upstream)
    if _is_short(request, answer):  # one write instead of three: most answers are short
        body = await answer.read()
        kept = [(name, value) for name, value in headers if name.lower() != "content-length"]
        short = web.Response(status=answer.status, reason=answer.reason, body=body)
        short.headers.extend(kept)
        await renew_session_cookie(request, ctx, short)
        return short
    response = web.StreamResponse(status=answer.status, reason=answer.reason)
    for name, value in headers:
        response.headers.add(name, value)
    await renew_session_cookie(request, ctx, response)

    def close(_: CloseReason) -> None:  # access ended: stop the stream in both directions
        answer.close()
        if request.transport is not None:
            request.transport.close()

    unwatch = watch_access(request, target, close)
    try:
        await response.prepare(request)
        try:
            async for chunk in _chunks(answer):
                await response.write(chunk)
            await response.write_eof()
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            _end_abruptly(request, ctx)
    finally:
        unwatch()
    return response


def _end_abruptly(request: web.Request, ctx: RequestContext) -> None:
    """The stream broke after its head was sent: the browser must see it cut, not complete."""
    if request.transport is not None:
        request.transport.close()
