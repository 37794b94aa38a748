"""My account: what I owe now, each charge and what is left of it, every line (charges,
payments, waivers, refunds), and the fines still growing on overdue loans."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template

from application.accounts import Accounts
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import member_required
from entrypoints.web.my import me


@member_required
@inject
def account(accounts: Accounts = Provide[Container.library.accounts]) -> str:
    statement = accounts.statement(me.member_id())
    # Newest first: a member looks for what changed lately.
    charges = [c for c in reversed(statement.charges) if c.remaining_cents > 0]
    # A charge to pay names the title it is for (the ledger keeps only the loan's id).
    loans = lookups.loans(c.charge.loan_id for c in charges if c.charge.loan_id is not None)
    books = lookups.books(
        [view.loan.book_id for view in statement.accruing]
        + [loan.book_id for loan in loans.values()]
    )
    return render_template(
        "web/my/account.html",
        statement=statement,
        lines=list(reversed(statement.entries)),
        charges=charges,
        loans=loans,
        books=books,
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/account", "account", account)
