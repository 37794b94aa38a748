"""Operations and their OpenAPI description, declared together where the views are.

``operation(...)`` registers a view with flask-openapi3, which validates the request against the
view's ``path``, ``query``, ``header`` and ``body`` models and builds the document from the same
models. This module adds what every operation shares: the problem responses it can give, the
response headers, and examples.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast, get_type_hints

from flask import Request, abort, current_app
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.parameter import Parameter
from flask_openapi3.utils import parse_rule
from pydantic import BaseModel, ValidationError

from entrypoints.http.middleware import access as _access
from entrypoints.http.middleware.conditional import ETAG_LIST
from entrypoints.http.middleware.request_id import HEADER as REQUEST_ID_HEADER
from entrypoints.http.request_context import current_request
from entrypoints.http.responses.problem import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from entrypoints.http.responses.problem import Problem
from entrypoints.schemas.common import NoQuery

F = TypeVar("F", bound=Callable[..., Any])

REF = "#/components/schemas/{model}"

_STRING = {"type": "string"}
HEADERS: dict[str, dict[str, Any]] = {
    REQUEST_ID_HEADER: {
        "description": "Identifies the request in logs and error reports: the client's own "
        "X-Request-ID when it is 1-128 letters, digits, dots, dashes or underscores, else a "
        "new one.",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    },
    "ETag": {
        "description": "Strong validator of this representation, for If-None-Match and If-Match.",
        "required": True,
        "schema": _STRING,
    },
    "Location": {
        "description": "URL of the created resource.",
        "required": True,
        "schema": _STRING,
    },
    "Link": {
        "description": 'Other pages of this list (RFC 8288): rel="first", "prev", "next", "last".',
        "required": True,
        "schema": _STRING,
    },
    "WWW-Authenticate": {
        "description": "How to authenticate.",
        "required": True,
        "schema": _STRING,
    },
    "Cache-Control": {
        "description": "`no-store` on responses that carry credentials.",
        "required": True,
        "schema": _STRING,
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed in the window of the limit that applies.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window resets.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response to an earlier request with the "
        "same Idempotency-Key.",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
}

# Request headers an operation may read, documented as parameters. They are read by the
# conditional-request and idempotency helpers rather than by a model.
REQUEST_HEADERS: dict[str, dict[str, Any]] = {
    "If-None-Match": {
        "description": "ETags the client holds: 304 when the representation still has one.",
        "schema": {"type": "string", "pattern": ETAG_LIST},
    },
    "If-Match": {
        "description": "Write only if the resource still has this ETag (or any, for `*`); "
        "412 otherwise.",
        "schema": {"type": "string", "pattern": ETAG_LIST},
    },
    "Idempotency-Key": {
        "description": "A unique key per intended operation (e.g. a UUID): a retry with the same "
        "key and body gets the first response again instead of repeating the operation. Keys are "
        "the caller's own and expire after 24 hours.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
        "example": "5b0e8f9a-3c1d-4e2f-9a8b-7c6d5e4f3a2b",
    },
}

_ERRORS: dict[int, tuple[str, str, str]] = {
    # status: (description, example code, example message)
    400: ("The body is not well-formed JSON.", "BAD_REQUEST", "Failed to decode JSON object"),
    401: (
        "No credentials, or credentials that prove nothing: missing, malformed, expired or "
        "revoked (`AUTHENTICATION_REQUIRED`, `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`, "
        "`INVALID_CREDENTIALS`, `API_KEY_EXPIRED`, `API_KEY_REVOKED`). `WWW-Authenticate` says "
        "how to authenticate.",
        "AUTHENTICATION_REQUIRED",
        "this operation needs credentials",
    ),
    403: (
        "The caller is known but may not do this (`INSUFFICIENT_SCOPE`; `details.required` "
        "names the scope, or `staff`).",
        "INSUFFICIENT_SCOPE",
        "this operation needs the books:write scope",
    ),
    404: ("No such resource.", "BOOK_NOT_FOUND", "book '0190f1e2' does not exist"),
    409: (
        "A circulation rule or a uniqueness constraint refuses the request; `code` says which.",
        "LOAN_LIMIT_REACHED",
        "member already has 5 open loans (limit 5)",
    ),
    412: (
        "If-Match does not match the current version of the resource.",
        "VERSION_MISMATCH",
        "0190f1e2 is at version 3, not 2",
    ),
    413: (
        "The body is larger than the limit.",
        "REQUEST_ENTITY_TOO_LARGE",
        "The data value transmitted exceeds the capacity limit.",
    ),
    415: (
        "The body is not `application/json`.",
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as application/json",
    ),
    422: (
        "The request is not valid: `details.errors` lists each field (location, field, message); "
        "a domain rule on a value (e.g. an ISBN check digit) gives its own code.",
        "VALIDATION_FAILED",
        "the request is not valid: per_page",
    ),
    429: (
        "Too many requests from this caller (or, for sign-in, this address or account); retry "
        "after `Retry-After` seconds.",
        "RATE_LIMITED",
        "too many requests (300 per 1 minute); retry in 12 s",
    ),
    500: (
        "The server met an unexpected condition; quote the request id when reporting it.",
        "INTERNAL_ERROR",
        "The server met an unexpected condition; quote the request id when reporting it.",
    ),
    503: (
        "A dependency (database, migrations, Redis) is not ready; `details.checks` says which.",
        "NOT_READY",
        "not ready: database",
    ),
}


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response of an operation."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    example: Any = None
    headers: tuple[str, ...] = ()


def ok(model: type[BaseModel], example: Any, description: str, *, etag: bool = True) -> Reply:
    return Reply(200, description, model, example, ("ETag",) if etag else ())


def listed(model: type[BaseModel], example: Any, description: str) -> Reply:
    return Reply(200, description, model, example, ("Link",))


def created(model: type[BaseModel], example: Any, description: str) -> Reply:
    return Reply(201, description, model, example, ("Location", "ETag", "Idempotent-Replayed"))


def no_content(description: str) -> Reply:
    return Reply(204, description)


NOT_MODIFIED = Reply(304, "The representation matches If-None-Match; it has not changed.", None)


def register_schema(bp: APIBlueprint, model: type[BaseModel]) -> str:
    """Put ``model`` (and the models it uses) in the document's components; returns its ref."""
    schema = model.model_json_schema(ref_template=REF, mode="serialization")
    for name, definition in schema.pop("$defs", {}).items():
        bp.components_schemas[name] = definition
    bp.components_schemas[model.__name__] = schema
    return REF.format(model=model.__name__)


def _headers(names: Iterable[str]) -> dict[str, Any]:
    return {name: HEADERS[name] for name in (REQUEST_ID_HEADER, *names)}


def _reply(bp: APIBlueprint, reply: Reply) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": reply.description,
        "headers": _headers(reply.headers),
    }
    if reply.model is not None:
        media: dict[str, Any] = {"schema": {"$ref": register_schema(bp, reply.model)}}
        if reply.example is not None:
            media["example"] = reply.example
        response["content"] = {"application/json": media}
    return response


_STATUS_HEADERS: dict[int, tuple[str, ...]] = {
    401: ("WWW-Authenticate",),
    429: ("Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"),
}


def problem_reply(bp: APIBlueprint, status: int) -> dict[str, Any]:
    description, code, message = _ERRORS[status]
    example = {
        "type": f"urn:circulate:problem:{code.lower().replace('_', '-')}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": message,
        "code": code,
        "message": message,
        "details": {},
        "request_id": "4f1c2a9e6b7d4e0f8a1b2c3d4e5f6a7b",
    }
    return {
        "description": description,
        "headers": _headers(_STATUS_HEADERS.get(status, ())),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": register_schema(bp, Problem)},
                "example": example,
            }
        },
    }


def _described(description: str, rule: _access.Rule | None) -> str:
    return description if rule is None else f"{description}\n\n**Access:** {_access.describe(rule)}"


def _refusing_query(view: F, hints: dict[str, Any]) -> Callable[..., Any]:
    """``view`` behind a query model that takes no parameters, so that any given is a 422."""

    @wraps(view)
    def routed(*args: Any, query: NoQuery, **kwargs: Any) -> Any:
        del query
        return view(*args, **kwargs)

    routed.__annotations__ = {**hints, "query": NoQuery}
    return routed


# What flask-openapi3 validates besides the query.
_OTHER_REQUEST_PARTS = frozenset({"path", "header", "cookie", "form", "body", "raw"})


def _plain_query(model: type[BaseModel]) -> bool:
    """Whether flask-openapi3 would validate exactly ``request.args.to_dict()`` (each
    parameter's first value) against ``model``: no aliases, no field that takes a list (a
    repeated parameter) or only null, the cases its own reading treats apart."""
    properties = model.model_json_schema().get("properties", {})
    for name, field in model.model_fields.items():
        if field.alias is not None or field.validation_alias is not None:
            return False
        schema = properties.get(name, {})
        kinds = {schema.get("type"), *(option.get("type") for option in schema.get("anyOf", []))}
        if "array" in kinds or schema.get("type") == "null":
            return False
    return True


class ValidQueries:
    """The query models of the query strings validated lately, by the query string as the
    server received it (``request.args`` is made from it alone).

    Lists are asked for with the same few query strings over and over (the first page of the
    catalogue, a popular search); each is parsed and validated once. Every request gets a copy
    of its own (a plain query model's fields are scalars: a shallow copy shares nothing
    mutable), so a view that changed its query could not change the next request's. Only
    valid queries are kept: an invalid one is validated again, and refused again, each time.
    """

    def __init__(self, model: type[BaseModel], size: int) -> None:
        self._model = model
        self._size = size
        self._valid: dict[str, BaseModel] = {}
        self._lock = threading.Lock()

    def of(self, current: Request) -> BaseModel:
        """The request's query model; raises ``ValidationError`` for an invalid query."""
        raw: str = current.environ.get("QUERY_STRING", "")
        found = self._valid.get(raw)
        if found is None:
            found = self._model.model_validate(current.args.to_dict())
            with self._lock:  # readers take no lock: a dictionary lookup is atomic
                self._valid[raw] = found
                while len(self._valid) > self._size:
                    del self._valid[next(iter(self._valid))]  # the oldest
        return found.model_copy()


# Query strings kept per operation: the common lists and searches, not every one ever asked.
VALID_QUERIES_KEPT = 256


def _validating_query(
    view: Callable[..., Any], model: type[BaseModel], body: type[BaseModel] | None = None
) -> Callable[..., Any]:
    """``view`` validating its own query (and ``body``, when it takes one) in one step, marked
    as flask-openapi3's ``validate_request`` marks a view that does
    (``__delay_validate_request__``).

    flask-openapi3 reads the query field by field, looking each one's schema up again, before
    it validates: for a plain query model (``_plain_query``) that builds the very dictionary
    ``request.args.to_dict()`` builds. The model, the 422 (the app's validation callback) and
    the document are the same; a query string validated lately is not validated again
    (``ValidQueries``). The body is validated after the query, from the parsed JSON, as
    flask-openapi3 does it (``_validate_body``): a view that takes a body and no query (most
    writes) no longer walks the schema of the query it refuses.
    """
    queries = ValidQueries(model, VALID_QUERIES_KEPT)

    @wraps(view)
    def routed(*args: Any, **kwargs: Any) -> Any:
        current = current_request()
        try:
            query = queries.of(current)
            if body is not None:
                kwargs["body"] = _validated_body(current, body)
        except ValidationError as error:
            abort(current_app.validation_error_callback(error))  # type: ignore[attr-defined]
        return view(*args, query=query, **kwargs)

    routed.__delay_validate_request__ = True  # type: ignore[attr-defined]
    return routed


def _validated_body(current: Request, model: type[BaseModel]) -> BaseModel:
    """The body as flask-openapi3 reads it: the JSON document, parsed once (``request_body``,
    which lets nothing but an object through; no body at all is ``None``, refused here)."""
    return model.model_validate(current.get_json(silent=True))


# Operation ids of the health probes: flask-openapi3 gives every operation a 422 response when the
# document is generated, and ``without_probe_422`` takes it back from these.
PROBE_OPERATIONS: set[str] = set()


def without_probe_422(document: dict[str, Any]) -> dict[str, Any]:
    for item in document["paths"].values():
        for method_operation in item.values():
            if method_operation.get("operationId") in PROBE_OPERATIONS:
                method_operation["responses"].pop("422", None)
    return document


def operation(
    bp: APIBlueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    description: str,
    replies: Sequence[Reply],
    errors: Iterable[int] = (),
    headers: Iterable[str] = (),
    access: _access.Rule | None = None,
    probe: bool = False,
) -> Callable[[F], F]:
    """Route ``rule`` to the decorated view and document it.

    A view without a ``query`` model refuses every query parameter, unless it is a ``probe``:
    health checks answer whatever a monitoring system appends. Besides ``errors``, every
    operation documents 422 (an unknown or invalid query parameter; not for probes)
    and 500; one with path parameters 404; one with a body 400, 413 and 415. ``headers`` names
    the ``REQUEST_HEADERS`` it reads. ``access`` is the route's access rule (``access.py``): it
    is registered for enforcement and documented (``security``, 401, 403, 429).
    """

    def decorate(view: F) -> F:
        hints = get_type_hints(view)
        refuses_query = "query" not in hints and not probe
        routed: Callable[..., Any] = _refusing_query(view, hints) if refuses_query else view
        query = NoQuery if refuses_query else hints.get("query")
        parts = _OTHER_REQUEST_PARTS & set(hints)
        if query is not None and parts <= {"body"} and _plain_query(query):
            routed = _validating_query(routed, query, hints.get("body"))
        statuses = {500, *errors} if probe else {422, 500, *errors}
        if probe:
            PROBE_OPERATIONS.add(view.__name__)
        if access is not None:
            _access.register(f"{bp.name}.{view.__name__}", access)
            statuses |= _access.statuses(access)
        if "path" in hints:
            statuses.add(404)
        if "body" in hints:
            statuses |= {400, 413, 415}
        responses: dict[int, Any] = {reply.status: _reply(bp, reply) for reply in replies}
        for status in sorted(statuses):
            responses[status] = problem_reply(bp, status)
        register = cast(Callable[..., Callable[[F], F]], getattr(bp, method.lower()))
        register(
            rule,
            summary=summary,
            description=_described(description, access),
            responses=responses,
            security=_access.security(access) if access is not None else None,
            operation_id=view.__name__,
        )(cast(F, routed))
        documented = getattr(bp.paths[parse_rule(rule, url_prefix=bp.url_prefix)], method.lower())
        documented.parameters = [
            *(documented.parameters or []),
            *(
                Parameter.model_validate({"name": name, "in": "header", **REQUEST_HEADERS[name]})
                for name in headers
            ),
        ]
        return view

    return decorate
