"""TLS on the gateway port: modern versions only, secure cookies, reloading certificates."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import trustme
from aiohttp import web

from camauth.errors import ConfigError
from camauth.http.app import create_app
from camauth.http.tls import Certificates
from camauth.options import TlsSettings, parse_options
from tests.service.conftest import ADMIN_PASSWORD, Service, ServiceFactory

CA = trustme.CA()


@dataclass
class Pair:
    """A certificate and key written where the options point."""

    certfile: Path
    keyfile: Path

    def write(self, ca: trustme.CA) -> trustme.LeafCert:
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        leaf.cert_chain_pems[0].write_to_path(str(self.certfile))
        for extra in leaf.cert_chain_pems[1:]:
            extra.write_to_path(str(self.certfile), append=True)
        leaf.private_key_pem.write_to_path(str(self.keyfile))
        return leaf


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    found = Pair(tmp_path / "fullchain.pem", tmp_path / "privkey.pem")
    found.write(CA)
    return found


def client_context(ca: trustme.CA = CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@dataclass
class Secure:
    """CamAuth on HTTPS, and what it was started with."""

    url: str
    certificates: Certificates
    service: Service


@pytest.fixture
async def secure(start_service: ServiceFactory, pair: Pair) -> AsyncIterator[Secure]:
    options = {"ssl": True, "certfile": str(pair.certfile), "keyfile": str(pair.keyfile)}
    settings = parse_options(options)
    service = await start_service(settings)  # the plain listener of the fixture, unused here
    certificates = Certificates(settings.tls)
    runner = web.AppRunner(create_app(settings, service.services))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certificates.context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Secure(f"https://127.0.0.1:{port}", certificates, service)
    await runner.cleanup()


async def peer_certificate(url: str, context: ssl.SSLContext) -> bytes:
    """The certificate (DER) a new connection to ``url`` is shown."""
    port = int(url.rsplit(":", 1)[1])
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    try:
        return bytes(writer.get_extra_info("ssl_object").getpeercert(binary_form=True))
    finally:
        writer.close()
        await writer.wait_closed()


def der(leaf: trustme.LeafCert) -> bytes:
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


async def test_login_over_https_sets_a_secure_cookie(secure: Secure) -> None:
    async with aiohttp.ClientSession() as client:
        response = await client.post(
            f"{secure.url}/api/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
            ssl=client_context(),
        )
        assert response.status == 200
        assert response.cookies["camauth_token"]["secure"] is True


def _capped(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that could speak anything from TLS 1.0 up to ``version``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    CA.configure_trust(context)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():  # old versions on purpose: the server must refuse them
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = version
    return context


async def test_old_protocol_versions_are_refused(secure: Secure) -> None:
    assert await peer_certificate(secure.url, _capped(ssl.TLSVersion.TLSv1_2))
    for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            await peer_certificate(secure.url, _capped(old))


async def test_a_renewed_certificate_is_used_without_a_restart(secure: Secure, pair: Pair) -> None:
    first = await peer_certificate(secure.url, client_context())
    assert not secure.certificates.reload_if_changed()  # nothing changed yet
    renewed = pair.write(CA)
    assert secure.certificates.reload_if_changed()
    now = await peer_certificate(secure.url, client_context())
    assert now == der(renewed) != first


async def test_a_broken_renewal_keeps_the_certificate_in_use(secure: Secure, pair: Pair) -> None:
    first = await peer_certificate(secure.url, client_context())
    pair.certfile.write_text("-----BEGIN CERTIFICATE-----\nhalf written", encoding="ascii")
    assert not secure.certificates.reload_if_changed()
    assert await peer_certificate(secure.url, client_context()) == first
    renewed = pair.write(CA)
    assert secure.certificates.reload_if_changed()
    assert await peer_certificate(secure.url, client_context()) == der(renewed)


def test_a_missing_certificate_stops_start_up_with_one_line(tmp_path: Path) -> None:
    missing = TlsSettings(True, tmp_path / "fullchain.pem", tmp_path / "privkey.pem")
    with pytest.raises(ConfigError, match=r"^invalid option 'certfile'/'keyfile': cannot use "):
        Certificates(missing)


def test_relative_certificate_names_are_in_the_ssl_folder() -> None:
    tls = parse_options({"ssl": True, "certfile": "cams.pem"}).tls
    assert (tls.certfile, tls.keyfile) == (Path("/ssl/cams.pem"), Path("/ssl/privkey.pem"))
    assert parse_options({"ssl": True}).auth.cookie_secure is True
