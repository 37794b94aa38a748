"""Copies: one physical item each; lost, withdrawn or found here."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.catalogue import Catalogue
from application.circulation import Circulation
from application.losses import LostItems
from domain.access import Scope
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.conditional import entity_etag
from entrypoints.http.openapi import NOT_MODIFIED, ok, operation
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.books import COPY_EXAMPLE, CopyChange, CopyOut, CopyPath
from entrypoints.schemas.desk import COPY_AT_DESK_EXAMPLE, CopyAtDeskOut, CopyLookup
from entrypoints.schemas.loans import LoanOut
from entrypoints.schemas.losses import RECOVERY_EXAMPLE, RecoveryOut

bp = APIBlueprint(
    "copies",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Copies", description="Physical copies of books.")],
)


@operation(
    bp,
    "GET",
    "/copies",
    summary="Find a copy by barcode",
    description="The copy whose `barcode` was scanned, with its book's title, its status and, "
    "while it is on loan, the open loan (with the fine accrued so far). For library staff; an "
    "unknown barcode is 404 `COPY_NOT_FOUND`.",
    replies=[ok(CopyAtDeskOut, COPY_AT_DESK_EXAMPLE, "The copy.", etag=False)],
    errors=(404,),
    access=access.requires(Scope.LOANS_READ, staff=True),
)
@inject
def find_copy(
    query: CopyLookup,
    circulation: Circulation = Provide["circulation"],
) -> Response:
    found = circulation.copy_at_desk(query.barcode)
    loan = None if found.loan is None else LoanOut.of(circulation.loan_view(found.loan))
    return json_response(CopyAtDeskOut.at_desk(found, loan))


@operation(
    bp,
    "GET",
    "/copies/<copy_id>",
    summary="Get a copy",
    description="One physical copy and where it is: available, on loan, on the hold shelf, "
    "lost or withdrawn.",
    replies=[ok(CopyOut, COPY_EXAMPLE, "The copy."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.catalogue_read(),
)
@inject
def get_copy(path: CopyPath, catalogue: Catalogue = Provide["catalogue"]) -> Response:
    copy = catalogue.get_copy(path.copy_id)
    return conditional.read(CopyOut.of(copy), entity_etag(copy.id, copy.version))


@operation(
    bp,
    "PATCH",
    "/copies/<copy_id>",
    summary="Mark a copy lost, withdrawn or found",
    description="`lost` or `withdrawn` takes the copy out of circulation (a hold it was set "
    "aside for waits again at its place in the queue); `available` brings a lost copy back, "
    "serving the hold queue first. A copy on loan is returned or its loan declared lost "
    "(`COPY_ON_LOAN`); a copy lost on a loan is found with `POST /copies/{id}/found`, which "
    "settles its fees (`COPY_LOST_ON_LOAN`).",
    replies=[ok(CopyOut, {**COPY_EXAMPLE, "status": "lost", "version": 2}, "The copy.")],
    errors=(409, 412),
    headers=("If-Match",),
    access=access.requires(Scope.BOOKS_WRITE),
)
@inject
def update_copy(
    path: CopyPath, body: CopyChange, catalogue: Catalogue = Provide["catalogue"]
) -> Response:
    expected = conditional.expected_version(
        path.copy_id, lambda: catalogue.get_copy(path.copy_id).version
    )
    change = {
        "lost": catalogue.mark_copy_lost,
        "withdrawn": catalogue.withdraw_copy,
        "available": catalogue.mark_copy_found,
    }[body.status]
    copy = change(path.copy_id, expected_version=expected)
    return json_response(CopyOut.of(copy), headers={"ETag": entity_etag(copy.id, copy.version)})


@operation(
    bp,
    "POST",
    "/copies/<copy_id>/found",
    summary="A lost copy was found",
    description="The copy serves the first waiting hold (to the hold shelf) or goes back on the "
    "shelf. If it was lost on loan, that loan's replacement fee is cancelled, and what was paid "
    "of it refunded when `CIRCULATE_FOUND_REPLACEMENT_FEE` is `refund`; the overdue fine, "
    "posted at the lost date, and the processing fee stay. A copy that is not lost is refused "
    "(`COPY_NOT_LOST`).",
    replies=[ok(RecoveryOut, RECOVERY_EXAMPLE, "Where the copy goes.", etag=False)],
    errors=(404, 409),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@inject
def found_copy(path: CopyPath, lost_items: LostItems = Provide["lost_items"]) -> Response:
    recovery = lost_items.recover_lost_copy(path.copy_id)
    return json_response(RecoveryOut.of(recovery))
