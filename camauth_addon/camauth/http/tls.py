"""TLS on the gateway port, Home Assistant's way: ``ssl``, ``certfile``, ``keyfile``.

TLS 1.2 and 1.3 only, with Python's default (forward-secret, AEAD) ciphers. Certificates are
renewed by other add-ons (Let's Encrypt, DuckDNS) while CamAuth runs, so the files are
watched: a changed pair is loaded into a fresh context and used for every new handshake; a
pair that does not load is logged and the previous one kept, so a half-written renewal never
takes the gateway down.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from typing import Final

from ..errors import ConfigError
from ..options import TlsSettings

_LOGGER = logging.getLogger(__name__)

RELOAD_INTERVAL: Final = 5.0  # seconds between looks at the certificate files

Stamp = tuple[tuple[int, int], ...]


def _stamp(*paths: Path) -> Stamp:
    """What changes when a file is replaced or rewritten: its mtime and size."""
    found = []
    for path in paths:
        info = path.stat()
        found.append((info.st_mtime_ns, info.st_size))
    return tuple(found)


def server_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server context for one certificate pair; raises OSError/SSLError if it does not load."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


class Certificates:
    """The gateway's TLS context, which follows the certificate files as they change."""

    def __init__(self, tls: TlsSettings) -> None:
        """Load the pair once; a missing or broken pair stops start-up with one clear line."""
        self._files = (tls.certfile, tls.keyfile)
        self._refused: Stamp | None = None  # a pair that did not load, logged once
        try:
            self._stamp = _stamp(*self._files)
            self._current = server_context(*self._files)
        except (OSError, ssl.SSLError) as err:
            raise ConfigError(
                f"invalid option 'certfile'/'keyfile': cannot use {tls.certfile} and "
                f"{tls.keyfile} ({err})"
            ) from err
        # The context the listener holds only hands each handshake to the current one.
        self.context = server_context(*self._files)
        self.context.sni_callback = self._pick

    def _pick(self, connection: ssl.SSLObject, _name: str | None, _ctx: ssl.SSLContext) -> None:
        connection.context = self._current

    def reload_if_changed(self) -> bool:
        """Load the files again if they changed; True when new handshakes use new ones."""
        try:
            stamp = _stamp(*self._files)
        except OSError as err:  # a renewal replacing the files: look again next time
            _LOGGER.debug("Certificate files not readable now: %s", err)
            return False
        if stamp in (self._stamp, self._refused):
            return False
        try:
            fresh = server_context(*self._files)
        except (OSError, ssl.SSLError) as err:
            _LOGGER.error("Certificate not reloaded, keeping the previous one: %s", err)
            self._refused = stamp
            return False
        self._stamp, self._current = stamp, fresh
        _LOGGER.info("Certificate reloaded from %s", self._files[0])
        return True

    async def watch(self, interval: float = RELOAD_INTERVAL) -> None:
        """Reload the certificate whenever its files change (runs until cancelled)."""
        while True:
            await asyncio.sleep(interval)
            self.reload_if_changed()
