"""``ApiResponse`` starts exactly as werkzeug's response does: the same body, status and
headers, whether it hands its headers over as they are or takes werkzeug's way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Response
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from entrypoints.http.responses.wsgi import ApiResponse

Make = Callable[[type[Response]], Response]


def _started(response: Response, method: str = "POST") -> tuple[list[bytes], str, Any]:
    environ = EnvironBuilder(path="/api/v1/loans", method=method).get_environ()
    app_iter, status, headers = response.get_wsgi_response(environ)
    return list(app_iter), status, headers


def _chunks() -> Iterator[bytes]:
    yield b'{"a":'
    yield b"1}"


CASES: dict[str, Make] = {
    "created": lambda cls: cls(
        b'{"id":"1"}',
        201,
        {"Location": "/api/v1/loans/0193a-b_c.d~e", "ETag": '"abc"'},
        mimetype="application/json",
    ),
    "read": lambda cls: cls(b"{}", 200, {"ETag": '"abc"'}, mimetype="application/json"),
    "location to quote": lambda cls: cls(b"{}", 201, {"Location": "/api/v1/books/ü x"}),
    "location with a query": lambda cls: cls(b"{}", 201, {"Location": "/api/v1/b?page=2"}),
    "location naming a host": lambda cls: cls(b"{}", 201, {"Location": "//example.org/x"}),
    "absolute location": lambda cls: cls(b"{}", 201, {"Location": "http://bücher.example/"}),
    "content location": lambda cls: cls(b"{}", 200, {"Content-Location": "/ä"}),
    "no content": lambda cls: cls(status=204, headers={"Content-Length": "0"}),
    "not modified": lambda cls: cls(
        status=304, headers={"ETag": '"abc"', "Content-Length": "5", "Content-Type": "x/y"}
    ),
    "streamed": lambda cls: cls(_chunks(), 200, mimetype="application/json"),
    "list of chunks": lambda cls: cls([b"a", b"bc"], 200),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("method", ["POST", "HEAD"])
def test_an_api_response_starts_as_werkzeugs_does(case: str, method: str) -> None:
    make = CASES[case]

    assert _started(make(ApiResponse), method) == _started(make(Response), method)


@pytest.mark.parametrize(
    ("case", "final"),
    [("created", True), ("read", True), ("location to quote", False), ("streamed", False)],
)
def test_a_json_answer_hands_its_own_headers_over(case: str, final: bool) -> None:
    response = CASES[case](ApiResponse)

    assert isinstance(response, ApiResponse)
    assert response._headers_final() is final


@given(
    st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=20),
    st.sampled_from([200, 201, 204, 302, 304, 404]),
)
def test_any_location_starts_as_werkzeug_writes_it(location: str, status: int) -> None:
    def outcome(cls: type[Response]) -> Any:
        try:
            return _started(cls(b"{}", status, {"Location": "/" + location}))
        except UnicodeError as error:  # a host name IDNA cannot encode: werkzeug refuses it
            return type(error)

    assert outcome(ApiResponse) == outcome(Response)
