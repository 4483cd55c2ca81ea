"""Fixtures for the unit tests: modules called directly on real files, no server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from camauth.storage import db as store


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database file of its own, closed after the test."""
    connection = store.connect(tmp_path / "camauth.db")
    yield connection
    connection.close()
