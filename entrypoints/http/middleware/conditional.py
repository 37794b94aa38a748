"""Conditional requests: strong ETags, ``If-None-Match`` on reads, ``If-Match`` on writes.

Books, copies and members carry a version that every change bumps, so their ETag is made from
id and version, and an ``If-Match`` turns into the ``expected_version`` the use case checks in
its transaction (and the database checks again when writing): a stale write can never overwrite
a newer one. Representations with computed parts (a loan's accruing fine, a hold's place in the
queue, an account) change without a version bump, so their ETag is a digest of the body.

``If-Match`` and ``If-None-Match`` must be what RFC 9110 says (``*`` or a list of quoted entity
tags, ``ETAG_LIST``, which the OpenAPI document states): anything else is refused with 422
before the request runs, rather than read loosely and answered 412 or 304.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from flask import Flask, Response, request
from pydantic import BaseModel

from domain.errors import VersionMismatch
from entrypoints.http.request_context import current_request
from entrypoints.http.responses.problem import ApiProblem
from entrypoints.http.responses.rendering import created_body, json_response

# RFC 9110 section 13.1: "*" or a comma-separated list of entity tags ("...", or W/"..." for
# a weak one; If-Match compares strongly, so a weak tag there never matches).
_ETAG = r'(W/)?"[!#-~]*"'
ETAG_LIST = rf"^(\*|{_ETAG}([ \t]*,[ \t]*{_ETAG})*)$"
# Each header with the key WSGI files it under (read there directly: most requests send neither).
_PRECONDITION_HEADERS = (("If-Match", "HTTP_IF_MATCH"), ("If-None-Match", "HTTP_IF_NONE_MATCH"))


def refuse_malformed_preconditions() -> None:
    """``before_request``: 422 for an ``If-Match`` or ``If-None-Match`` that is no ETag list."""
    current = current_request()
    if current.routing_exception is not None:
        return
    environ = current.environ
    malformed = [
        name
        for name, key in _PRECONDITION_HEADERS
        if key in environ and not re.fullmatch(ETAG_LIST, environ[key].strip())
    ]
    if malformed:
        raise ApiProblem(
            422,
            "VALIDATION_FAILED",
            f"the request is not valid: {', '.join(malformed)}",
            {
                "errors": [
                    {
                        "location": "header",
                        "field": name,
                        "message": 'must be * or a list of entity tags, such as "3-1a2b3c"',
                    }
                    for name in malformed
                ]
            },
        )


def init_app(app: Flask) -> None:
    app.before_request(refuse_malformed_preconditions)


def _digest(text: bytes, length: int) -> str:
    return hashlib.sha256(text).hexdigest()[:length]


def entity_etag(resource_id: str, version: int) -> str:
    """``"<version>-<digest of id>"``: the id part keeps one resource's tag off another."""
    return f'"{version}-{_digest(resource_id.encode(), 12)}"'


def body_etag(body: bytes) -> str:
    return f'"{_digest(body, 32)}"'


def model_etag(model: BaseModel) -> str:
    """The ETag ``read`` gives ``model`` when it has no version of its own."""
    return body_etag(model.model_dump_json().encode())


def created(model: BaseModel, location: str) -> Response:
    """201 for a new resource at ``location`` that has no version of its own: its ETag is the
    one ``read`` gives it (``model_etag``), the digest of the very bytes sent, so the model is
    rendered once."""
    body = model.model_dump_json().encode()
    return created_body(body, location, body_etag(body))


def _version_in(opaque: str, resource_id: str) -> int | None:
    version, _, digest = opaque.partition("-")
    if not version.isdigit() or len(version) > 18 or digest != _digest(resource_id.encode(), 12):
        return None
    return int(version)


def _precondition_failed() -> ApiProblem:
    # The same code as a stale version found in the transaction: one failure, one code.
    return ApiProblem(
        412,
        VersionMismatch.code,
        "If-Match does not match the current representation; fetch it again and retry",
    )


def read(model: BaseModel, etag: str | None = None) -> Response:
    """200 with ``model`` and its ETag, or 304 when ``If-None-Match`` already has it.

    Without ``etag`` the body's digest is the tag.
    """
    response = json_response(model)
    tag = etag or body_etag(response.get_data())
    if request.if_none_match.contains_weak(tag.strip('"')):
        # A 304 repeats the validator and nothing else.
        return Response(status=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return response


def expected_version(resource_id: str, current_version: Callable[[], int]) -> int | None:
    """The version ``If-Match`` requires (``None`` when any will do), or 412 when none can match.

    ``current_version`` is asked only when the header lists several tags of the resource: the one
    that is current is then the version the write must still find.
    """
    if "If-Match" not in request.headers or request.if_match.star_tag:
        return None
    versions = {
        version
        for opaque in request.if_match.as_set()  # strong tags only: If-Match compares strongly
        if opaque and (version := _version_in(opaque, resource_id)) is not None
    }
    if not versions:
        raise _precondition_failed()
    if len(versions) == 1:
        return versions.pop()
    current = current_version()
    if current not in versions:
        raise _precondition_failed()
    return current


def require_match(current_etag: str) -> bool:
    """412 unless ``If-Match`` is absent, ``*`` or lists ``current_etag``.

    Returns whether a tag was compared (and matched).
    """
    if "If-Match" not in request.headers or request.if_match.star_tag:
        return False
    if not request.if_match.contains(current_etag.strip('"')):
        raise _precondition_failed()
    return True
