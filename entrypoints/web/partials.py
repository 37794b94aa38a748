"""Pages and the pieces of pages htmx asks for.

A scan form posted by htmx (``HX-Request``) wants one line back to add to its list; the same
form posted without scripts gets the whole page. Views ask ``wants_line()``.
"""

from __future__ import annotations

from flask import Response, request

HX_REQUEST = "HX-Request"


def wants_line() -> bool:
    return request.headers.get(HX_REQUEST) == "true"


def redirect_page(location: str) -> Response:
    """A redirect htmx follows with the whole page (a plain one would land in the list)."""
    if wants_line():
        response = Response(status=200)
        response.headers["HX-Redirect"] = location
        return response
    response = Response(status=303)
    response.headers["Location"] = location
    return response
