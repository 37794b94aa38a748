"""The liveness probe and the API index."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.access import Scope
from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.settings import Settings


def test_healthz_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok"}


def test_index_links_every_collection(client: FlaskClient) -> None:
    response = client.get("/api/v1")

    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == "v1"
    links = body["links"]
    assert links["self"] == {"href": "/api/v1"}
    for name in ("books", "members", "loans", "holds"):
        assert links[name] == {"href": f"/api/v1/{name}"}


def test_both_indexes_link_the_docs_the_openapi_document_and_sign_in(client: FlaskClient) -> None:
    home = client.get("/")
    index = client.get("/api/v1")

    assert home.status_code == index.status_code == 200
    assert home.get_json()["version"] == version("circulate")
    assert home.get_json()["links"]["api"] == {"href": "/api/v1"}
    for body in (home.get_json(), index.get_json()):
        assert body["links"]["docs"] == {"href": "/docs"}
        assert body["links"]["openapi"] == {"href": "/openapi.json"}
        assert body["links"]["sign_in"] == {"href": "/api/v1/auth/token"}
    assert client.get(home.get_json()["links"]["docs"]["href"]).status_code == 200
    assert client.get(home.get_json()["links"]["openapi"]["href"]).status_code == 200


def test_probes_answer_whatever_query_a_monitor_appends(client: FlaskClient) -> None:
    assert client.get("/healthz?nocache=1700000000").get_json() == {"status": "ok"}
    assert client.get("/readyz?probe=k8s").status_code == 200
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "422" not in paths["/healthz"]["get"]["responses"]
    assert "422" not in paths["/readyz"]["get"]["responses"]


def test_index_links_respect_the_mount_point(client: FlaskClient) -> None:
    response = client.get("/api/v1", environ_overrides={"SCRIPT_NAME": "/library"})

    assert response.get_json()["links"]["books"] == {"href": "/library/api/v1/books"}


def test_the_app_serves_the_container_it_was_given(app: Flask, container: Container) -> None:
    key = container.identity().api_keys().create("probe", frozenset({Scope.BOOKS_READ}))
    listed = app.test_client().get(
        "/api/v1/books", headers={"Authorization": f"ApiKey {key.plaintext}"}
    )
    assert listed.status_code == 200  # the key exists in this container's storage only


def test_create_app_refuses_settings_and_a_container_together(container: Container) -> None:
    with pytest.raises(ValueError, match="not both"):
        create_app(Settings(storage="memory"), container=container)


def test_create_app_builds_its_own_container_from_settings() -> None:
    app = create_app(Settings(storage="memory", environment="test"))

    assert app.testing
    ready = app.test_client().get("/readyz").get_json()
    assert ready["checks"]["database"]["detail"] == "in-memory storage"
    assert app.test_client().get("/healthz").status_code == 200
