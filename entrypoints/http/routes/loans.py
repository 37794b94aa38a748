"""Loans: lending, returning and renewing."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.circulation import Circulation
from application.losses import LostItems
from application.members import Membership
from application.queries import LoanFilter
from domain.access import Scope
from domain.errors import LoanNotFound, MemberNotFound
from domain.loans import Loan
from entrypoints.container import Container
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.idempotency import idempotent
from entrypoints.http.openapi import NOT_MODIFIED, created, listed, ok, operation
from entrypoints.http.responses.pagination import page_request, page_response
from entrypoints.http.responses.rendering import json_response
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.accounts import EntryOut
from entrypoints.schemas.desk import CHECK_IN_EXAMPLE, CheckInOut
from entrypoints.schemas.loans import (
    LOAN_EXAMPLE,
    CheckInCreate,
    LoanCreate,
    LoanOut,
    LoanPage,
    LoanPath,
    LoanQuery,
)
from entrypoints.schemas.losses import LOSS_EXAMPLE, LossOut
from entrypoints.settings import Settings

bp = APIBlueprint(
    "loans",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Loans", description="Lending, returning and renewing copies.")],
)


def _render(loan: Loan, circulation: Circulation) -> LoanOut:
    return LoanOut.of(circulation.loan_view(loan))


def _own_loan(circulation: Circulation, loan_id: str) -> Loan:
    """The loan, if the caller may see it; another member's is as missing as no loan at all."""
    loan = circulation.get_loan(loan_id)
    access.require_record_owner(loan.member_id, LoanNotFound(loan_id))
    return loan


@operation(
    bp,
    "POST",
    "/loans",
    summary="Lend a copy",
    description="Lend a copy to a member. The member by `member_id` or by the `card_number` "
    "scanned; the copy by `copy_id` or the `barcode` scanned, or by `book_id` (the copy set "
    "aside for the member's hold, or any copy on the shelf). Exactly one of each pair (422 "
    "otherwise). Members borrow only for themselves, and by `book_id` only where self-service "
    "by book is on (`CIRCULATE_SELF_SERVICE_BY_BOOK`; else 403 `INSUFFICIENT_SCOPE`). Refused "
    "when the member may not borrow (suspended, expired, overdue loans, debt or loan limit) or "
    "no copy can be lent; the problem's `code` says which.",
    replies=[created(LoanOut, LOAN_EXAMPLE, "The loan was made.")],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.BODY),
)
@idempotent
@inject
def create_loan(
    body: LoanCreate,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    settings: Settings = Provide[Container.settings],
) -> Response:
    by_card = "card_number" in body.model_fields_set
    borrower: str | None = None if by_card else body.member_id
    hidden_as = None
    if by_card and access.is_member_caller():
        # Another member's card is answered as an unknown card: asking reveals nobody.
        holder = membership.get_by_card_number(str(body.card_number))
        borrower, hidden_as = holder.id, MemberNotFound(holder.card_number)
    access.require_self_service(
        borrower,
        by_book=body.book_id is not None,
        self_service_by_book=settings.self_service_by_book,
        hidden_as=hidden_as,
    )
    loan = circulation.borrow(
        body.member_id,
        card_number=body.card_number,
        book_id=body.book_id,
        copy_id=body.copy_id,
        barcode=body.barcode,
    )
    return conditional.created(_render(loan, circulation), f"{API_PREFIX}/loans/{loan.id}")


@operation(
    bp,
    "POST",
    "/returns",
    summary="Check in a copy by barcode",
    description="The desk scans a returned copy: its open loan is closed (any overdue fine is "
    "charged; `loan.fine_cents`) and the answer says where the copy goes now: "
    "`destination` `shelf`, or `hold_shelf` with the `hold` it is set aside for (the member's "
    "id, name and card number, and the pickup deadline). A copy on no loan is refused with "
    "409 `NO_OPEN_LOAN`; an unknown barcode is 404 `COPY_NOT_FOUND`.",
    replies=[ok(CheckInOut, CHECK_IN_EXAMPLE, "The copy was checked in.", etag=False)],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@idempotent
@inject
def check_in(
    body: CheckInCreate,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    return json_response(CheckInOut.of(circulation.return_copy(body.barcode)))


@operation(
    bp,
    "GET",
    "/loans",
    summary="List loans",
    description="Newest first. Filters: `member_id`, `book_id`, the copy by `copy_id` or "
    "`barcode` (one of the two), and `status` (`open` includes overdue loans).",
    replies=[
        listed(
            LoanPage,
            {"items": [LOAN_EXAMPLE], "page": 1, "per_page": 20, "total": 1},
            "A page of loans.",
        )
    ],
    errors=(404,),
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.QUERY),
)
@inject
def list_loans(
    query: LoanQuery,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    found = circulation.list_loans(
        LoanFilter(
            member_id=access.visible_member(query.member_id),
            book_id=query.book_id,
            copy_id=query.copy_id,
            barcode=query.barcode,
            state=query.status,
        ),
        page_request(query),
    )
    return page_response(found, LoanOut.of, LoanPage)


@operation(
    bp,
    "GET",
    "/loans/<loan_id>",
    summary="Get a loan",
    description="One loan, with its status and the fine assessed or accruing.",
    replies=[ok(LoanOut, LOAN_EXAMPLE, "The loan."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.requires(Scope.LOANS_READ, owner=access.Owner.RECORD),
)
@inject
def get_loan(
    path: LoanPath,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    return conditional.read(_render(_own_loan(circulation, path.loan_id), circulation))


@operation(
    bp,
    "POST",
    "/loans/<loan_id>/return",
    summary="Return a loan",
    description="Close the loan and charge any overdue fine; the copy goes back on the shelf or "
    "to the hold shelf for the next member waiting. A loan is returned once "
    "(`LOAN_ALREADY_RETURNED`).",
    replies=[
        ok(
            LoanOut,
            {**LOAN_EXAMPLE, "returned_at": "2030-01-20T09:00:00Z", "status": "returned"},
            "The returned loan.",
            etag=False,
        )
    ],
    errors=(409,),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@inject
def return_loan(
    path: LoanPath,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    return json_response(_render(circulation.return_loan(path.loan_id), circulation))


@operation(
    bp,
    "POST",
    "/loans/<loan_id>/renewals",
    summary="Renew a loan",
    description="Push the due date one loan period on. Refused past the renewal limit, once "
    "overdue, or when members wait for the book and no other copy can serve them.",
    replies=[
        ok(
            LoanOut,
            {**LOAN_EXAMPLE, "due_at": "2030-02-12T09:00:00Z", "renewals": 1, "version": 2},
            "The renewed loan.",
            etag=False,
        )
    ],
    errors=(409,),
    access=access.requires(Scope.LOANS_WRITE, owner=access.Owner.RECORD),
)
@inject
def renew_loan(
    path: LoanPath,
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    _own_loan(circulation, path.loan_id)
    return json_response(_render(circulation.renew(path.loan_id), circulation))


@operation(
    bp,
    "POST",
    "/loans/<loan_id>/lost",
    summary="Declare a loan lost",
    description="The copy on loan is lost: the loan closes as `lost`, the copy is lost and serves "
    "no hold, and the overdue fine (to today, or to the claim of a disputed loan), the rule's "
    "replacement fee and its processing fee are charged. A closed loan is refused "
    "(`LOAN_ALREADY_RETURNED`).",
    replies=[ok(LossOut, LOSS_EXAMPLE, "The lost loan and its charges.", etag=False)],
    errors=(404, 409),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@inject
def declare_lost(
    path: LoanPath,
    lost_items: LostItems = Provide[Container.library.lost_items],
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    outcome = lost_items.declare_lost(path.loan_id)
    return json_response(
        LossOut(
            loan=_render(outcome.loan, circulation),
            charges=[EntryOut.of(c, c.amount_cents) for c in outcome.charges],
        )
    )


@operation(
    bp,
    "POST",
    "/loans/<loan_id>/claimed-returned",
    summary="Record a claim that a loan was returned",
    description="The member says they returned it: the loan stays open as `claimed_returned`, "
    "its fine stops growing and it no longer counts as overdue. A librarian resolves it by "
    "returning the loan (the copy was found: the fine counts to the claim) or declaring it "
    "lost. Refused for a closed loan (`LOAN_ALREADY_RETURNED`) or one already claimed "
    "(`LOAN_CLAIMED_RETURNED`).",
    replies=[
        ok(
            LoanOut,
            {
                **LOAN_EXAMPLE,
                "status": "claimed_returned",
                "claimed_returned_at": "2030-01-25T09:00:00Z",
                "version": 2,
            },
            "The disputed loan.",
            etag=False,
        )
    ],
    errors=(404, 409),
    access=access.requires(Scope.LOANS_WRITE, staff=True),
)
@inject
def claim_returned(
    path: LoanPath,
    lost_items: LostItems = Provide[Container.library.lost_items],
    circulation: Circulation = Provide[Container.library.circulation],
) -> Response:
    loan = lost_items.claim_returned(path.loan_id)
    return json_response(_render(loan, circulation))
