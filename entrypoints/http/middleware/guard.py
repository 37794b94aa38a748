"""Authentication, rate limits and access rules, installed in the one order that works.

Before each view: (1) read the credentials (``authentication``), (2) count the request against
the caller's limits (``limits``: the caller is known by then), (3) enforce the route's access
rule (``access``: raising a refusal of the credentials too, now that the attempt was counted).
Only then is a body read and parsed (``request_body``, registered after this): a request the
limiter refused never costs the server a parse.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from entrypoints.container import Container
from entrypoints.http.middleware import access, authentication, limits


def init_app(app: Flask, container: Container, *, unguarded: Iterable[str]) -> None:
    """``unguarded``: endpoints outside the API proper (probes, metrics, documentation), which
    read no credentials and are not rate limited."""
    # A missing or unreadable key set stops the app here, not at the first sign-in.
    identity = container.identity()
    identity.key_store().load()
    for endpoint in unguarded:
        access.register(endpoint, access.operations())
    # Providers, not objects: a use case is built when first needed, and a test that overrides
    # one after the app was made is still heard.
    app.before_request(
        authentication.authenticator(
            bearer=lambda token: identity.sessions().authenticate_bearer(token),
            # Checked once, then trusted for a few seconds (adapters/credential_cache.py).
            api_key=lambda key: identity.verified_api_keys().authenticate(key),
        )
    )
    settings = container.settings()
    limits.init_app(app, settings)
    app.before_request(access.enforcer(public_catalogue=settings.public_catalogue))
