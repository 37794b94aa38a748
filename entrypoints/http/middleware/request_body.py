"""Request bodies are JSON objects: 413 past the size limit, 415 for another media type, 400
for malformed JSON (or JSON nested deeper than ``MAX_JSON_DEPTH``).

In two steps, either side of the guard (``guard.py``):

- ``_refuse_unreadable`` runs first and reads nothing: a declared length past the limit is 413
  and another media type 415, whoever asks.
- ``_parse`` runs after authentication and the rate limiter: a body is only read and parsed for
  a request that was counted, so nobody can make the server parse bodies without limit. A body
  without a length (chunked) is read through a stream that stops at the limit (413).

Every parse of a body, wherever it happens (the limiter's per-account key, request validation),
goes through ``LimitedJSONProvider``: nesting is measured before the parser sees the text, so a
document of a thousand ``[`` is a 400, never a ``RecursionError``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from entrypoints.http.request_context import current_request
from entrypoints.http.responses.problem import ApiProblem

# Far deeper than any document of this API (three levels at most), far shallower than the
# parser's recursion limit.
MAX_JSON_DEPTH = 32

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The OAuth 2.0 token endpoint takes a form and answers in its RFC's format (oauth.py).
FORM_ENDPOINTS = frozenset({"oauth.issue_token"})
# The pages (entrypoints/web) post HTML forms; werkzeug's form parser keeps the size limit.
PAGES_PREFIX = "web."
# JSON strings (which may contain brackets) and the brackets outside them.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (which need not be valid JSON)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than ``MAX_JSON_DEPTH`` unparsed."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", "surrogatepass") if isinstance(s, bytes) else s
        # Each level opens with a bracket: a text with few of them (every body this API takes)
        # cannot be too deep, and is not scanned.
        too_deep_possible = text.count("[") + text.count("{") > MAX_JSON_DEPTH
        if too_deep_possible and json_depth(text) > MAX_JSON_DEPTH:
            # A ValueError, as for any malformed document: get_json answers 400 with it.
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return super().loads(text, **kwargs)


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _has_body(current: Request) -> bool:
    if current.method not in _WITH_BODY:
        return False
    endpoint = current.endpoint
    if endpoint in FORM_ENDPOINTS:
        return False
    if endpoint is not None and endpoint.startswith(PAGES_PREFIX):
        return False
    if current.routing_exception is not None:
        return False  # no such route or method: its 404 or 405 comes first
    return bool(current.content_length) or "chunked" in current.headers.get("Transfer-Encoding", "")


def _refuse_unreadable() -> None:
    if not _has_body(current_request()):
        return
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()  # before anything else: the body is not even read
    if not _is_json(request.mimetype):
        raise UnsupportedMediaType("send the body as application/json")


def _parse() -> None:
    if not _has_body(current_request()):
        return
    data = request.get_data(cache=True)
    limit = request.max_content_length
    # A chunked body is read through a stream that stops at the limit without saying so (the
    # JSON would then look truncated: 400): one more byte tells whether there was more.
    chunked = request.content_length is None
    if (
        chunked
        and limit is not None
        and len(data) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    body = request.get_json()  # 400 when malformed or too deeply nested
    if not isinstance(body, dict):
        raise ApiProblem(
            422,
            "VALIDATION_FAILED",
            "the request body must be a JSON object",
            {"errors": [{"location": "body", "field": "", "message": "must be a JSON object"}]},
        )


def init_app(app: Flask) -> None:
    """Before the guard: the checks that read nothing."""
    app.json = LimitedJSONProvider(app)
    app.before_request(_refuse_unreadable)


def init_parsing(app: Flask) -> None:
    """After the guard: reading and parsing the body."""
    app.before_request(_parse)
