"""Use cases of members' accounts: charges, payments, waivers, refunds and cancellations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from application.common import found
from application.loan_views import LoanView, view_loans
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.unit_of_work import UnitOfWork
from domain.errors import InvalidValue, LoanNotFound, MemberNotFound
from domain.ledger import Account, ChargeBalance, ChargeType, EntryKind, LedgerEntry
from domain.members import Member
from domain.policy import Policy


@dataclass(frozen=True, slots=True)
class Statement:
    member_id: str
    entries: list[LedgerEntry]  # every line, oldest first
    charges: list[ChargeBalance]  # every charge with its remaining balance, oldest first
    accruing: list[LoanView]  # the open loans with a fine growing (frozen while disputed)
    balance_cents: int  # posted and owed now: the signed sum of the lines
    credit_cents: int  # paid but allocated to no charge (payments older than typed charges)

    def total(self, kind: EntryKind) -> int:
        return sum(e.amount_cents for e in self.entries if e.kind is kind)

    @property
    def accruing_cents(self) -> int:
        return sum(view.fine_cents for view in self.accruing)

    @property
    def owed_cents(self) -> int:
        """What counts against the debt limit: the balance and the fines still accruing."""
        return self.balance_cents + self.accruing_cents


@dataclass(frozen=True, slots=True)
class Arrears:
    """A member who has loans overdue or owes money."""

    member: Member
    overdue_loans: list[LoanView]  # earliest due first
    settled_cents: int  # the posted balance
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
        with self._uow().reading() as uow:
            return self._statement(uow, member_id)

    def arrears(self) -> list[Arrears]:
        """Every member with an overdue loan or a debt, who owes most first.

        Two aggregate queries find them, whatever the number of members; then one lookup each.
        """
        now = self._clock.now()
        with self._uow().reading() as uow:
            overdue: dict[str, list[LoanView]] = defaultdict(list)
            for view in view_loans(uow, self._policy, uow.loans.overdue(now), now):
                overdue[view.loan.member_id].append(view)
            settled = uow.ledger.balances()
            result: list[Arrears] = []
            for member_id in overdue.keys() | settled.keys():
                member = uow.members.get(member_id)
                if member is None:  # removed since the loans were read
                    continue
                views = overdue.get(member_id, [])
                result.append(
                    Arrears(
                        member=member,
                        overdue_loans=views,
                        settled_cents=settled.get(member_id, 0),
                        accruing_cents=sum(view.fine_cents for view in views),
                    )
                )
        result.sort(key=lambda a: (-a.owed_cents, a.member.name.casefold(), a.member.id))
        return result

    # --- changes: each loads the account, makes one domain call and commits -----------------

    def record_payment(
        self, member_id: str, amount_cents: int, note: str = "", charge_id: str | None = None
    ) -> LedgerEntry:
        """Money received, allocated to ``charge_id`` or to the oldest charges first; never more
        than is posted and owed now."""
        return self._change(
            member_id,
            lambda account: account.pay(
                id=self._ids.new_id(),
                amount_cents=amount_cents,
                now=self._clock.now(),
                note=note,
                charge_id=charge_id,
            ),
        )

    def charge(
        self, member_id: str, amount_cents: int, note: str, loan_id: str | None = None
    ) -> LedgerEntry:
        """A manual charge by staff (damage, a replacement card), optionally for one loan."""
        if not note.strip():
            raise InvalidValue("note", "note is required: say what the charge is for")

        def post(account: Account) -> LedgerEntry:
            return account.post(
                id=self._ids.new_id(),
                charge_type=ChargeType.MANUAL,
                amount_cents=amount_cents,
                now=self._clock.now(),
                loan_id=loan_id,
                note=note,
            )

        return self._change(member_id, post, loan_id=loan_id)

    def waive(
        self, member_id: str, charge_id: str, reason: str, amount_cents: int | None = None
    ) -> LedgerEntry:
        return self._change(
            member_id,
            lambda account: account.waive(
                id=self._ids.new_id(),
                charge_id=charge_id,
                reason=reason,
                now=self._clock.now(),
                amount_cents=amount_cents,
            ),
        )

    def cancel(self, member_id: str, charge_id: str, reason: str) -> LedgerEntry:
        return self._change(
            member_id,
            lambda account: account.cancel(
                id=self._ids.new_id(), charge_id=charge_id, reason=reason, now=self._clock.now()
            ),
        )

    def refund(
        self, member_id: str, payment_id: str, reason: str, amount_cents: int | None = None
    ) -> LedgerEntry:
        return self._change(
            member_id,
            lambda account: account.refund(
                id=self._ids.new_id(),
                payment_id=payment_id,
                reason=reason,
                now=self._clock.now(),
                amount_cents=amount_cents,
            ),
        )

    # --- helpers ---------------------------------------------------------------------------

    def _change(
        self,
        member_id: str,
        change: Callable[[Account], LedgerEntry],
        *,
        loan_id: str | None = None,
    ) -> LedgerEntry:
        with self._uow() as uow:
            # The member's row lock orders changes to one account, as it orders their loans.
            found(uow.members.get(member_id, for_update=True), MemberNotFound, member_id)
            if loan_id is not None:
                loan = found(uow.loans.get(loan_id), LoanNotFound, loan_id)
                if loan.member_id != member_id:
                    raise LoanNotFound(loan_id)
            account = Account(member_id, uow.ledger.for_member(member_id))
            entry = change(account)
            uow.ledger.add(entry)
            uow.emit(*account.pull_events())
            uow.commit()
            return entry

    def _statement(self, uow: UnitOfWork, member_id: str) -> Statement:
        now = self._clock.now()
        found(uow.members.get(member_id), MemberNotFound, member_id)
        account = Account(member_id, uow.ledger.for_member(member_id))
        views = view_loans(uow, self._policy, uow.loans.open_for_member(member_id), now)
        accruing = [view for view in views if view.fine_cents]
        return Statement(
            member_id=member_id,
            entries=account.entries,
            charges=account.charges(),
            accruing=accruing,
            balance_cents=account.balance_cents,
            credit_cents=account.credit_cents(),
        )
