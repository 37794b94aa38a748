"""Pages, and the one line a scan form's script asks for.

A scan form posted by ``static/web.js`` (``X-Scan: line``) wants one line back to add to its
list; the same form posted without scripts gets the whole page. Views ask ``wants_line()``.
"""

from __future__ import annotations

from flask import Response, request

SCAN_REQUEST = "X-Scan"
SCAN_REDIRECT = "X-Location"


def wants_line() -> bool:
    return request.headers.get(SCAN_REQUEST) == "line"


def redirect_page(location: str) -> Response:
    """A redirect the scan script follows with the whole page (a plain one would be followed
    by ``fetch`` itself, and the sign-in page would land in the list)."""
    if wants_line():
        response = Response(status=200)
        response.headers[SCAN_REDIRECT] = location
        return response
    response = Response(status=303)
    response.headers["Location"] = location
    return response
