"""The liveness probe and the API index."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from entrypoints.container import Container
from entrypoints.http import create_app
from entrypoints.http.app import get_container
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


def test_index_links_respect_the_mount_point(client: FlaskClient) -> None:
    response = client.get("/api/v1", environ_overrides={"SCRIPT_NAME": "/library"})

    assert response.get_json()["links"]["books"] == {"href": "/library/api/v1/books"}


def test_the_container_is_attached_to_the_app(app: Flask, container: Container) -> None:
    assert get_container(app) is container
    with app.app_context():
        assert get_container() is container


def test_create_app_refuses_settings_and_a_container_together(container: Container) -> None:
    with pytest.raises(ValueError, match="not both"):
        create_app(Settings(storage="memory"), container=container)


def test_create_app_builds_its_own_container_from_settings() -> None:
    app = create_app(Settings(storage="memory", environment="test"))

    assert app.testing
    assert get_container(app).config.storage() == "memory"
    assert app.test_client().get("/healthz").status_code == 200
