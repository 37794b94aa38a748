"""The API's front door: a liveness probe, the service's home and the index of version 1.

Both indexes link the documentation, the OpenAPI document and sign-in, so a newcomer who opens
the server's address finds where to go next.
"""

from __future__ import annotations

from importlib.metadata import version

from flask import Response, request
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from entrypoints.http.middleware import access
from entrypoints.http.openapi import Reply, operation
from entrypoints.http.responses.rendering import json_response

API_PREFIX = "/api/v1"

# The collections of version 1, in the order a newcomer meets them.
COLLECTIONS = ("books", "members", "loans", "holds")

bp = APIBlueprint(
    "root", __name__, abp_tags=[Tag(name="Service", description="Liveness and the API index.")]
)


class Health(BaseModel):
    status: str = Field(description="`ok` while the process answers.")


class Href(BaseModel):
    href: str


class Index(BaseModel):
    name: str
    version: str
    links: dict[str, Href] = Field(
        description="`self`, `docs` (Swagger UI), `openapi` (the OpenAPI document), `sign_in` "
        "(`POST` an email and password for a token) and, under `/api/v1`, one link per "
        "collection."
    )


def _links(**paths: str) -> dict[str, Href]:
    root = request.script_root
    return {name: Href(href=root + path) for name, path in paths.items()}


GUIDES = {"docs": "/docs", "openapi": "/openapi.json", "sign_in": f"{API_PREFIX}/auth/token"}


@operation(
    bp,
    "GET",
    "/healthz",
    summary="Liveness probe",
    description="Answers while the process can serve HTTP. It deliberately touches no database.",
    replies=[Reply(200, "The process is alive.", Health, {"status": "ok"})],
    probe=True,
)
def healthz() -> Response:
    return json_response(Health(status="ok"))


@operation(
    bp,
    "GET",
    API_PREFIX,
    summary="API index",
    description="Links to each collection of version 1 of the API.",
    replies=[
        Reply(
            200,
            "The index.",
            Index,
            {
                "name": "Circulate",
                "version": "v1",
                "links": {"self": {"href": "/api/v1"}, "books": {"href": "/api/v1/books"}},
            },
        )
    ],
    access=access.open_to_all(),
)
def index() -> Response:
    collections = {name: f"{API_PREFIX}/{name}" for name in COLLECTIONS}
    links = _links(self=API_PREFIX, **GUIDES, **collections)
    return json_response(Index(name="Circulate", version="v1", links=links))


@operation(
    bp,
    "GET",
    "/",
    summary="Service home",
    description="Where to start: the API's documentation, its OpenAPI document, sign-in and "
    "version 1 of the API.",
    replies=[
        Reply(
            200,
            "The home links.",
            Index,
            {
                "name": "Circulate",
                "version": "0.1.0",
                "links": {
                    "self": {"href": "/"},
                    "api": {"href": "/api/v1"},
                    "docs": {"href": "/docs"},
                    "openapi": {"href": "/openapi.json"},
                    "sign_in": {"href": "/api/v1/auth/token"},
                },
            },
        )
    ],
    access=access.open_to_all(),
)
def home() -> Response:
    links = _links(self="/", api=API_PREFIX, **GUIDES)
    return json_response(Index(name="Circulate", version=version("circulate"), links=links))
