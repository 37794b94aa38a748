"""A member's account: the statement, and money moving on it (payments, manual charges,
waivers, cancellations and refunds). Every change is a new line; none is edited or removed."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Response
from flask_openapi3.blueprint import APIBlueprint
from flask_openapi3.models.tag import Tag

from application.accounts import Accounts
from domain.access import Scope
from domain.ledger import LedgerEntry
from entrypoints.http.middleware import access, conditional
from entrypoints.http.middleware.idempotency import idempotent
from entrypoints.http.openapi import NOT_MODIFIED, Reply, ok, operation
from entrypoints.http.responses.rendering import json_response, url_for_path
from entrypoints.http.routes.root import API_PREFIX
from entrypoints.schemas.accounts import (
    ACCOUNT_EXAMPLE,
    CHARGE_EXAMPLE,
    PAYMENT_EXAMPLE,
    REFUND_EXAMPLE,
    WAIVER_EXAMPLE,
    AccountOut,
    CancellationCreate,
    ChargeCreate,
    ChargePath,
    EntryOut,
    PaymentCreate,
    PaymentPath,
    RefundCreate,
    WaiverCreate,
)
from entrypoints.schemas.members import MemberPath

bp = APIBlueprint(
    "accounts",
    __name__,
    url_prefix=API_PREFIX,
    abp_tags=[Tag(name="Accounts", description="Charges, payments, waivers and refunds.")],
)

_STAFF_WRITE = access.requires(Scope.MEMBERS_WRITE, staff=True)


def _account_url(member_id: str) -> str:
    return url_for_path(f"{API_PREFIX}/members/{member_id}/account")


def _line(entry: LedgerEntry, accounts: Accounts) -> Response:
    """201 with the new line (charges with their remaining balance); ``Location`` is the
    account it was added to."""
    remaining = None
    if entry.charge_type is not None:
        statement = accounts.statement(entry.member_id)
        remaining = next(c.remaining_cents for c in statement.charges if c.charge.id == entry.id)
    response = json_response(EntryOut.of(entry, remaining), 201)
    response.headers["Location"] = _account_url(entry.member_id)
    return response


def _created(description: str, example: dict[str, object]) -> Reply:
    return Reply(201, description, EntryOut, example, ("Location", "Idempotent-Replayed"))


@operation(
    bp,
    "GET",
    "/members/<member_id:member_id>/account",
    summary="Get a member's account",
    description="Every line, oldest first (charges with what remains owed on each), fines still "
    "accruing on overdue loans, and totals. `balance_cents` is the sum of the lines: posted and "
    "owed now, the most a payment may be. Accruing fines are not owed until the loan closes.",
    replies=[ok(AccountOut, ACCOUNT_EXAMPLE, "The account."), NOT_MODIFIED],
    headers=("If-None-Match",),
    access=access.requires(Scope.MEMBERS_READ, owner=access.Owner.PATH),
)
@inject
def get_account(path: MemberPath, accounts: Accounts = Provide["accounts"]) -> Response:
    return conditional.read(AccountOut.of(accounts.statement(path.member_id)))


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/payments",
    summary="Record a payment",
    description="Money received, allocated to `charge_id` or to the oldest charges first. It "
    "may not exceed the posted balance (`PAYMENT_EXCEEDS_BALANCE`) nor what remains of the "
    "named charge (`AMOUNT_EXCEEDS_CHARGE`, `CHARGE_SETTLED`).",
    replies=[_created("The payment was recorded.", PAYMENT_EXAMPLE)],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=_STAFF_WRITE,
)
@idempotent
@inject
def create_payment(
    path: MemberPath, body: PaymentCreate, accounts: Accounts = Provide["accounts"]
) -> Response:
    entry = accounts.record_payment(path.member_id, body.amount_cents, body.note, body.charge_id)
    return _line(entry, accounts)


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/charges",
    summary="Charge a member",
    description="A manual charge by staff (damage, a replacement card), optionally for one of "
    "the member's loans. Overdue, lost and processing charges are posted by circulation.",
    replies=[_created("The charge was posted.", {**CHARGE_EXAMPLE, "charge_type": "manual"})],
    errors=(404,),
    headers=("Idempotency-Key",),
    access=_STAFF_WRITE,
)
@idempotent
@inject
def create_charge(
    path: MemberPath, body: ChargeCreate, accounts: Accounts = Provide["accounts"]
) -> Response:
    entry = accounts.charge(path.member_id, body.amount_cents, body.note, body.loan_id)
    return _line(entry, accounts)


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/charges/<charge_id>/waivers",
    summary="Waive a charge",
    description="Forgive `amount_cents` of a charge (all that remains when left out), with a "
    "reason. Refused when nothing remains (`CHARGE_SETTLED`) or for more than remains "
    "(`AMOUNT_EXCEEDS_CHARGE`).",
    replies=[_created("The waiver was recorded.", WAIVER_EXAMPLE)],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=_STAFF_WRITE,
)
@idempotent
@inject
def create_waiver(
    path: ChargePath, body: WaiverCreate, accounts: Accounts = Provide["accounts"]
) -> Response:
    entry = accounts.waive(path.member_id, path.charge_id, body.reason, body.amount_cents)
    return _line(entry, accounts)


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/charges/<charge_id>/cancellation",
    summary="Cancel a charge made in error",
    description="Take back all that remains of the charge, with a reason. What was paid of it "
    "stays paid: refund that payment to give the money back.",
    replies=[
        _created(
            "The cancellation was recorded.",
            {**WAIVER_EXAMPLE, "kind": "cancellation", "amount_cents": 250},
        )
    ],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=_STAFF_WRITE,
)
@idempotent
@inject
def create_cancellation(
    path: ChargePath, body: CancellationCreate, accounts: Accounts = Provide["accounts"]
) -> Response:
    return _line(accounts.cancel(path.member_id, path.charge_id, body.reason), accounts)


@operation(
    bp,
    "POST",
    "/members/<member_id:member_id>/payments/<payment_id>/refunds",
    summary="Refund a payment",
    description="Give back `amount_cents` of a payment (all that is left when left out), with a "
    "reason; the charges it paid, the last paid first, are owed again. Refused past what is "
    "left of the payment (`REFUND_EXCEEDS_PAYMENT`).",
    replies=[_created("The refund was recorded.", REFUND_EXAMPLE)],
    errors=(404, 409),
    headers=("Idempotency-Key",),
    access=_STAFF_WRITE,
)
@idempotent
@inject
def create_refund(
    path: PaymentPath, body: RefundCreate, accounts: Accounts = Provide["accounts"]
) -> Response:
    entry = accounts.refund(path.member_id, path.payment_id, body.reason, body.amount_cents)
    return _line(entry, accounts)
