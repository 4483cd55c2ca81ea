"""Usernames: the one lookup key per person, and the names a new user may have."""

from __future__ import annotations

import pytest

from camauth.core.names import lookup_key, validate_username
from camauth.errors import BadRequest
from tests.helpers import wide


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("admin", "admin"),
        ("Admin", "admin"),
        ("ADMIN", "admin"),
        (" admin", "admin"),
        ("admin \t", "admin"),
        (wide("admin"), "admin"),
        (wide("Admin"), "admin"),
        ("admin\u3000", "admin"),
        ("Straße", "strasse"),
        ("ﬁle", "file"),
    ],
)
def test_lookup_key_is_one_key_per_person(name: str, key: str) -> None:
    assert lookup_key(name) == key


@pytest.mark.parametrize("name", ["bad name", "", "x" * 65, "a/b", wide("alice"), "alice\n"])
def test_bad_usernames_are_refused(name: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_username(name)
    assert caught.value.key == "invalid_username"


@pytest.mark.parametrize("name", ["alice", "x" * 64])
def test_good_usernames_are_kept(name: str) -> None:
    assert validate_username(name) == name
