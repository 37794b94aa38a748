"""Use cases of members' accounts: what they owe and what they pay."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from application.common import found, rule_book
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.unit_of_work import UnitOfWork
from domain import circulation
from domain.errors import InvalidValue, MemberNotFound, PaymentExceedsBalance
from domain.events import PaymentReceived
from domain.ledger import EntryKind, LedgerEntry
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy

MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class AccruingFine:
    """A fine still growing on a loan that is out past its due date."""

    loan: Loan
    amount_cents: int


@dataclass(frozen=True, slots=True)
class Statement:
    member_id: str
    entries: list[LedgerEntry]  # fines charged and payments made, oldest first
    accruing: list[AccruingFine]
    balance_cents: int  # what the member owes now, accruing fines included

    @property
    def fines_cents(self) -> int:
        return sum(e.amount_cents for e in self.entries if e.kind is EntryKind.FINE)

    @property
    def payments_cents(self) -> int:
        return sum(e.amount_cents for e in self.entries if e.kind is EntryKind.PAYMENT)


@dataclass(frozen=True, slots=True)
class Arrears:
    """A member who has loans overdue or owes money."""

    member: Member
    overdue_loans: list[Loan]  # earliest due first
    settled_cents: int  # fines charged minus payments made
    accruing_cents: int  # fines still growing on the overdue loans

    @property
    def owed_cents(self) -> int:
        return self.settled_cents + self.accruing_cents


class Accounts:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, policy: Policy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy

    def statement(self, member_id: str) -> Statement:
        with self._uow() as uow:
            found(uow.members.get(member_id), MemberNotFound, member_id)
            return self._statement(uow, member_id)

    def arrears(self) -> list[Arrears]:
        """Every member with an overdue loan or a debt, who owes most first.

        Two aggregate queries find them, whatever the number of members; then one lookup each.
        """
        now = self._clock.now()
        with self._uow() as uow:
            overdue: dict[str, list[Loan]] = defaultdict(list)
            for loan in uow.loans.overdue(now):
                overdue[loan.member_id].append(loan)
            settled = uow.ledger.balances()
            result: list[Arrears] = []
            for member_id in overdue.keys() | settled.keys():
                member = uow.members.get(member_id)
                if member is None:  # removed since the loans were read
                    continue
                loans = overdue.get(member_id, [])
                result.append(
                    Arrears(
                        member=member,
                        overdue_loans=loans,
                        settled_cents=settled.get(member_id, 0),
                        accruing_cents=sum(loan.fine_at(now, self._policy) for loan in loans),
                    )
                )
        result.sort(key=lambda a: (-a.owed_cents, a.member.name.casefold(), a.member.id))
        return result

    def record_payment(self, member_id: str, amount_cents: int, note: str = "") -> LedgerEntry:
        """Record money received; paying more than is owed is refused, so debt stays >= 0."""
        if amount_cents <= 0:
            raise InvalidValue("amount_cents", "amount_cents must be a positive number of cents")
        if len(note) > MAX_NOTE:
            raise InvalidValue("note", f"note must be at most {MAX_NOTE} characters")
        now = self._clock.now()
        with self._uow() as uow:
            found(uow.members.get(member_id, for_update=True), MemberNotFound, member_id)
            owed = self._statement(uow, member_id).balance_cents
            if amount_cents > owed:
                raise PaymentExceedsBalance(
                    f"payment of {amount_cents} cents exceeds the {owed} cents owed",
                    balance_cents=owed,
                )
            entry = LedgerEntry(
                id=self._ids.new_id(),
                member_id=member_id,
                kind=EntryKind.PAYMENT,
                amount_cents=amount_cents,
                created_at=now,
                note=note.strip(),
            )
            uow.ledger.add(entry)
            uow.emit(
                PaymentReceived(occurred_at=now, member_id=member_id, amount_cents=amount_cents)
            )
            uow.commit()
            return entry

    def _statement(self, uow: UnitOfWork, member_id: str) -> Statement:
        now = self._clock.now()
        member = found(uow.members.get(member_id), MemberNotFound, member_id)
        rules = rule_book(uow, self._policy)
        entries = uow.ledger.for_member(member_id)
        open_loans = uow.loans.open_for_member(member_id)
        accruing = [
            AccruingFine(loan, loan.fine_at(now, rules.terms(member.category, loan.item_type)))
            for loan in open_loans
            if loan.is_overdue(now)
        ]
        return Statement(
            member_id=member_id,
            entries=entries,
            accruing=accruing,
            balance_cents=circulation.balance(entries, open_loans, rules, member.category, now),
        )
