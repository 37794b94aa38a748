"""My account: what I owe now, each charge and what is left of it, every line (charges,
payments, waivers, refunds), and the fines still growing on overdue loans."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, render_template

from application.accounts import Accounts
from entrypoints.web.audience import member_required
from entrypoints.web.my import me, titles


@member_required
@inject
def account(accounts: Accounts = Provide["accounts"]) -> str:
    statement = accounts.statement(me.member_id())
    return render_template(
        "web/my/account.html",
        statement=statement,
        # Newest first: a member looks for what changed lately.
        lines=list(reversed(statement.entries)),
        charges=[c for c in reversed(statement.charges) if c.remaining_cents > 0],
        books=titles.books(view.loan.book_id for view in statement.accruing),
    )


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/account", "account", account)
