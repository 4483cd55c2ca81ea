"""The generated first admin password, kept until it has been changed.

Home Assistant owners meet CamAuth in its sidebar panel, not in a log: the panel shows them
the password CamAuth generated for ``admin`` until they change it. It is kept in a file of the
data directory, readable by this user only, and removed the moment the password changes.
Whoever can read that directory can also read the JWT secret beside it, which gives more.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE = ".admin_password"


class FirstPassword:
    """One file under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        """Where the file lives."""
        self._path = data_dir / FILE

    def keep(self, password: str) -> None:
        """Store a newly generated password (0600, never readable by others even briefly)."""
        temporary = self._path.with_name(FILE + ".new")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(password)
        temporary.replace(self._path)

    def read(self) -> str | None:
        """The kept password, if any."""
        try:
            return self._path.read_text(encoding="utf-8") or None
        except (OSError, UnicodeDecodeError):
            return None

    def forget(self) -> None:
        """The password has changed: remove it."""
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
