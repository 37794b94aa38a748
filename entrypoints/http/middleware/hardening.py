"""What every response gets for the browser's sake, and how the app trusts a proxy in front.

- Security headers on every response: no MIME sniffing, no framing, no referrer, a Content
  Security Policy that allows nothing (JSON needs nothing; ``/docs`` sets its own, stricter than
  most, in docs.py), and HSTS when the request came over TLS (as the proxy says, with
  ``CIRCULATE_PROXY_HOPS``): a plain-HTTP answer cannot pin HTTPS.
- CORS only for the origins listed in ``CIRCULATE_CORS_ORIGINS`` (none by default), never a
  wildcard, and without credentials: the API authenticates with the Authorization header, not
  cookies, so a browser never needs to send any.
- ``CIRCULATE_TRUSTED_HOSTS``: the hosts the API answers to; a request naming another is a 400.
  Links (``Location``, ``Link``) carry a host only then (``rendering.url_for_path``).
- ``ProxyFix`` for ``CIRCULATE_PROXY_HOPS`` proxies: the client's address, scheme and host come
  from their ``X-Forwarded-*`` headers, trusted that many hops deep and no further (a client can
  forge those headers, so trusting more hops than there are proxies would let it).
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from entrypoints.settings import Settings

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
}
HSTS = "max-age=31536000; includeSubDomains"

# Headers a browser script may send, and may read from a response, across origins.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_RESPONSE_HEADERS = [
    "ETag",
    "Link",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]


_BY_LOWER_NAME = {name.lower(): (name, value) for name, value in SECURITY_HEADERS.items()}


def _security_headers(response: Response) -> Response:
    """Each header unless the response has set its own (as ``/docs`` does its policy): one
    pass over the response's headers, not one search per security header."""
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for lowered, (name, value) in _BY_LOWER_NAME.items():
        if lowered not in present:
            headers.add(name, value)
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask, settings: Settings) -> None:
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # Requests naming another host are refused (400); links name the host only when this is set.
    app.config["TRUSTED_HOSTS"] = settings.trusted_host_list() or None
    app.after_request(_security_headers)
    origins = settings.cors_origin_list()
    if origins:
        CORS(
            app,
            origins=origins,
            supports_credentials=False,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            max_age=600,
            vary_header=True,
        )
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
