"""``X-Request-ID``: accepted from the client when it is sane, made up otherwise, always echoed.

The id ties a client's report, the error body and the server's log lines to one request.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, Response
from flask.globals import _cv_request

HEADER = "X-Request-ID"
# Where WSGI puts the header, and where the request keeps its id once chosen.
_OFFERED = "HTTP_X_REQUEST_ID"
_CHOSEN = "circulate.request_id"
# Short, printable, no spaces or separators: safe to log and to echo in a header unchanged.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def _new_id() -> str:
    return secrets.token_hex(16)  # 32 hex digits, as a UUID's hex form


def current_request_id() -> str:
    """The id of the request being handled (made on first use if no hook has run yet)."""
    context = _cv_request.get(None)  # one lookup: asked several times by every request
    if context is None:
        return _new_id()
    environ = context.request.environ
    request_id: str | None = environ.get(_CHOSEN)
    if request_id is None:
        offered = environ.get(_OFFERED, "")
        request_id = offered if _SANE.fullmatch(offered) else _new_id()
        environ[_CHOSEN] = request_id
    return request_id


def _echo(response: Response) -> Response:
    response.headers[HEADER] = current_request_id()
    return response


def init_app(app: Flask) -> None:
    """The id is chosen by the first hook that asks for it (observability's, which binds it to
    the request's log lines) and echoed on the response."""
    app.after_request(_echo)
