"""A refusal that ends a member page (a loan that is not theirs, say) is said to the member in
their own words; the shared error page does the rest."""

from __future__ import annotations

from flask import Blueprint, Response

from domain.errors import DomainError, ErrorKind
from entrypoints.http.responses.errors import STATUS_BY_KIND
from entrypoints.web.errors import TITLES, error_page
from entrypoints.web.my.words import describe


def _domain(error: DomainError) -> Response:
    status = 401 if error.kind is ErrorKind.UNAUTHENTICATED else STATUS_BY_KIND[error.kind]
    return error_page(status, TITLES.get(status, "Not done"), describe(error), error.code)


def register(bp: Blueprint) -> None:
    # Flask asks the innermost blueprint first, so this answers before the ``web`` handler.
    bp.register_error_handler(DomainError, _domain)
