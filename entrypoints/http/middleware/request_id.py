"""``X-Request-ID``: accepted from the client when it is sane, made up otherwise, always echoed.

The id ties a client's report, the error body and the server's log lines to one request.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
# Short, printable, no spaces or separators: safe to log and to echo in a header unchanged.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def _new_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being handled (made on first use if no hook has run yet)."""
    if not has_request_context():
        return _new_id()
    request_id: str | None = g.get("request_id")
    if request_id is None:
        offered = request.headers.get(HEADER, "")
        request_id = offered if _SANE.fullmatch(offered) else _new_id()
        g.request_id = request_id
    return request_id


def _assign() -> None:
    current_request_id()


def _echo(response: Response) -> Response:
    response.headers[HEADER] = current_request_id()
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_echo)
