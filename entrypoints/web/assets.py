"""The pages' stylesheet and scripts, served by the app itself (no CDN) and cached well.

Pages link each file with a fingerprint of its content (``?v=...``): a fingerprinted request
may be cached for a year, since a changed file gets a new link; any other request is
revalidated (ETag) after a few minutes.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Response, request, send_from_directory, url_for
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

STATIC = Path(__file__).parent / "static"
FINGERPRINTED_MAX_AGE = 365 * 24 * 3600
PLAIN_MAX_AGE = 300


@lru_cache(maxsize=64)
def fingerprint(filename: str) -> str:
    path = safe_join(str(STATIC), filename)
    if path is None or not Path(path).is_file():
        raise NotFound()
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """The fingerprinted link of a static file, for templates."""
    return url_for("web.static", filename=filename, v=fingerprint(filename))


def serve(filename: str) -> Response:
    fingerprinted = request.args.get("v") == fingerprint(filename)
    max_age = FINGERPRINTED_MAX_AGE if fingerprinted else PLAIN_MAX_AGE
    response = send_from_directory(STATIC, filename, max_age=max_age)
    if fingerprinted:
        response.cache_control.public = True
        response.cache_control.immutable = True
    return response
