"""Property tests for return addresses: only a same-host path ever comes out."""

from __future__ import annotations

import unicodedata
from urllib.parse import urljoin, urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from camauth.core.redirects import resolve_dot_segments, safe_return_path
from tests.data import DATA

from .helpers import PROPERTY

PAYLOADS = DATA / "openredirects.txt"
TRICKY = "/\\:@.%?#&=;, \t\n\r\x00\x0b\x7f\x85\u2028\u3000\uff0f\uff3c\u3002\uff45vil.example"
TEXT = st.one_of(
    st.text(),
    st.text().map(lambda rest: "/" + rest),
    st.text(alphabet=TRICKY),
    st.text(alphabet=TRICKY).map(lambda rest: "/" + rest),
    st.sampled_from(["//", "/\\", "/\t/", "https:", "javascript:"]).flatmap(
        lambda head: st.text(alphabet=TRICKY + "abc").map(lambda rest: head + rest)
    ),
    st.sampled_from(PAYLOADS.read_text("utf-8").splitlines()),
)


@PROPERTY
@given(TEXT)
@example("/\ud800")
@example("/ok\x85//evil.example")
@example("/" + "a" * 2048)
@example("/a/..//evil.example")
def test_result_is_the_input_as_a_browser_reads_it_or_the_root(value: str) -> None:
    result = safe_return_path(value)
    cut = min((i for i in (value.find("?"), value.find("#")) if i >= 0), default=len(value))
    as_read = resolve_dot_segments(value[:cut]) + value[cut:] if value.startswith("/") else value
    assert result in ("/", as_read)
    assert safe_return_path(result) == result


@PROPERTY
@given(TEXT)
def test_result_stays_on_the_host(value: str) -> None:
    result = safe_return_path(value)
    joined = urlsplit(urljoin("http://cam.local/", result))
    assert joined.scheme == "http"
    assert joined.netloc == "cam.local"
    assert urlsplit(result).scheme == ""
    assert urlsplit(result).netloc == ""


@PROPERTY
@given(TEXT)
def test_result_has_no_browser_tricks(value: str) -> None:
    result = safe_return_path(value)
    assert result.startswith("/")
    assert not result.startswith("//")
    assert "\\" not in result
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in result)
    assert len(result) <= 2048


def test_none_and_empty_are_the_root() -> None:
    assert safe_return_path(None) == "/"
    assert safe_return_path("") == "/"
    assert safe_return_path("/cameras/front?live=1") == "/cameras/front?live=1"
