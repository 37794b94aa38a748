"""The request being handled, looked up once.

Each use of Flask's ``request`` proxy looks the request context up again; the hooks that run
on every request read several of its attributes, so they take the request itself once and work
on that.
"""

from __future__ import annotations

from typing import cast

from flask import Request, request


def current_request() -> Request:
    return cast(Request, request._get_current_object())  # type: ignore[attr-defined]
