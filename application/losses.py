"""Use cases of lost items: declared lost, claimed returned, aged to lost, and found again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.common import found, rule_book
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.retry import retry_on_conflict
from application.unit_of_work import UnitOfWork
from domain.catalogue import Copy, CopyStatus
from domain.errors import CopyNotFound, CopyNotLost, LoanAlreadyReturned, LoanNotFound
from domain.holds import Hold, HoldStatus
from domain.ledger import Account, ChargeType, LedgerEntry, new_charge
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy


@dataclass(frozen=True, slots=True)
class LossOutcome:
    loan: Loan  # closed as lost
    charges: list[LedgerEntry]  # the overdue fine, replacement and processing fees charged


@dataclass(frozen=True, slots=True)
class Recovery:
    copy: Copy  # available, or on the hold shelf for ``hold``
    loan: Loan | None  # the loan the copy was lost on, if it was lost on loan
    cancelled_cents: int  # of the replacement fee, no longer owed
    refunded_cents: int  # of the replacement fee, given back (policy ``refund``)
    hold: Hold | None  # the first waiting hold, now ready with this copy

    @property
    def loan_id(self) -> str | None:
        return None if self.loan is None else self.loan.id


class LostItems:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, policy: Policy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy

    @retry_on_conflict
    def declare_lost(self, loan_id: str, *, aged: bool = False) -> LossOutcome:
        """Close the loan as lost, lose its copy, and charge the fine and the rule's fees."""
        now = self._clock.now()
        with self._uow() as uow:
            loan, member = self._loan_and_member(uow, loan_id)
            state = uow.circulation.get(loan.book_id)
            loss = state.declare_lost(loan, member, rule_book(uow, self._policy), now, aged=aged)
            uow.circulation.save(state)
            barcode = state.copy(loan.copy_id).barcode
            charges = [
                self._charge(uow, loan, kind, cents, f"{what} for copy {barcode}", now)
                for kind, cents, what in (
                    (ChargeType.OVERDUE, loss.fine_cents, "overdue fine"),
                    (ChargeType.LOST, loss.replacement_fee_cents, "replacement fee"),
                    (ChargeType.PROCESSING, loss.processing_fee_cents, "processing fee"),
                )
                if cents
            ]
            uow.commit()
            return LossOutcome(loan, charges)

    @retry_on_conflict
    def claim_returned(self, loan_id: str) -> Loan:
        """The member says the loan was returned: disputed, its fine frozen, until a librarian
        resolves it by checking the copy in (found) or declaring the loan lost."""
        now = self._clock.now()
        with self._uow() as uow:
            loan, _ = self._loan_and_member(uow, loan_id)
            state = uow.circulation.get(loan.book_id)
            state.claim_returned(loan, now)
            uow.circulation.save(state)
            uow.commit()
            return loan

    def age_to_lost(self) -> list[Loan]:
        """The daily job: loans overdue ``lost_after_days_overdue`` days or more are declared
        lost (disputed loans wait for a librarian). One transaction per loan."""
        days = self._policy.lost_after_days_overdue
        if not days:
            return []
        cutoff = self._clock.now() - timedelta(days=days)
        with self._uow() as uow:
            candidates = [loan.id for loan in uow.loans.overdue(cutoff)]
        aged: list[Loan] = []
        for loan_id in candidates:
            try:
                aged.append(self.declare_lost(loan_id, aged=True).loan)
            except LoanAlreadyReturned:
                continue  # returned since we looked
        return aged

    @retry_on_conflict
    def recover_lost_copy(self, copy_id: str) -> Recovery:
        """A lost copy turned up: the replacement fee of the loan it was lost on is cancelled
        (or refunded, by policy), and the copy serves the first waiting hold or goes on the
        shelf. The overdue fine was posted at the lost date and stays."""
        with self._uow() as uow:
            copy = found(uow.copies.get(copy_id), CopyNotFound, copy_id)
            recovery = recover_in(uow, copy, self._policy, self._ids.new_id, self._clock.now())
            uow.commit()
            return recovery

    # --- helpers ---------------------------------------------------------------------------

    def _loan_and_member(self, uow: UnitOfWork, loan_id: str) -> tuple[Loan, Member]:
        loan = found(uow.loans.get(loan_id), LoanNotFound, loan_id)
        # The member's row lock orders this change with their other loans and their account.
        member = uow.members.get(loan.member_id, for_update=True)
        return loan, found(member, LoanNotFound, loan_id)

    def _charge(
        self,
        uow: UnitOfWork,
        loan: Loan,
        charge_type: ChargeType,
        cents: int,
        note: str,
        now: datetime,
    ) -> LedgerEntry:
        entry, posted = new_charge(
            id=self._ids.new_id(),
            member_id=loan.member_id,
            charge_type=charge_type,
            amount_cents=cents,
            now=now,
            loan_id=loan.id,
            note=note,
        )
        uow.ledger.add(entry)
        uow.emit(posted)
        return entry


def recover_in(
    uow: UnitOfWork, copy: Copy, policy: Policy, new_id: Callable[[], str], now: datetime
) -> Recovery:
    """``LostItems.recover_lost_copy`` inside ``uow`` (also what check-in by barcode does with a
    lost copy); the caller commits."""
    if copy.status is not CopyStatus.LOST:
        raise CopyNotLost(
            f"copy {copy.barcode} is {copy.status}, not lost",
            copy_id=copy.id,
            status=str(copy.status),
        )
    loan = uow.loans.lost_for_copy(copy.id)
    cancelled = refunded = 0
    if loan is not None:
        account = Account(loan.member_id, uow.ledger.for_member(loan.member_id))
        known = len(account.entries)
        cancelled, refunded = account.settle_found_replacement(
            loan_id=loan.id, policy=policy.found_replacement_fee, new_id=new_id, now=now
        )
        for entry in account.entries[known:]:
            uow.ledger.add(entry)
        uow.emit(*account.pull_events())
    state = uow.circulation.get(copy.book_id)
    copy = state.recover(
        copy.id,
        loan,
        rule_book(uow, policy),
        now,
        cancelled_cents=cancelled,
        refunded_cents=refunded,
    )
    uow.circulation.save(state)
    hold = next(
        (h for h in state.holds if h.status is HoldStatus.READY and h.copy_id == copy.id), None
    )
    return Recovery(copy, loan, cancelled, refunded, hold)
