"""``circulate account ...``: a member's account at the desk: what they owe, and taking payment.

``--json`` prints the HTTP API's own account and ledger-entry objects.
"""

from __future__ import annotations

import re

import click
from dependency_injector.wiring import Provide, inject

from application.accounts import Accounts
from application.members import Membership
from entrypoints.cli import lookup
from entrypoints.cli.output import json_option, money, print_fields, print_json, print_table
from entrypoints.http.schemas.members import AccountOut, EntryOut

_AMOUNT = re.compile(r"^(?P<whole>[0-9]{1,7})(?:\.(?P<part>[0-9]{1,2}))?$")


class Amount(click.ParamType[int]):
    """Money as typed at a desk: ``4.50`` or ``4`` (never a float: parsed to integer cents)."""

    name = "amount"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        match = _AMOUNT.match(str(value).strip())
        if match is None:
            self.fail(f"{value!r} is not an amount such as 4.50", param, ctx)
        cents = int(match["whole"]) * 100 + int((match["part"] or "0").ljust(2, "0"))
        if cents == 0:
            self.fail("the amount must be more than 0.00", param, ctx)
        return cents


@click.group()
def account() -> None:
    """A member's account: fines, payments and what is owed."""


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@json_option
@inject
def show(
    member_ref: str,
    as_json: bool,
    accounts: Accounts = Provide["accounts"],
    membership: Membership = Provide["membership"],
) -> None:
    """Show what MEMBER (id or email) owes: charges, payments and fines still accruing.

    \b
    Example:
      circulate account show ada@example.org
      circulate account show ada@example.org --json | jq .balance_cents
    """
    member = lookup.member(membership, member_ref)
    statement = accounts.statement(member.id)
    if as_json:
        print_json(AccountOut.of(statement).model_dump(mode="json"))
        return
    print_fields(
        [
            ("member", f"{member.name} <{member.email}>"),
            ("owes", money(statement.balance_cents)),
            ("fines charged", money(statement.fines_cents)),
            ("payments made", money(statement.payments_cents)),
        ]
    )
    click.echo()
    print_table(
        ["DATE", "KIND", "AMOUNT", "NOTE"],
        ([e.created_at, e.kind, money(e.amount_cents), e.note] for e in statement.entries),
        empty="No charges or payments yet.",
    )
    if statement.accruing:
        click.echo()
        print_table(
            ["ACCRUING ON LOAN", "DUE", "SO FAR"],
            ([a.loan.id, a.loan.due_at, money(a.amount_cents)] for a in statement.accruing),
        )


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("amount", type=Amount())
@click.option("--note", default="", help="Kept with the payment (receipt number, how paid).")
@json_option
@inject
def pay(
    member_ref: str,
    amount: int,
    note: str,
    as_json: bool,
    accounts: Accounts = Provide["accounts"],
    membership: Membership = Provide["membership"],
) -> None:
    """Record a payment of AMOUNT (e.g. 4.50) from MEMBER (id or email).

    A payment larger than what is owed is refused (PAYMENT_EXCEEDS_BALANCE).

    \b
    Example:
      circulate account pay ada@example.org 4.50 --note "cash, receipt 1182"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.record_payment(member.id, amount, note)
    if as_json:
        print_json(EntryOut.of(entry).model_dump(mode="json"))
        return
    owed = accounts.statement(member.id).balance_cents
    click.echo(f"{money(entry.amount_cents)} received from {member.name}; owed now: {money(owed)}")
