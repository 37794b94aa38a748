"""A list's ``Link`` header: each URL encoded as a URI, whatever the path and parameters hold."""

from __future__ import annotations

from flask import Flask

from application.queries import Page
from entrypoints.http.responses.pagination import link_header


def _links(url: str) -> str:
    with Flask(__name__).test_request_context(url):
        return link_header(Page(items=[], total=30, page=2, per_page=10))


def test_a_plain_path_is_linked_as_it_is() -> None:
    assert _links("/api/v1/books?per_page=10&page=2") == (
        '</api/v1/books?per_page=10&page=1>; rel="first", '
        '</api/v1/books?per_page=10&page=1>; rel="prev", '
        '</api/v1/books?per_page=10&page=3>; rel="next", '
        '</api/v1/books?per_page=10&page=3>; rel="last"'
    )


def test_a_path_and_parameters_beyond_ascii_are_percent_encoded() -> None:
    links = _links("/api/v1/b%C3%BCcher%20alt?q=gr%C3%BCn+tee&page=2")

    assert '</api/v1/b%C3%BCcher%20alt?q=gr%C3%BCn+tee&page=3>; rel="next"' in links
