"""The OpenAPI document and Swagger UI, served by the app itself (no CDN: works offline).

Swagger UI 5's assets come from the flask-openapi3-swagger package.
"""

from __future__ import annotations

from importlib.resources import files
from typing import cast

from flask import Blueprint, Response, current_app, jsonify, render_template_string, url_for
from flask_openapi3.openapi import OpenAPI

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
<script>
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
    return jsonify(cast(OpenAPI, current_app).api_doc)


@bp.get("/docs")
def swagger_ui() -> str:
    return render_template_string(
        _PAGE,
        spec_url=url_for("docs.openapi_json"),
        asset=lambda name: url_for("docs.static", filename=name),
    )
