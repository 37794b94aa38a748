"""Use cases of circulation: lending, returning, renewing and holding books."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from application.common import (
    book_circulation,
    check_version,
    circulation_and_rule_book,
    found,
    listed_for_member,
    member_circulation_and_rule_book,
    rule_book,
)
from application.desk import CheckIn, CopyAtDesk, HoldShelfSlip
from application.loan_views import LoanView, view_loans, view_without_rules
from application.losses import recover_in
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.queries import HoldFilter, LoanFilter, Page, PageRequest
from application.retry import retry_on_conflict
from application.unit_of_work import UnitOfWork
from domain import circulation
from domain.calendar import LibraryCalendar
from domain.cards import normalise_card_number
from domain.catalogue import Copy, CopyStatus
from domain.circulation import BookCirculation, Standing
from domain.errors import (
    BookNotFound,
    CopyNotFound,
    DomainError,
    HoldNotFound,
    InvalidValue,
    LoanNotFound,
    MemberNotFound,
    NoOpenLoan,
)
from domain.holds import Hold
from domain.ledger import ChargeType, new_charge
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy
from domain.rules import RuleBook
from domain.values import UNSET, Unset


@dataclass(frozen=True, slots=True)
class HoldInQueue:
    hold: Hold
    position: int | None  # 1 for the next in line; None once the hold is no longer waiting


@dataclass(frozen=True, slots=True)
class RenewalOutcome:
    loan: Loan  # as it is after the attempt
    refusal: DomainError | None  # why it was not renewed; None when it was

    @property
    def renewed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class Availability:
    book_id: str
    copies: int  # copies that circulate (neither lost nor withdrawn)
    available: int
    on_loan: int
    on_hold_shelf: int
    holds_waiting: int
    can_borrow: bool | None  # None when no member was asked about
    reasons: list[DomainError]  # why the member cannot borrow now


class Circulation:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, policy: Policy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy

    # --- lending ---------------------------------------------------------------------------

    @retry_on_conflict
    def borrow(
        self,
        member_id: str | None = None,
        *,
        card_number: str | None = None,
        book_id: str | None = None,
        copy_id: str | None = None,
        barcode: str | None = None,
    ) -> Loan:
        """Lend the copy given (by id or scanned barcode); or, by book, the copy set aside for
        the member or a free one. The member is named by id or by the card scanned."""
        if (member_id is None) == (card_number is None):
            raise InvalidValue("member_id", "give exactly one of member_id and card_number")
        if sum(ref is not None for ref in (book_id, copy_id, barcode)) != 1:
            raise InvalidValue("book_id", "give exactly one of book_id, copy_id and barcode")
        now = self._clock.now()
        with self._uow() as uow:
            if card_number is not None:
                member_id = self._card_holder(uow, card_number)
            if barcode is not None:
                copy_id = self._scanned(uow, barcode).id
            if copy_id is not None:
                book_id = found(uow.copies.get(copy_id), CopyNotFound, copy_id).book_id
            # The member locked: their loans are decided one at a time.
            member, state, rules = member_circulation_and_rule_book(
                uow, str(member_id), str(book_id), self._policy
            )
            loan = state.lend(
                loan_id=self._ids.new_id(),
                standing=self._standing(uow, member, rules),
                rules=rules,
                now=now,
                copy_id=copy_id,
            )
            uow.loans.add(loan)
            uow.circulation.save(state)
            uow.commit()
            return loan

    def return_loan(self, loan_id: str) -> Loan:
        """Close the loan, charge any fine, and pass the copy to the next member waiting."""
        return self.check_in_loan(loan_id).loan

    @retry_on_conflict
    def check_in_loan(self, loan_id: str) -> CheckIn:
        """``return_loan``, saying where the copy goes now."""
        now = self._clock.now()
        with self._uow() as uow:
            loan = found(uow.loans.get(loan_id), LoanNotFound, loan_id)
            return self._take_back(uow, loan, now)

    @retry_on_conflict
    def return_copy(self, barcode: str) -> CheckIn:
        """Check in the copy scanned at the desk: close its open loan (charging any fine) and
        say where the copy goes now, the shelf or the hold shelf for a named member."""
        now = self._clock.now()
        with self._uow() as uow:
            scanned, loan = uow.copy_and_open_loan(barcode.strip())
            copy = found(scanned, CopyNotFound, barcode.strip())
            if loan is None:
                return self._check_in_without_loan(uow, copy, now)
            return self._take_back(uow, loan, now)

    def _check_in_without_loan(self, uow: UnitOfWork, copy: Copy, now: datetime) -> CheckIn:
        """A copy scanned at check-in that is on no loan: the one place that decides what such
        a scan means. A copy lost on a loan has turned up: it is recovered (its replacement fee
        settled by policy) and goes where the recovery sends it. Anything else is refused."""
        lost_on = uow.loans.lost_for_copy(copy.id) if copy.status is CopyStatus.LOST else None
        if lost_on is not None:
            recovery = recover_in(uow, copy, self._policy, self._ids.new_id, now)
            check_in = CheckIn(
                loan=lost_on, copy=recovery.copy, slip=self._slip(uow, recovery.hold)
            )
            uow.commit()
            return check_in
        raise NoOpenLoan(
            f"copy {copy.barcode} is not on loan ({copy.status}); nothing to check in",
            copy_id=copy.id,
            barcode=copy.barcode,
            status=str(copy.status),
        )

    def _take_back(self, uow: UnitOfWork, loan: Loan, now: datetime) -> CheckIn:
        member = found(uow.members.get(loan.member_id), MemberNotFound, loan.member_id)
        state, rules = circulation_and_rule_book(uow, loan.book_id, self._policy)
        fine = state.take_back(loan, member, rules, now)
        uow.circulation.save(state)  # its events (the return) before the charge's
        if fine:
            entry, posted = new_charge(
                id=self._ids.new_id(),
                member_id=loan.member_id,
                charge_type=ChargeType.OVERDUE,
                amount_cents=fine,
                now=now,
                loan_id=loan.id,
                note=f"overdue fine for copy {state.copy(loan.copy_id).barcode}",
            )
            uow.ledger.add(entry)
            uow.emit(posted)
        check_in = self._where_next(uow, state, loan)
        uow.commit()
        return check_in

    @classmethod
    def _where_next(cls, uow: UnitOfWork, state: BookCirculation, loan: Loan) -> CheckIn:
        slip = cls._slip(uow, state.set_aside_for(loan.copy_id))
        return CheckIn(loan=loan, copy=state.copy(loan.copy_id), slip=slip)

    @staticmethod
    def _slip(uow: UnitOfWork, hold: Hold | None) -> HoldShelfSlip | None:
        if hold is None:
            return None
        waiting = found(uow.members.get(hold.member_id), MemberNotFound, hold.member_id)
        return HoldShelfSlip(hold=hold, member=waiting)

    @retry_on_conflict
    def renew(self, loan_id: str) -> Loan:
        now = self._clock.now()
        with self._uow() as uow:
            loan = found(uow.loans.get(loan_id), LoanNotFound, loan_id)
            member, state, rules = member_circulation_and_rule_book(
                uow, loan.member_id, loan.book_id, self._policy
            )
            state.renew(loan, self._standing(uow, member, rules), rules, now)
            uow.circulation.save(state)
            uow.commit()
            return loan

    def renew_all(self, member_id: str) -> list[RenewalOutcome]:
        """Try to renew each of the member's open loans, each on its own: one refused renewal
        leaves the others to be granted. Says per loan what happened and why."""
        with self._uow() as uow:
            found(uow.members.get(member_id), MemberNotFound, member_id)
            loans = uow.loans.open_for_member(member_id)
        outcomes: list[RenewalOutcome] = []
        for loan in loans:
            try:
                outcomes.append(RenewalOutcome(self.renew(loan.id), None))
            except DomainError as refusal:
                outcomes.append(RenewalOutcome(self.get_loan(loan.id), refusal))
        return outcomes

    def get_loan(self, loan_id: str) -> Loan:
        with self._uow().reading() as uow:
            return found(uow.loans.get(loan_id), LoanNotFound, loan_id)

    def loan_views(self, loans: Sequence[Loan]) -> list[LoanView]:
        """The loans as readers see them: state and fine (assessed, or accrued so far). Only a
        loan that is late needs the database (its rule); a loan just lent or renewed does not."""
        now = self._clock.now()
        ready = [view for loan in loans if (view := view_without_rules(loan, now)) is not None]
        if len(ready) == len(loans):
            return ready
        with self._uow().reading() as uow:
            return view_loans(uow, self._policy, loans, now)

    def loan_view(self, loan: Loan) -> LoanView:
        return self.loan_views([loan])[0]

    def list_loans(self, query: LoanFilter, page: PageRequest) -> Page[LoanView]:
        """Loans as filtered, as readers see them; a ``barcode`` names the copy as ``copy_id``
        does (404 unknown)."""
        now = self._clock.now()
        with self._uow().reading() as uow:
            if query.barcode is not None:
                if query.member_id is not None:  # the member is named before the copy
                    found(uow.members.get(query.member_id), MemberNotFound, query.member_id)
                copy = self._scanned(uow, query.barcode)
                if query.copy_id not in (None, copy.id):
                    raise InvalidValue("barcode", "barcode and copy_id name different copies")
                query = replace(query, copy_id=copy.id, barcode=None)
            loans = listed_for_member(uow, query.member_id, uow.loans.list(query, page, now))
            views = view_loans(uow, self._policy, loans.items, now)
            return loans.with_items(views)

    def copy_at_desk(self, barcode: str) -> CopyAtDesk:
        """The copy scanned: its book, and its open loan if it is on one."""
        with self._uow().reading() as uow:
            copy = self._scanned(uow, barcode)
            book = found(uow.books.get(copy.book_id), BookNotFound, copy.book_id)
            return CopyAtDesk(copy=copy, book=book, loan=uow.loans.open_for_copy(copy.id))

    # --- holds -----------------------------------------------------------------------------

    @retry_on_conflict
    def place_hold(
        self, member_id: str, book_id: str, not_needed_after: date | None = None
    ) -> HoldInQueue:
        """Queue for a book; when a copy is free it is set aside at once. After
        ``not_needed_after`` (a local date) a hold still waiting is expired by the daily job."""
        now = self._clock.now()
        with self._uow() as uow:
            member, state, rules = member_circulation_and_rule_book(
                uow, member_id, book_id, self._policy
            )
            open_loans, settled, member_holds = uow.open_loans_balance_and_holds(member_id)
            hold = state.place_hold(
                hold_id=self._ids.new_id(),
                standing=self._standing_of(member, open_loans, settled, rules),
                member_holds=member_holds,
                rules=rules,
                now=now,
                not_needed_after=not_needed_after,
            )
            uow.circulation.save(state)
            uow.commit()
            return HoldInQueue(hold, state.position(hold.id))

    @retry_on_conflict
    def cancel_hold(self, hold_id: str, expected_version: int | None = None) -> Hold:
        now = self._clock.now()
        with self._uow() as uow:
            hold = found(uow.holds.get(hold_id), HoldNotFound, hold_id)
            check_version(hold, expected_version)
            state, rules = circulation_and_rule_book(uow, hold.book_id, self._policy)
            state.cancel_hold(hold, rules, now)
            uow.circulation.save(state)
            uow.commit()
            return hold

    @retry_on_conflict
    def change_hold(
        self,
        hold_id: str,
        expected_version: int | None = None,
        *,
        suspended: bool | Unset = UNSET,
        not_needed_after: date | Unset | None = UNSET,
    ) -> HoldInQueue:
        """Suspend or resume a waiting hold (it keeps its place), or change the last day it is
        needed."""
        now = self._clock.now()
        with self._uow() as uow:
            hold = found(uow.holds.get(hold_id), HoldNotFound, hold_id)
            check_version(hold, expected_version)
            state = uow.circulation.get(hold.book_id)
            if not isinstance(not_needed_after, Unset):
                hold.change_not_needed_after(not_needed_after)
            if suspended is True:
                state.suspend_hold(hold, now)
            elif suspended is False:
                state.resume_hold(hold, rule_book(uow, self._policy), now)
            uow.circulation.save(state)
            uow.commit()
            return HoldInQueue(hold, state.position(hold.id))

    @retry_on_conflict
    def move_hold(
        self, hold_id: str, position: int, expected_version: int | None = None
    ) -> HoldInQueue:
        """Staff put a waiting hold at ``position`` in its book's queue (1: next in line)."""
        now = self._clock.now()
        with self._uow() as uow:
            hold = found(uow.holds.get(hold_id), HoldNotFound, hold_id)
            check_version(hold, expected_version)
            state = uow.circulation.get(hold.book_id)
            state.move_hold(hold, position, now)
            uow.circulation.save(state)
            uow.commit()
            return HoldInQueue(hold, state.position(hold.id))

    def positions(self, holds: Sequence[Hold]) -> dict[str, int | None]:
        """Each hold's place in its book's queue (None once it no longer waits)."""
        with self._uow() as uow:
            states = {b: uow.circulation.get(b) for b in {h.book_id for h in holds}}
            return {h.id: states[h.book_id].position(h.id) for h in holds}

    def expire_pickups(self) -> list[Hold]:
        """The daily job: expire ready holds nobody collected in time (each copy passes down
        its queue) and waiting holds past their not-needed-after date.

        One transaction per book, so one busy book cannot hold up (or roll back) the rest.
        """
        now = self._clock.now()
        today = LibraryCalendar.of(self._policy.time_zone).local_date(now)
        with self._uow() as uow:
            overdue_by_book: dict[str, list[str]] = defaultdict(list)
            for hold in [*uow.holds.ready_past_pickup(now), *uow.holds.waiting_not_needed(today)]:
                overdue_by_book[hold.book_id].append(hold.id)
        expired: list[Hold] = []
        for book_id, hold_ids in overdue_by_book.items():
            expired.extend(self._expire(book_id, hold_ids))
        return expired

    @retry_on_conflict
    def _expire(self, book_id: str, hold_ids: list[str]) -> list[Hold]:
        now = self._clock.now()
        with self._uow() as uow:
            state = uow.circulation.get(book_id)
            rules = rule_book(uow, self._policy)
            today = rules.calendar.local_date(now)
            due = [
                h
                for h in state.holds
                if h.id in hold_ids and (h.pickup_overdue(now) or h.no_longer_needed(today))
            ]
            for hold in due:  # the others were collected or cancelled since we looked
                if hold.no_longer_needed(today):
                    state.lapse_hold(hold, now)
                else:
                    state.expire_hold(hold, rules, now)
            uow.circulation.save(state)
            uow.commit()
        return due

    def get_hold(self, hold_id: str) -> HoldInQueue:
        with self._uow().reading() as uow:
            hold = found(uow.holds.get(hold_id), HoldNotFound, hold_id)
            return HoldInQueue(hold, uow.circulation.get(hold.book_id).position(hold.id))

    def list_holds(self, query: HoldFilter, page: PageRequest) -> Page[Hold]:
        with self._uow().reading() as uow:
            return listed_for_member(uow, query.member_id, uow.holds.list(query, page))

    # --- questions -------------------------------------------------------------------------

    def availability(self, book_id: str, member_id: str | None = None) -> Availability:
        """How many copies are where, and whether ``member_id`` could borrow one right now."""
        now = self._clock.now()
        with self._uow().reading() as uow:
            state = book_circulation(uow, book_id)
            counts = defaultdict(int, dict.fromkeys(CopyStatus, 0))
            for copy in state.copies:
                counts[copy.status] += 1
            can_borrow: bool | None = None
            reasons: list[DomainError] = []
            if member_id is not None:
                member = found(uow.members.get(member_id), MemberNotFound, member_id)
                rules = rule_book(uow, self._policy)
                standing = self._standing(uow, member, rules)
                for check in (
                    lambda: circulation.ensure_may_borrow(standing, rules, now),
                    lambda: state.choose_copy(member_id, None),
                ):
                    try:
                        check()
                    except DomainError as refusal:
                        reasons.append(refusal)
                can_borrow = not reasons
            return Availability(
                book_id=book_id,
                copies=sum(1 for copy in state.copies if copy.circulates),
                available=counts[CopyStatus.AVAILABLE],
                on_loan=counts[CopyStatus.ON_LOAN],
                on_hold_shelf=counts[CopyStatus.ON_HOLD_SHELF],
                holds_waiting=len(state.waiting),
                can_borrow=can_borrow,
                reasons=reasons,
            )

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _scanned(uow: UnitOfWork, barcode: str) -> Copy:
        return found(uow.copies.get_by_barcode(barcode.strip()), CopyNotFound, barcode.strip())

    @staticmethod
    def _card_holder(uow: UnitOfWork, card_number: str) -> str:
        """The id of the member whose card was scanned."""
        card = normalise_card_number(card_number)
        return found(uow.members.get_by_card_number(card), MemberNotFound, card).id

    def _standing(self, uow: UnitOfWork, member: Member, rules: RuleBook) -> Standing:
        # The ledger's sum from the database: a long-standing member's every line need not
        # travel to be added up, and the rules need the total only.
        open_loans, settled = uow.open_loans_and_balance(member.id)
        return self._standing_of(member, open_loans, settled, rules)

    def _standing_of(
        self, member: Member, open_loans: list[Loan], settled: int, rules: RuleBook
    ) -> Standing:
        owed = circulation.balance(settled, open_loans, rules, member.category, self._clock.now())
        return Standing(member=member, open_loans=open_loans, balance_cents=owed)
