"""RFC 9457 problem details: the one shape of every error the API produces.

A problem carries the RFC's members (``type``, ``title``, ``status``, ``detail``) and ours:
``code`` (stable, machine-readable), ``message`` (the same text as ``detail``), ``details`` (data
about this occurrence, e.g. per-field validation errors) and ``request_id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Response
from pydantic import BaseModel, ConfigDict, Field

from entrypoints.http.middleware.request_id import current_request_id

MEDIA_TYPE = "application/problem+json"
# Problems named by a code get a type URI of their own; plain HTTP errors use "about:blank",
# which RFC 9457 reserves for problems that mean no more than their status code.
TYPE_PREFIX = "urn:circulate:problem:"
GENERIC_TYPE = "about:blank"


class Problem(BaseModel):
    """An error, as every response with status 400 or above carries it."""

    model_config = ConfigDict(
        title="Problem",
        json_schema_extra={
            "example": {
                "type": "urn:circulate:problem:loan-limit-reached",
                "title": "Loan limit reached",
                "status": 409,
                "detail": "member already has 5 open loans (limit 5)",
                "code": "LOAN_LIMIT_REACHED",
                "message": "member already has 5 open loans (limit 5)",
                "details": {"limit": 5},
                "request_id": "4f1c2a9e6b7d4e0f8a1b2c3d4e5f6a7b",
            }
        },
    )

    type: str = Field(description="URI naming the kind of problem.")
    title: str = Field(description="Short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.", ge=400, le=599)
    detail: str = Field(description="What went wrong this time, for a person.")
    code: str = Field(description="Stable machine-readable code, e.g. LOAN_LIMIT_REACHED.")
    message: str = Field(description="Same text as detail.")
    details: dict[str, Any] = Field(
        description="Data about this occurrence; for validation errors, `errors` lists each "
        "rejected field with its location, name and message."
    )
    request_id: str = Field(description="The X-Request-ID of the request, to quote in reports.")


class ApiProblem(Exception):
    """Raised by the HTTP layer itself (not the domain) to answer with a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def title_for(code: str) -> str:
    """``LOAN_LIMIT_REACHED`` -> ``Loan limit reached``."""
    return code.replace("_", " ").capitalize()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    generic: bool = False,
) -> Response:
    """A problem response; ``generic`` problems say no more than their HTTP status."""
    body = {
        "type": GENERIC_TYPE if generic else TYPE_PREFIX + code.lower().replace("_", "-"),
        "title": _phrase(status) if generic else title_for(code),
        "status": status,
        "detail": message,
        "code": code,
        "message": message,
        "details": dict(details or {}),
        "request_id": current_request_id(),
    }
    response = Response(json.dumps(body, default=str), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_api_problem(problem: ApiProblem) -> Response:
    return problem_response(
        problem.status, problem.code, problem.message, problem.details, headers=problem.headers
    )
