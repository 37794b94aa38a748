"""A loan as every reader is shown it: its state and its fine as of now.

The HTTP API, the CLI's ``--json`` and the web pages render this one object, so a loan is
``overdue`` and owes the same fine wherever it is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.unit_of_work import UnitOfWork
from domain.loans import Loan, LoanState
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
    uow: UnitOfWork, rules: RuleBook, loans: Sequence[Loan], now: datetime
) -> list[LoanView]:
    """Each loan's view; an open loan's fine follows the rule for its borrower's category and
    its item type (each borrower is looked up once)."""
    categories: dict[str, str] = {}
    views: list[LoanView] = []
    for loan in loans:
        if loan.returned_at is not None:
            views.append(LoanView.settled(loan))
            continue
        if loan.member_id not in categories:
            member = uow.members.get(loan.member_id)
            categories[loan.member_id] = member.category if member else DEFAULT_CATEGORY
        terms = rules.terms(categories[loan.member_id], loan.item_type)
        views.append(LoanView(loan, loan.state_at(now), loan.fine_at(now, terms)))
    return views
