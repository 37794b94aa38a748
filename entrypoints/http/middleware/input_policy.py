"""One rule for every piece of text a request carries: no control characters.

A path segment, a query parameter (name or value), or a string anywhere in a JSON body (keys
included) that holds a control character is refused with 422 before any view sees it: NUL,
which PostgreSQL cannot store and SQLite's full-text search cannot match; the other C0 and C1
controls (tab and newline included: no field of this API is multi-line), which would reach a
terminal or a log as escape sequences; and lone surrogates, which are not text at all (JSON's
``\\ud800`` escape can make one) and which no database encodes.

Checked after the body is parsed (``request_body``), so a body is inspected only for a request
the rate limiter counted; path and query are checked at the same point, one rule in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, Request, request

from domain.text import has_control_characters
from entrypoints.http.request_context import current_request
from entrypoints.http.responses.errors import VALIDATION_FAILED
from entrypoints.http.responses.problem import ApiProblem

MESSAGE = "must not contain control characters"
# Past this depth a body was already refused as too deeply nested (request_body.MAX_JSON_DEPTH).
_MAX_WALK = 64


def _in_json(value: Any, path: str, depth: int = 0) -> Iterator[str]:
    """The dotted paths of the strings in ``value`` that break the rule (keys included)."""
    if depth > _MAX_WALK:
        return
    if isinstance(value, str):
        if has_control_characters(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if has_control_characters(str(key)):
                yield path or "<key>"
            else:
                yield from _in_json(item, field, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _in_json(item, f"{path}.{index}" if path else str(index), depth + 1)


def _url_is_plain(environ: dict[str, Any]) -> bool:
    """Whether the path and the query, as the server received them, can hold no control
    character once decoded: ASCII without one, and a query without percent escapes (the path
    reaches WSGI decoded already). Then neither the path, its parameters nor the query
    parameters need a look of their own."""
    path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
    return (
        path.isascii()
        and query.isascii()
        and "%" not in query
        and not has_control_characters(path + query)
    )


def _in_url(current: Request) -> Iterator[tuple[str, str]]:
    named = [
        name
        for name, value in (current.view_args or {}).items()
        if isinstance(value, str) and has_control_characters(value)
    ]
    for name in named:
        yield "path", name
    if not named and has_control_characters(current.path):
        yield "path", ""  # a segment no route names (the rule holds for the whole path)
    for name, value in current.args.items(multi=True):
        if has_control_characters(name):
            yield "query", ""
        elif has_control_characters(value):
            yield "query", name


def _violations() -> Iterator[tuple[str, str]]:
    current = current_request()
    if not _url_is_plain(current.environ):
        yield from _in_url(current)
    # No Content-Type, no JSON: most reads skip parsing the header's absence.
    if current.environ.get("CONTENT_TYPE") and current.is_json and current.content_length != 0:
        body = current.get_json(silent=True)
        if body is not None:
            for field in _in_json(body, ""):
                yield "body", field


def enforce() -> None:
    """``before_request``: 422 naming every field that holds a control character."""
    if request.routing_exception is not None:
        return  # its 404 or 405 comes first
    errors = []
    seen = set()
    for location, field in _violations():
        if (location, field) in seen:
            continue
        seen.add((location, field))
        errors.append(
            {"location": location, "field": field, "message": MESSAGE, "type": "control_character"}
        )
    if errors:
        fields = ", ".join(error["field"] or error["location"] for error in errors)
        raise ApiProblem(
            422, VALIDATION_FAILED, f"the request is not valid: {fields}", {"errors": errors}
        )


def init_app(app: Flask) -> None:
    """Register after ``request_body.init_parsing``: the body is parsed by then."""
    app.before_request(enforce)
