"""``circulate report``: who has loans overdue and who owes money."""

from __future__ import annotations

import click
from dependency_injector.wiring import Provide, inject

from application.accounts import Accounts
from entrypoints.cli.command import ServiceCommand
from entrypoints.cli.output import json_option, money, print_json, print_table
from entrypoints.cli.views import arrears_json
from entrypoints.container import Container


@click.command(cls=ServiceCommand)
@json_option
@inject
def report(as_json: bool, accounts: Accounts = Provide[Container.library.accounts]) -> None:
    """Overdue loans and debts per member, who owes most first.

    OWED is SETTLED (fines charged minus payments) plus ACCRUING (fines still growing on loans
    that are out past their due date).

    \b
    Example:
      circulate report
      circulate report --json | jq '.[] | select(.owed_cents > 500) | .member.email'
    """
    rows = accounts.arrears()
    if as_json:
        print_json([arrears_json(row) for row in rows])
        return
    print_table(
        ["MEMBER", "EMAIL", "STATUS", "OVERDUE", "OLDEST DUE", "SETTLED", "ACCRUING", "OWED"],
        (
            [
                row.member.name,
                row.member.email,
                row.member.status,
                len(row.overdue_loans),
                row.overdue_loans[0].loan.due_at.date() if row.overdue_loans else None,
                money(row.settled_cents),
                money(row.accruing_cents),
                money(row.owed_cents),
            ]
            for row in rows
        ),
        empty="No overdue loans and no debts.",
    )
