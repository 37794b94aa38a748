"""The API's response class: werkzeug's, handing the server its headers as they are when
nothing in them needs fixing.

Before a response starts, werkzeug makes a copy of its headers for the server
(``get_wsgi_headers``): every name and value checked again, the ``Location`` passed through
``iri_to_uri``, a missing ``Content-Length`` counted, what a 204 or 304 must not carry dropped.
An answer of this API with a body knows its length already, and names its ``Location`` by a
plain path (letters, digits, ``-._~`` and ``/``), which ``iri_to_uri`` gives back unchanged: the
copy would hold the very headers the response has, and ``ApiResponse`` hands those over instead.
Any other response (no length, another status, a ``Location`` that may need quoting, a
``Content-Location``) goes werkzeug's way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Response

# A path from the root that ``iri_to_uri`` returns as it is: nothing to quote, and not ``//``
# (which would be read as a host).
_PLAIN_PATH = re.compile(r"/(?!/)[A-Za-z0-9/._~-]*")


class ApiResponse(Response):
    """``flask.Response``, started without werkzeug's copy of its headers when that copy would
    be the same headers (see the module)."""

    def get_wsgi_response(
        self, environ: dict[str, Any]
    ) -> tuple[Iterable[bytes], str, list[tuple[str, str]]]:
        if self.autocorrect_location_header or not self._headers_final():
            return super().get_wsgi_response(environ)
        return self.get_app_iter(environ), self.status, self.headers.to_wsgi_list()

    def _headers_final(self) -> bool:
        """Whether ``get_wsgi_headers`` would give back the headers unchanged."""
        status = self.status_code
        if status < 200 or status in (204, 304):
            return False
        has_length = False
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "content-length":
                has_length = True
            elif lowered == "content-location" or (
                lowered == "location" and not _PLAIN_PATH.fullmatch(value)
            ):
                return False
        return has_length
