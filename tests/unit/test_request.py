"""Reading a request's JSON body: the answers that must not depend on the Python version."""

from __future__ import annotations

import pytest

from camauth.http.request import _nested_too_deep

DEEP = 200_000  # past json.loads' depth on every Python (about 1,000 on 3.11)


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"[" * DEEP + b"]" * DEEP, "Request body must be a JSON object"),
        (b" \r\n\t" + b"[" * DEEP, "Request body must be a JSON object"),
        (b'"' + b"[" * DEEP, "Request body must be a JSON object"),
        (b'{"a":' + b"[" * DEEP + b"]" * DEEP + b"}", "Request body is not valid JSON"),
        (b"\n {" + b"[" * DEEP, "Request body is not valid JSON"),
    ],
    ids=["array", "array-after-space", "string", "object", "object-after-space"],
)
def test_a_body_nested_too_deep_is_judged_by_its_top_level(raw: bytes, error: str) -> None:
    refused = _nested_too_deep(raw)
    assert refused.status == 400
    assert refused.key == "invalid_json"
    assert refused.message == error
