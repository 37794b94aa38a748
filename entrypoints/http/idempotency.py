"""``Idempotency-Key`` on POSTs that create or lend: a retry replays the first response.

The first request with a key claims it (atomically, in the store, with a token of its own). The
claim is used up in the transaction of the change it guards: the use case's unit of work writes
a ``KeyUsed`` record with its commit (``riding_with_next_commit``), and refuses to commit if the
claim is no longer this request's. Then the answer (below 500) is stored. So the change happens
at most once whatever dies when:

- the worker dies before the commit: nothing changed, the claim is abandoned, and a retry after
  ``LEASE`` runs afresh;
- it dies after the commit, before the answer is stored: the key is used up; a retry is told so
  (409 ``IDEMPOTENCY_KEY_APPLIED``) instead of running the change a second time;
- a request outlives its lease and a retry takes the key over: the first one's commit is
  refused, the retry's goes through.

A retry with the same key and the same request gets the stored answer again; with a different
request, 422; while the first is still running, 409 ``IDEMPOTENCY_KEY_IN_USE``. A request that
failed before committing (500, or an exception) gives its key up so that the retry runs afresh.
Keys belong to the caller (``identity.idempotency_scope``) and expire after ``TTL``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request

from application.idempotency import IdempotencyRecord, KeyState, KeyUsed, StoredResponse
from application.unit_of_work import riding_with_next_commit
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
KEY_APPLIED = "IDEMPOTENCY_KEY_APPLIED"

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


def _answer_from(held: IdempotencyRecord, fingerprint_: str, now: datetime) -> Response:
    if held.fingerprint != fingerprint_:
        raise ApiProblem(
            422,
            KEY_REUSED,
            f"{HEADER} was already used with a different request; use a new key",
        )
    if (
        held.state is KeyState.COMPLETED
        and held.response is None
        and not held.holds_lease(now, LEASE)
    ):
        # Committed, and the process died before it could store its answer.
        raise ApiProblem(
            409,
            KEY_APPLIED,
            f"the request with this {HEADER} was applied, but its response was lost; read the "
            "resource it changed instead of retrying",
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
        token = secrets.token_hex(16)
        now = container.clock().now()
        held = store.claim(
            scope=scope,
            key=key,
            fingerprint=request_fingerprint,
            now=now,
            ttl=TTL,
            lease=LEASE,
            token=token,
        )
        if held is not None:
            return _answer_from(held, request_fingerprint, now)
        with riding_with_next_commit(KeyUsed(scope, key, token)) as used:
            try:
                response = _respond(view, args, kwargs)
            except BaseException:
                if not used.written:
                    store.release(scope=scope, key=key, token=token)
                raise
        if response.status_code >= 500:
            if not used.written:
                store.release(scope=scope, key=key, token=token)
            return response  # not stored: after a commit, a retry hears KEY_APPLIED
        headers = tuple(
            (name, value) for name, value in response.headers if name.lower() not in _NOT_STORED
        )
        store.complete(
            scope=scope,
            key=key,
            token=token,
            response=StoredResponse(response.status_code, headers, response.get_data()),
        )
        return response

    return cast(F, run)
