"""The API's front door: a liveness probe and the index of the version-1 resources."""

from __future__ import annotations

from flask import Response, request
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag
from pydantic import BaseModel, Field

from entrypoints.http import access
from entrypoints.http.openapi import Reply, operation
from entrypoints.http.rendering import json_response

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
    links: dict[str, Href] = Field(description="`self` and one link per collection.")


@operation(
    bp,
    "GET",
    "/healthz",
    summary="Liveness probe",
    description="Answers while the process can serve HTTP. It deliberately touches no database.",
    replies=[Reply(200, "The process is alive.", Health, {"status": "ok"})],
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
    base = request.script_root + API_PREFIX
    links = {"self": Href(href=base)}
    links.update({name: Href(href=f"{base}/{name}") for name in COLLECTIONS})
    return json_response(Index(name="Circulate", version="v1", links=links))
