"""A member's account: typed charges, and the credits allocated to them, in integer cents.

Every line is immutable. A *charge* (overdue, lost, processing, manual) is money owed; a
*payment*, *waiver* or *cancellation* is a credit that names, in its allocations, the charges
it settles; a *refund* gives back part or all of one payment and names the charges it reopens.
So each charge's remaining balance is its amount less what was allocated to it, plus what
refunds reopened, and the account's balance is the signed sum of its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import (
    AmountExceedsCharge,
    ChargeNotFound,
    ChargeSettled,
    InvalidValue,
    PaymentExceedsBalance,
    PaymentNotFound,
    RefundExceedsPayment,
)
from domain.events import (
    ChargeCancelled,
    ChargePosted,
    ChargeWaived,
    Event,
    PaymentReceived,
    PaymentRefunded,
)
from domain.values import require_utc

MAX_NOTE = 500


class EntryKind(StrEnum):
    CHARGE = "charge"
    PAYMENT = "payment"
    WAIVER = "waiver"  # staff forgave part or all of a charge
    CANCELLATION = "cancellation"  # the charge was made in error
    REFUND = "refund"  # money of a payment given back


# Lines that add to what the member owes; every other kind takes from it.
DEBITS = frozenset({EntryKind.CHARGE, EntryKind.REFUND})


class ChargeType(StrEnum):
    OVERDUE = "overdue"
    LOST = "lost"  # the replacement fee for an item declared lost
    PROCESSING = "processing"  # the library's cost of replacing a lost item
    MANUAL = "manual"  # made by staff (damage, a printed card, ...)


class FoundReplacementFee(StrEnum):
    """What becomes of a replacement fee when the lost copy turns up."""

    CANCEL = "cancel"  # the unpaid part is cancelled; what was paid is kept
    REFUND = "refund"  # the unpaid part is cancelled and what was paid is refunded


@dataclass(frozen=True, slots=True)
class Allocation:
    """The part of a credit (or of a refund) that went to one charge."""

    charge_id: str
    amount_cents: int

    def __post_init__(self) -> None:
        if self.amount_cents <= 0:
            raise InvalidValue("amount_cents", "an allocation must be a positive number of cents")


def clean_note(field_name: str, note: str, *, required: bool = False) -> str:
    cleaned = note.strip()
    if required and not cleaned:
        raise InvalidValue(field_name, f"{field_name} is required")
    if len(cleaned) > MAX_NOTE:
        raise InvalidValue(field_name, f"{field_name} must be at most {MAX_NOTE} characters")
    return cleaned


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """One immutable line of a member's account.

    Charges keep the loan they came from only as a reference, so the debt survives the removal
    of the book it was incurred on. ``target_id`` is the charge a waiver or cancellation is for,
    or the payment a refund gives back.
    """

    id: str
    member_id: str
    kind: EntryKind
    amount_cents: int
    created_at: datetime
    loan_id: str | None = None
    note: str = ""
    charge_type: ChargeType | None = None
    target_id: str | None = None
    allocations: tuple[Allocation, ...] = ()

    def __post_init__(self) -> None:
        if self.amount_cents <= 0:
            raise InvalidValue("amount_cents", "amount_cents must be a positive number of cents")
        require_utc("created_at", self.created_at)
        if (self.kind is EntryKind.CHARGE) != (self.charge_type is not None):
            raise InvalidValue("charge_type", "a charge, and only a charge, has a charge type")
        # A payment migrated from before allocations may keep part unallocated (a credit).
        if sum(a.amount_cents for a in self.allocations) > self.amount_cents:
            raise InvalidValue("allocations", "allocations exceed the line's amount")

    @property
    def signed_cents(self) -> int:
        """Positive for what the member owes, negative for what was credited."""
        return self.amount_cents if self.kind in DEBITS else -self.amount_cents


def new_charge(
    *,
    id: str,
    member_id: str,
    charge_type: ChargeType,
    amount_cents: int,
    now: datetime,
    loan_id: str | None = None,
    note: str = "",
) -> tuple[LedgerEntry, ChargePosted]:
    """A charge and the event that announces it (posting needs no look at the account)."""
    entry = LedgerEntry(
        id=id,
        member_id=member_id,
        kind=EntryKind.CHARGE,
        charge_type=charge_type,
        amount_cents=amount_cents,
        created_at=now,
        loan_id=loan_id,
        note=clean_note("note", note),
    )
    event = ChargePosted(
        occurred_at=now,
        member_id=member_id,
        charge_id=entry.id,
        loan_id=loan_id,
        charge_type=str(charge_type),
        amount_cents=amount_cents,
    )
    return entry, event


@dataclass(frozen=True, slots=True)
class ChargeBalance:
    """A charge with what has happened to it since."""

    charge: LedgerEntry
    paid_cents: int  # payments allocated to it, less refunds that reopened it
    waived_cents: int
    cancelled_cents: int

    @property
    def remaining_cents(self) -> int:
        return self.charge.amount_cents - self.paid_cents - self.waived_cents - self.cancelled_cents


@dataclass(slots=True, eq=False)
class Account:
    """One member's lines, oldest first, and the rules of money moving on them.

    Each method refuses with a domain error (adding nothing) or returns the new line and records
    the event it caused; the caller stores the line and hands the events to the unit of work.
    """

    member_id: str
    entries: list[LedgerEntry]
    events: list[Event] = field(default_factory=list)

    # --- questions -------------------------------------------------------------------------

    @property
    def balance_cents(self) -> int:
        """What is posted and owed now: the signed sum of every line."""
        return sum(entry.signed_cents for entry in self.entries)

    def charges(self) -> list[ChargeBalance]:
        """Every charge, oldest first, with its payments, waivers and cancellations."""
        moved: dict[str, dict[EntryKind, int]] = {}
        for entry in self.entries:
            if entry.kind is EntryKind.CHARGE:
                continue
            sign = -1 if entry.kind is EntryKind.REFUND else 1
            kind = EntryKind.PAYMENT if entry.kind is EntryKind.REFUND else entry.kind
            for allocation in entry.allocations:
                totals = moved.setdefault(allocation.charge_id, {})
                totals[kind] = totals.get(kind, 0) + sign * allocation.amount_cents
        return [
            ChargeBalance(
                charge=entry,
                paid_cents=moved.get(entry.id, {}).get(EntryKind.PAYMENT, 0),
                waived_cents=moved.get(entry.id, {}).get(EntryKind.WAIVER, 0),
                cancelled_cents=moved.get(entry.id, {}).get(EntryKind.CANCELLATION, 0),
            )
            for entry in self.entries
            if entry.kind is EntryKind.CHARGE
        ]

    def charge(self, charge_id: str) -> ChargeBalance:
        found = next((c for c in self.charges() if c.charge.id == charge_id), None)
        if found is None:
            raise ChargeNotFound(charge_id)
        return found

    def payment(self, payment_id: str) -> LedgerEntry:
        found = next(
            (e for e in self.entries if e.id == payment_id and e.kind is EntryKind.PAYMENT), None
        )
        if found is None:
            raise PaymentNotFound(payment_id)
        return found

    def refunded_cents(self, payment_id: str) -> int:
        return sum(
            e.amount_cents
            for e in self.entries
            if e.kind is EntryKind.REFUND and e.target_id == payment_id
        )

    def paid_towards(self, payment_id: str) -> dict[str, int]:
        """What the payment still pays of each charge (refunds taken off), in allocation order."""
        payment = self.payment(payment_id)
        paid: dict[str, int] = {}
        for allocation in payment.allocations:
            paid[allocation.charge_id] = paid.get(allocation.charge_id, 0) + allocation.amount_cents
        for entry in self.entries:
            if entry.kind is EntryKind.REFUND and entry.target_id == payment_id:
                for allocation in entry.allocations:
                    paid[allocation.charge_id] -= allocation.amount_cents
        return {charge_id: cents for charge_id, cents in paid.items() if cents}

    def credit_cents(self) -> int:
        """Money paid but allocated to no charge (only payments made before charges were
        typed can hold any): the balance is the charges' remaining balances less this."""
        return sum(
            e.amount_cents - self.refunded_cents(e.id) - sum(self.paid_towards(e.id).values())
            for e in self.entries
            if e.kind is EntryKind.PAYMENT
        )

    # --- money in --------------------------------------------------------------------------

    def post(
        self,
        *,
        id: str,
        charge_type: ChargeType,
        amount_cents: int,
        now: datetime,
        loan_id: str | None = None,
        note: str = "",
    ) -> LedgerEntry:
        entry, event = new_charge(
            id=id,
            member_id=self.member_id,
            charge_type=charge_type,
            amount_cents=amount_cents,
            now=now,
            loan_id=loan_id,
            note=note,
        )
        return self._added(entry, event)

    def pay(
        self,
        *,
        id: str,
        amount_cents: int,
        now: datetime,
        note: str = "",
        charge_id: str | None = None,
    ) -> LedgerEntry:
        """Money received, allocated to ``charge_id`` or to the oldest open charges first.

        Only what is posted can be paid: a fine still accruing on a loan that is out is not
        owed yet (it is posted when the loan closes), so a payment never leaves the member in
        credit.
        """
        _positive(amount_cents)
        owed = self.balance_cents
        if amount_cents > owed:
            raise PaymentExceedsBalance(
                f"payment of {amount_cents} cents exceeds the {owed} cents owed now",
                balance_cents=owed,
            )
        allocations: tuple[Allocation, ...]
        if charge_id is not None:
            allocations = (Allocation(charge_id, self._within(charge_id, amount_cents)),)
        else:
            allocations = self._oldest_first(amount_cents)
        entry = LedgerEntry(
            id=id,
            member_id=self.member_id,
            kind=EntryKind.PAYMENT,
            amount_cents=amount_cents,
            created_at=now,
            note=clean_note("note", note),
            allocations=allocations,
        )
        event = PaymentReceived(
            occurred_at=now,
            member_id=self.member_id,
            amount_cents=amount_cents,
            payment_id=id,
            charge_ids=tuple(a.charge_id for a in allocations),
        )
        return self._added(entry, event)

    def waive(
        self,
        *,
        id: str,
        charge_id: str,
        reason: str,
        now: datetime,
        amount_cents: int | None = None,
    ) -> LedgerEntry:
        """Forgive ``amount_cents`` (all that remains when not given) of a charge."""
        reason = clean_note("reason", reason, required=True)
        amount = self._within(charge_id, amount_cents)
        entry = self._credit(EntryKind.WAIVER, id, charge_id, amount, reason, now)
        event = ChargeWaived(
            occurred_at=now,
            member_id=self.member_id,
            charge_id=charge_id,
            waiver_id=id,
            loan_id=entry.loan_id,
            amount_cents=amount,
            reason=reason,
        )
        return self._added(entry, event)

    def cancel(self, *, id: str, charge_id: str, reason: str, now: datetime) -> LedgerEntry:
        """Take back what remains of a charge made in error (what was paid stays paid:
        refund the payment for that)."""
        reason = clean_note("reason", reason, required=True)
        amount = self._within(charge_id, None)
        entry = self._credit(EntryKind.CANCELLATION, id, charge_id, amount, reason, now)
        event = ChargeCancelled(
            occurred_at=now,
            member_id=self.member_id,
            charge_id=charge_id,
            cancellation_id=id,
            loan_id=entry.loan_id,
            amount_cents=amount,
            reason=reason,
        )
        return self._added(entry, event)

    def refund(
        self,
        *,
        id: str,
        payment_id: str,
        reason: str,
        now: datetime,
        amount_cents: int | None = None,
        charge_id: str | None = None,
    ) -> LedgerEntry:
        """Give back ``amount_cents`` (all that is left when not given) of a payment.

        The charges it paid are owed again: money paid to none goes back first, then the
        charges it paid last. With ``charge_id`` only what the payment paid of that charge is
        given back.
        """
        reason = clean_note("reason", reason, required=True)
        payment = self.payment(payment_id)
        paid = self.paid_towards(payment_id)
        if charge_id is not None:
            paid = {charge_id: paid.get(charge_id, 0)} if paid.get(charge_id) else {}
            unallocated = 0
        else:
            unallocated = payment.amount_cents - self.refunded_cents(payment_id)
            unallocated -= sum(paid.values())
        left = unallocated + sum(paid.values())
        if amount_cents is not None:
            _positive(amount_cents)
        amount = left if amount_cents is None else amount_cents
        if amount == 0 or amount > left:
            raise RefundExceedsPayment(
                f"only {left} cents of payment {payment_id} can be refunded",
                payment_id=payment_id,
                refundable_cents=left,
            )
        reopened: list[Allocation] = []
        rest = amount - min(amount, unallocated)
        for paid_charge, cents in reversed(list(paid.items())):
            if rest == 0:
                break
            taken = min(rest, cents)
            reopened.append(Allocation(paid_charge, taken))
            rest -= taken
        entry = LedgerEntry(
            id=id,
            member_id=self.member_id,
            kind=EntryKind.REFUND,
            amount_cents=amount,
            created_at=now,
            note=reason,
            target_id=payment_id,
            allocations=tuple(reopened),
        )
        event = PaymentRefunded(
            occurred_at=now,
            member_id=self.member_id,
            payment_id=payment_id,
            refund_id=id,
            amount_cents=amount,
            charge_ids=tuple(a.charge_id for a in reopened),
            reason=reason,
        )
        return self._added(entry, event)

    def settle_found_replacement(
        self,
        *,
        loan_id: str,
        policy: FoundReplacementFee,
        new_id: Callable[[], str],
        now: datetime,
    ) -> tuple[int, int]:
        """A lost copy of ``loan_id`` turned up: its replacement fee is no longer owed.

        What remains of the fee is cancelled; under ``REFUND`` what was paid of it is given
        back first (each payment's share), so the whole fee is cancelled. The processing fee and
        the overdue fine stay: the library did that work, and the fine stopped at the lost date.
        Returns ``(cancelled_cents, refunded_cents)``.
        """
        reason = "the lost copy was found"
        refunded = 0
        fees = [
            c
            for c in self.charges()
            if c.charge.loan_id == loan_id and c.charge.charge_type is ChargeType.LOST
        ]
        for fee in fees:
            if policy is FoundReplacementFee.REFUND:
                for payment in [e for e in self.entries if e.kind is EntryKind.PAYMENT]:
                    share = self.paid_towards(payment.id).get(fee.charge.id, 0)
                    if share:
                        self.refund(
                            id=new_id(),
                            payment_id=payment.id,
                            reason=reason,
                            now=now,
                            charge_id=fee.charge.id,
                        )
                        refunded += share
        cancelled = 0
        for fee in fees:
            remaining = self.charge(fee.charge.id).remaining_cents
            if remaining:
                self.cancel(id=new_id(), charge_id=fee.charge.id, reason=reason, now=now)
                cancelled += remaining
        return cancelled, refunded

    def pull_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # --- helpers ---------------------------------------------------------------------------

    def _within(self, charge_id: str, amount_cents: int | None) -> int:
        """``amount_cents`` (or all that remains) of the charge, if that much remains."""
        remaining = self.charge(charge_id).remaining_cents
        if remaining == 0:
            raise ChargeSettled(f"nothing remains owed on charge {charge_id}", charge_id=charge_id)
        if amount_cents is None:
            return remaining
        _positive(amount_cents)
        if amount_cents > remaining:
            raise AmountExceedsCharge(
                f"{amount_cents} cents exceeds the {remaining} cents left on charge {charge_id}",
                charge_id=charge_id,
                remaining_cents=remaining,
            )
        return amount_cents

    def _oldest_first(self, amount_cents: int) -> tuple[Allocation, ...]:
        allocations: list[Allocation] = []
        rest = amount_cents
        for balance in self.charges():
            if rest == 0:
                break
            taken = min(rest, balance.remaining_cents)
            if taken:
                allocations.append(Allocation(balance.charge.id, taken))
                rest -= taken
        return tuple(allocations)

    def _credit(
        self, kind: EntryKind, id: str, charge_id: str, amount: int, reason: str, now: datetime
    ) -> LedgerEntry:
        return LedgerEntry(
            id=id,
            member_id=self.member_id,
            kind=kind,
            amount_cents=amount,
            created_at=now,
            loan_id=self.charge(charge_id).charge.loan_id,
            note=reason,
            target_id=charge_id,
            allocations=(Allocation(charge_id, amount),),
        )

    def _added(self, entry: LedgerEntry, event: Event) -> LedgerEntry:
        self.entries.append(entry)
        self.events.append(event)
        return entry


def _positive(amount_cents: int) -> None:
    if amount_cents <= 0:
        raise InvalidValue("amount_cents", "amount_cents must be a positive number of cents")
