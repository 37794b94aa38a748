"""``circulate account ...``: a member's account at the desk: what they owe, taking payment,
manual charges, waivers, refunds and cancellations.

``--json`` prints the HTTP API's own account and ledger-entry objects.
"""

from __future__ import annotations

import re

import click
from dependency_injector.wiring import Provide, inject

from application.accounts import Accounts
from application.members import Membership
from domain.ledger import EntryKind, LedgerEntry
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.output import json_option, money, print_fields, print_json, print_table
from entrypoints.container import Container
from entrypoints.schemas.accounts import AccountOut, EntryOut

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


@click.group(cls=ServiceGroup)
def account() -> None:
    """A member's account: fines, payments and what is owed."""


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@json_option
@inject
def show(
    member_ref: str,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Show MEMBER's (id or email) account: every line, what remains of each charge, and
    fines still accruing (owed once their loans close).

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
            ("owes now", money(statement.balance_cents)),
            ("accruing", money(statement.accruing_cents)),
            ("charged", money(statement.total(EntryKind.CHARGE))),
            ("paid", money(statement.total(EntryKind.PAYMENT))),
            ("waived", money(statement.total(EntryKind.WAIVER))),
            ("cancelled", money(statement.total(EntryKind.CANCELLATION))),
            ("refunded", money(statement.total(EntryKind.REFUND))),
        ]
    )
    click.echo()
    remaining = {c.charge.id: c.remaining_cents for c in statement.charges}
    print_table(
        ["DATE", "LINE", "KIND", "AMOUNT", "LEFT", "NOTE"],
        (
            [
                e.created_at,
                e.id,
                e.charge_type or e.kind,
                money(e.amount_cents),
                money(remaining[e.id]) if e.id in remaining else "",
                e.note,
            ]
            for e in statement.entries
        ),
        empty="No charges or payments yet.",
    )
    if statement.accruing:
        click.echo()
        print_table(
            ["ACCRUING ON LOAN", "DUE", "SO FAR"],
            ([v.loan.id, v.loan.due_at, money(v.fine_cents)] for v in statement.accruing),
        )


def _done(entry: LedgerEntry, as_json: bool, accounts: Accounts, what: str) -> None:
    if as_json:
        print_json(EntryOut.of(entry).model_dump(mode="json"))
        return
    owed = accounts.statement(entry.member_id).balance_cents
    click.echo(f"{what} {money(entry.amount_cents)} (line {entry.id}); owed now: {money(owed)}")


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("amount", type=Amount())
@click.option("--note", default="", help="Kept with the payment (receipt number, how paid).")
@click.option("--charge", "charge_id", help="Pay this charge (a line id); else the oldest first.")
@json_option
@inject
def pay(
    member_ref: str,
    amount: int,
    note: str,
    charge_id: str | None,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Record a payment of AMOUNT (e.g. 4.50) from MEMBER (id or email).

    Only posted charges can be paid: more than is owed now is refused
    (PAYMENT_EXCEEDS_BALANCE); a fine still accruing is posted when its loan closes.

    \b
    Example:
      circulate account pay ada@example.org 4.50 --note "cash, receipt 1182"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.record_payment(member.id, amount, note, charge_id)
    _done(entry, as_json, accounts, f"received from {member.name}:")


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("amount", type=Amount())
@click.option("--note", required=True, help="What the charge is for.")
@click.option("--loan", "loan_id", help="The loan it is for, if any.")
@json_option
@inject
def charge(
    member_ref: str,
    amount: int,
    note: str,
    loan_id: str | None,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Charge MEMBER a manual fee of AMOUNT (damage, a replacement card).

    \b
    Example:
      circulate account charge ada@example.org 3.00 --note "damaged dust jacket"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.charge(member.id, amount, note, loan_id)
    _done(entry, as_json, accounts, f"charged {member.name}")


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("charge_id", metavar="CHARGE")
@click.option("--amount", type=Amount(), help="How much to waive; all that remains if left out.")
@click.option("--reason", required=True, help="Why: kept with the waiver.")
@json_option
@inject
def waive(
    member_ref: str,
    charge_id: str,
    amount: int | None,
    reason: str,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Waive part or all of CHARGE (a line id from `account show`) on MEMBER's account.

    \b
    Example:
      circulate account waive ada@example.org 0190a1b2-... --reason "first offence"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.waive(member.id, charge_id, reason, amount)
    _done(entry, as_json, accounts, "waived")


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("charge_id", metavar="CHARGE")
@click.option("--reason", required=True, help="Why the charge was an error.")
@json_option
@inject
def cancel(
    member_ref: str,
    charge_id: str,
    reason: str,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Cancel what remains of CHARGE, made in error (what was paid of it stays paid: refund
    the payment to give the money back).

    \b
    Example:
      circulate account cancel ada@example.org 0190a1b2-... --reason "wrong member"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.cancel(member.id, charge_id, reason)
    _done(entry, as_json, accounts, "cancelled")


@account.command()
@click.argument("member_ref", metavar="MEMBER")
@click.argument("payment_id", metavar="PAYMENT")
@click.option("--amount", type=Amount(), help="How much to give back; all that is left if out.")
@click.option("--reason", required=True, help="Why: kept with the refund.")
@json_option
@inject
def refund(
    member_ref: str,
    payment_id: str,
    amount: int | None,
    reason: str,
    as_json: bool,
    accounts: Accounts = Provide[Container.library.accounts],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Give back part or all of PAYMENT (a line id); the charges it paid are owed again.

    \b
    Example:
      circulate account refund ada@example.org 0190a1b2-... --reason "paid twice"
    """
    member = lookup.member(membership, member_ref)
    entry = accounts.refund(member.id, payment_id, reason, amount)
    _done(entry, as_json, accounts, "refunded")
