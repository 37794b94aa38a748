"""The OpenAPI document and Swagger UI, served by the app itself (no CDN: works offline).

Swagger UI 5's assets come from the flask-openapi3-swagger package.
"""

from __future__ import annotations

import secrets
from importlib.resources import files
from typing import cast

from flask import Blueprint, Response, current_app, jsonify, render_template_string, url_for
from flask_openapi3.openapi import OpenAPI

from entrypoints.http.openapi import without_probe_422

SWAGGER_ASSETS = str(files("flask_openapi3_swagger") / "templates" / "swagger")

bp = Blueprint("docs", __name__, static_folder=SWAGGER_ASSETS, static_url_path="/docs/assets")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Circulate API</title>
  <link rel="icon" href="{{ asset('images/swagger.svg') }}">
  <link rel="stylesheet" href="{{ asset('css/swagger-ui.css') }}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{ asset('js/swagger-ui-bundle.js') }}"></script>
<script src="{{ asset('js/swagger-ui-standalone-preset.js') }}"></script>
<script nonce="{{ nonce }}">
  window.onload = function () {
    window.ui = SwaggerUIBundle({
      url: {{ spec_url|tojson }},
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      // The default would fetch a badge from an online validator; this page stays offline.
      validatorUrl: null
    });
  };
</script>
</body>
</html>
"""


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document, generated from the route table and its models."""
    return jsonify(without_probe_422(cast(OpenAPI, current_app).api_doc))


# Only this app's own scripts, plus the page's one inline script by its per-response nonce.
# Swagger UI sets style attributes from script, hence 'unsafe-inline' for styles alone.
_CSP = (
    "default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@bp.get("/docs")
def swagger_ui() -> Response:
    nonce = secrets.token_urlsafe(16)
    page = render_template_string(
        _PAGE,
        spec_url=url_for("docs.openapi_json"),
        asset=lambda name: url_for("docs.static", filename=name),
        nonce=nonce,
    )
    return Response(
        page,
        mimetype="text/html",
        headers={"Content-Security-Policy": _CSP.format(nonce=nonce)},
    )
