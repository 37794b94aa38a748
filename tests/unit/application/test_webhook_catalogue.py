"""The webhook event catalogue: which types each domain event makes, with which resource."""

from __future__ import annotations

from datetime import UTC, datetime

from application.webhooks import EVENT_TYPES, webhook_events
from domain.events import (
    BookReturned,
    ChargePosted,
    LoanDeclaredLost,
    MemberAnonymised,
    MemberUpdated,
    PaymentReceived,
)
from domain.ledger import ChargeType

T = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


def test_a_charge_of_any_type_is_posted() -> None:
    event = ChargePosted(T, "m1", "c1", "l1", ChargeType.LOST, 2500)
    assert webhook_events(event) == [
        (
            "charge.posted",
            "c1",
            {
                "charge_id": "c1",
                "member_id": "m1",
                "loan_id": "l1",
                "charge_type": "lost",
                "amount_cents": 2500,
            },
        )
    ]


def test_a_loan_declared_lost() -> None:
    event = LoanDeclaredLost(T, "l1", "c1", "b1", "m1", 100, 2500, 500, True)
    [(name, resource_id, resource)] = webhook_events(event)
    assert (name, resource_id) == ("loan.lost", "l1")
    assert resource == {"loan_id": "l1", "copy_id": "c1", "member_id": "m1", "aged": True}


def test_a_member_change_names_the_kind_of_change_and_never_the_values() -> None:
    assert webhook_events(MemberUpdated(T, "m1", "email,name")) == [
        ("member.changed", "m1", {"member_id": "m1", "change": "member_updated"})
    ]
    assert webhook_events(MemberAnonymised(T, "m1")) == [
        ("member.changed", "m1", {"member_id": "m1", "change": "member_anonymised"})
    ]


def test_a_late_return_makes_two_types_and_a_payment_one() -> None:
    late = BookReturned(T, "l1", "c1", "m1", 50)
    assert [name for name, _, _ in webhook_events(late)] == ["loan.returned", "fine.posted"]
    assert [name for name, _, _ in webhook_events(PaymentReceived(T, "m1", 50))] == [
        "payment.received"
    ]


def test_each_type_is_named_once() -> None:
    assert len(EVENT_TYPES) == len(set(EVENT_TYPES))
