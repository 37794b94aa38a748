"""A loan as every reader is shown it: its state and its fine as of now.

The HTTP API, the CLI's ``--json`` and the web pages render this one object, so a loan is
``overdue`` and owes the same fine wherever it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.common import rule_book
from application.unit_of_work import UnitOfWork
from domain.loans import Loan, LoanState
from domain.policy import Policy
from domain.rules import DEFAULT_CATEGORY, RuleBook


@dataclass(frozen=True, slots=True)
class LoanView:
    loan: Loan
    state: LoanState
    fine_cents: int  # assessed when the loan closed; while out, what has accrued so far

    @classmethod
    def settled(cls, loan: Loan) -> LoanView:
        """A closed loan: its state and fine no longer change, so no rules are needed."""
        if loan.returned_at is None:
            raise ValueError("only a closed loan is settled")
        return cls(loan, loan.state_at(loan.returned_at), loan.fine_cents)


def view_loans(
    uow: UnitOfWork, policy: Policy, loans: Sequence[Loan], now: datetime
) -> list[LoanView]:
    """Each loan's view. Only a loan whose fine is growing needs its rule (for its borrower's
    category and its item type): the rules are read then, and each borrower once."""
    rules: RuleBook | None = None
    categories: dict[str, str] = {}
    views: list[LoanView] = []
    for loan in loans:
        view = view_without_rules(loan, now)
        if view is None:
            if rules is None:
                rules = rule_book(uow, policy)
            if loan.member_id not in categories:
                member = uow.members.get(loan.member_id)
                categories[loan.member_id] = member.category if member else DEFAULT_CATEGORY
            terms = rules.terms(categories[loan.member_id], loan.item_type)
            view = LoanView(loan, loan.state_at(now), loan.fine_at(now, terms))
        views.append(view)
    return views


def view_without_rules(loan: Loan, now: datetime) -> LoanView | None:
    """The view of a closed loan, or of one whose fine is not growing (nothing is owed yet);
    ``None`` when the fine depends on the loan's rule."""
    if loan.returned_at is not None:
        return LoanView.settled(loan)
    if not loan.late_at(now):
        return LoanView(loan, loan.state_at(now), 0)
    return None
