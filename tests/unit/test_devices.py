"""Device cookies: signed, bound to one user, useless when forged or moved."""

from __future__ import annotations

import pytest

from camauth.core.devices import DeviceCookies

SECRET = "s" * 64


def test_a_cookie_names_its_user_and_a_random_device() -> None:
    cookies = DeviceCookies(SECRET)
    first, second = cookies.issue("Admin"), cookies.issue("admin")
    one, two = cookies.check(first), cookies.check(second)
    assert one is not None
    assert two is not None
    assert one.username_key == two.username_key == "admin"  # one key per person
    assert one.device_id != two.device_id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),  # the signature
        lambda v: v.replace("v1.", "v2.", 1),  # the version
        lambda v: "v1." + "YWRtaW4" + v[v.index(".", 3) :],  # another user's name, same rest
        lambda v: v + ".x",
        lambda v: v.rpartition(".")[0],
        lambda v: "",
        lambda v: "é" + v,
        lambda v: v * 10,
    ],
)
def test_a_changed_cookie_is_no_device(tamper: object) -> None:
    cookies = DeviceCookies(SECRET)
    value = cookies.issue("viewer")
    assert callable(tamper)
    assert cookies.check(tamper(value)) is None


def test_another_installation_does_not_know_the_device() -> None:
    value = DeviceCookies(SECRET).issue("viewer")
    assert DeviceCookies("t" * 64).check(value) is None
    assert DeviceCookies(SECRET).check(None) is None
