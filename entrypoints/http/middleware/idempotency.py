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

The store keeps keys and results, and knows nothing of HTTP: the answer is kept as the bytes of a
``StoredResponse`` (status, headers and body), encoded and decoded here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, make_response, request

from application.idempotency import IdempotencyRecord, KeyState, KeyUsed
from application.unit_of_work import riding_with_next_commit
from domain.errors import DomainError
from entrypoints.http.context import get_container
from entrypoints.http.middleware.caller import idempotency_scope
from entrypoints.http.middleware.request_id import HEADER as REQUEST_ID_HEADER
from entrypoints.http.responses.errors import domain_problem
from entrypoints.http.responses.problem import ApiProblem, from_api_problem

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


# Marks (and versions) the encoding, so bytes that are not one (a row written before it) are told
# apart from a response rather than misread as one.
_FORMAT = b"circulate-response/1\n"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The answer a retry gets again: everything but the per-request headers."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def of(cls, response: Response) -> StoredResponse:
        headers = tuple(
            (name, value) for name, value in response.headers if name.lower() not in _NOT_STORED
        )
        return cls(response.status_code, headers, response.get_data())

    def encode(self) -> bytes:
        return (
            _FORMAT
            + json.dumps(
                {
                    "status": self.status,
                    "headers": [list(header) for header in self.headers],
                    "body": base64.b64encode(self.body).decode("ascii"),
                },
                separators=(",", ":"),
            ).encode()
        )

    @classmethod
    def decode(cls, stored: bytes) -> StoredResponse | None:
        """The response ``stored`` holds; ``None`` when it holds none this release can read."""
        if not stored.startswith(_FORMAT):
            return None
        try:
            fields = json.loads(stored[len(_FORMAT) :])
            return cls(
                status=int(fields["status"]),
                headers=tuple((str(name), str(value)) for name, value in fields["headers"]),
                body=base64.b64decode(fields["body"], validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None

    def replay(self) -> Response:
        response = Response(self.body, status=self.status)
        response.headers.clear()
        for name, value in self.headers:
            response.headers.add(name, value)
        response.headers[REPLAYED_HEADER] = "true"
        return response


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
    stored = StoredResponse.decode(held.result) if held.result is not None else None
    if stored is not None:
        return stored.replay()
    if held.state is KeyState.COMPLETED and (
        held.result is not None or not held.holds_lease(now, LEASE)
    ):
        # Committed, and its answer is lost: the process died before it could store it, or
        # it is kept in a form this release cannot read.
        raise ApiProblem(
            409,
            KEY_APPLIED,
            f"the request with this {HEADER} was applied, but its response was lost; read the "
            "resource it changed instead of retrying",
        )
    raise ApiProblem(
        409,
        KEY_IN_USE,
        f"a request with this {HEADER} is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


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
        store.complete(
            scope=scope, key=key, token=token, result=StoredResponse.of(response).encode()
        )
        return response

    return cast(F, run)
