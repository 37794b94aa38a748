"""``Idempotency-Key`` on POSTs that create or lend: a retry replays the first response.

The first request with a key claims it (atomically, in the store) and, once it has an answer
below 500, stores that answer. A retry with the same key and the same request gets the stored
answer again; with a different request, 422; while the first is still running, 409. A failed
request (500, or an exception) gives its key up so that the retry runs afresh. Keys belong to
the caller (``identity.idempotency_scope``) and expire after ``TTL``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request

from application.idempotency import IdempotencyRecord, KeyState, StoredResponse
from domain.errors import DomainError
from entrypoints.http.context import get_container
from entrypoints.http.errors import domain_problem
from entrypoints.http.identity import idempotency_scope
from entrypoints.http.problem import ApiProblem, from_api_problem
from entrypoints.http.request_id import HEADER as REQUEST_ID_HEADER

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
# A request still "in flight" after this long is taken to have died with its worker.
LEASE = timedelta(seconds=60)
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"

F = TypeVar("F", bound=Callable[..., Any])

_KEY = re.compile(r"[!-~]{1,255}")

# Per-request headers are made afresh on a replay rather than repeated.
_NOT_STORED = {REQUEST_ID_HEADER.lower(), "content-length"}


def fingerprint() -> str:
    """Digest of what makes two requests "the same": method, path and the body's meaning."""
    body = request.get_json(silent=True)
    canonical = "" if body is None else json.dumps(body, sort_keys=True, separators=(",", ":"))
    text = f"{request.method}\n{request.path}\n{canonical}"
    return hashlib.sha256(text.encode()).hexdigest()


def _check_key(key: str) -> None:
    if not _KEY.fullmatch(key):
        raise ApiProblem(
            422,
            "VALIDATION_FAILED",
            f"the request is not valid: {HEADER}",
            {
                "errors": [
                    {
                        "location": "header",
                        "field": HEADER,
                        "message": "must be 1-255 printable ASCII characters without spaces",
                    }
                ]
            },
        )


def _answer_from(held: IdempotencyRecord, fingerprint_: str) -> Response:
    if held.fingerprint != fingerprint_:
        raise ApiProblem(
            422,
            KEY_REUSED,
            f"{HEADER} was already used with a different request; use a new key",
        )
    if held.state is KeyState.IN_FLIGHT or held.response is None:
        raise ApiProblem(
            409,
            KEY_IN_USE,
            f"a request with this {HEADER} is still being processed; retry shortly",
            headers={"Retry-After": "1"},
        )
    stored = held.response
    response = Response(stored.body, status=stored.status)
    response.headers.clear()
    for name, value in stored.headers:
        response.headers.add(name, value)
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _respond(view: Callable[..., Any], args: Any, kwargs: Any) -> Response:
    # Refusals are answered here rather than by the error handlers, so they are stored too:
    # a retry of a refused request is refused the same way.
    try:
        return make_response(view(*args, **kwargs))
    except DomainError as refusal:
        return domain_problem(refusal)
    except ApiProblem as problem:
        return from_api_problem(problem)


def idempotent(view: F) -> F:
    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        _check_key(key)
        container = get_container()
        store = container.idempotency()
        scope = idempotency_scope()
        request_fingerprint = fingerprint()
        held = store.claim(
            scope=scope,
            key=key,
            fingerprint=request_fingerprint,
            now=container.clock().now(),
            ttl=TTL,
            lease=LEASE,
        )
        if held is not None:
            return _answer_from(held, request_fingerprint)
        try:
            response = _respond(view, args, kwargs)
        except BaseException:
            store.release(scope=scope, key=key)
            raise
        if response.status_code >= 500:
            store.release(scope=scope, key=key)
            return response
        headers = tuple(
            (name, value) for name, value in response.headers if name.lower() not in _NOT_STORED
        )
        store.complete(
            scope=scope,
            key=key,
            response=StoredResponse(response.status_code, headers, response.get_data()),
        )
        return response

    return cast(F, run)
