"""``circulate loans ...``: lend, return and list loans at the desk's terminal."""

from __future__ import annotations

from collections.abc import Sequence

import click
from dependency_injector.wiring import Provide, inject

from application.catalogue import Catalogue
from application.circulation import Circulation
from application.desk import CheckIn
from application.loan_views import LoanView
from application.losses import LostItems
from application.members import Membership
from application.queries import LoanFilter, PageRequest
from domain.errors import LoanNotFound
from domain.loans import LoanState
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.names import Names
from entrypoints.cli.output import (
    json_option,
    money,
    page_json,
    page_options,
    print_json,
    print_page_footer,
    print_table,
)
from entrypoints.cli.views import check_in_json, loan_json, model_json
from entrypoints.container import Container
from entrypoints.schemas.accounts import EntryOut
from entrypoints.schemas.loans import RenewalOut, RenewalsOut
from entrypoints.schemas.losses import RecoveryOut


@click.group(cls=ServiceGroup)
def loans() -> None:
    """Lend, return, renew and list loans."""


@loans.command("list")
@click.option("--overdue", "state", flag_value=LoanState.OVERDUE.value, help="Only overdue loans.")
@click.option("--open", "state", flag_value=LoanState.OPEN.value, help="Only loans not returned.")
@click.option("--returned", "state", flag_value=LoanState.RETURNED.value, help="Only returned.")
@click.option("--member", "member_ref", help="Only this member's (id or email).")
@click.option("--book", "book_ref", help="Only loans of this book (id or ISBN).")
@page_options
@json_option
@inject
def list_loans(
    state: str | None,
    member_ref: str | None,
    book_ref: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """List loans, newest first.

    \b
    Example:
      circulate loans list --overdue
      circulate loans list --member ada@example.org --open --json
    """
    query = LoanFilter(
        member_id=lookup.member(membership, member_ref).id if member_ref else None,
        book_id=lookup.book(catalogue, book_ref).id if book_ref else None,
        state=LoanState(state) if state else None,
    )
    result = circulation.list_loans(query, PageRequest(page, per_page))
    if as_json:
        print_json(page_json(result, loan_json))
        return
    print_loans(result.items, membership, catalogue)
    print_page_footer(result, "loans")


def print_loans(items: Sequence[LoanView], membership: Membership, catalogue: Catalogue) -> None:
    """Loans with the member's email, the book's title and the copy's barcode."""
    names = Names(membership, catalogue)
    print_table(
        ["LOAN", "MEMBER", "BOOK", "COPY", "DUE", "STATE"],
        (
            [
                view.loan.id,
                names.email(view.loan.member_id),
                names.title(view.loan.book_id),
                names.barcode(view.loan.copy_id),
                view.loan.due_at,
                _state(view),
            ]
            for view in items
        ),
        empty="No loans match.",
    )


_STATE_WORDS = {LoanState.OVERDUE: "OVERDUE", LoanState.CLAIMED_RETURNED: "claimed returned"}


def _state(view: LoanView) -> str:
    """The state in words, with the fine owed so far or assessed."""
    fine = f", fine {money(view.fine_cents)}" if view.fine_cents else ""
    return f"{_STATE_WORDS.get(view.state, view.state.value)}{fine}"


@loans.command()
@click.option("--member", "member_ref", help="Borrower (id, email or card number).")
@click.option("--card", "card_number", help="Borrower, by the card number scanned.")
@click.option("--book", "book_ref", help="Any free copy of this book (id or ISBN).")
@click.option("--copy", "copy_ref", help="This copy (id or barcode).")
@click.option("--barcode", help="This copy, by the barcode scanned.")
@json_option
@inject
def borrow(
    member_ref: str | None,
    card_number: str | None,
    book_ref: str | None,
    copy_ref: str | None,
    barcode: str | None,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Lend a book to a member: a given copy, or by book the copy set aside for them or a free
    one. Name the member once (--member or --card) and the copy once (--book, --copy or
    --barcode).

    \b
    Example:
      circulate loans borrow --card 20000000000018 --barcode 9780131103627-2
      circulate loans borrow --member ada@example.org --book 9780131103627
    """
    if (member_ref is None) == (card_number is None):
        raise click.UsageError("give --member or --card (one of them)")
    if sum(ref is not None for ref in (book_ref, copy_ref, barcode)) != 1:
        raise click.UsageError("give --book, --copy or --barcode (one of them)")
    member_id = lookup.member(membership, member_ref).id if member_ref is not None else None
    if copy_ref is not None:
        loan = circulation.borrow(
            member_id, card_number=card_number, copy_id=lookup.copy(catalogue, copy_ref).id
        )
    elif book_ref is not None:
        loan = circulation.borrow(
            member_id, card_number=card_number, book_id=lookup.book(catalogue, book_ref).id
        )
    else:
        loan = circulation.borrow(member_id, card_number=card_number, barcode=barcode)
    if as_json:
        print_json(loan_json(circulation.loan_view(loan)))
        return
    member = membership.get(loan.member_id)
    copy = catalogue.get_copy(loan.copy_id)
    click.echo(
        f"lent copy {copy.barcode} to {member.email}, due {loan.due_at:%Y-%m-%d %H:%M} UTC; "
        f"loan {loan.id}"
    )


@loans.command("return")
@click.argument("reference", metavar="[BARCODE_OR_LOAN_ID]", required=False)
@click.option("--barcode", help="The copy, by the barcode scanned.")
@json_option
@inject
def return_loan(
    reference: str | None,
    barcode: str | None,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
) -> None:
    """Take a copy back (by its barcode or the loan id); a fine is charged if it is late. Says
    where the copy goes now: the shelf, or the hold shelf for the member named.

    \b
    Example:
      circulate loans return --barcode 9780131103627-2
      circulate loans return 0190a1b2-0000-7000-8000-000000000000
    """
    if (reference is None) == (barcode is None):
        raise click.UsageError("give a barcode or loan id, or --barcode (one of them)")
    check_in: CheckIn | None = None
    if reference is not None and lookup.looks_like_id(reference):
        try:
            check_in = circulation.check_in_loan(reference.strip())
        except LoanNotFound:
            check_in = None  # perhaps a barcode that looks like an id
    if check_in is None:
        check_in = circulation.return_copy(str(barcode if barcode is not None else reference))
    if as_json:
        print_json(check_in_json(check_in))
        return
    loan = check_in.loan
    fine = f"; fine {money(loan.fine_cents)} charged" if loan.fine_cents else ""
    click.echo(f"returned copy {check_in.copy.barcode} (loan {loan.id}){fine}")
    click.echo(where_next(check_in))


def where_next(check_in: CheckIn) -> str:
    """The line the desk reads: where to put the copy."""
    slip = check_in.slip
    if slip is None:
        return "-> shelf"
    pickup = (
        f", to collect by {slip.hold.pickup_by:%Y-%m-%d %H:%M} UTC" if slip.hold.pickup_by else ""
    )
    return (
        f"-> hold shelf for {slip.member.name} (card {slip.member.card_number}){pickup}; "
        f"hold {slip.hold.id}"
    )


@loans.command()
@click.argument("loan_id")
@json_option
@inject
def renew(
    loan_id: str, as_json: bool, circulation: Circulation = Provide[Container.library.circulation]
) -> None:
    """Extend a loan by one loan period.

    \b
    Example:
      circulate loans renew 0190a1b2-0000-7000-8000-000000000000
    """
    loan = circulation.renew(loan_id)
    if as_json:
        print_json(loan_json(circulation.loan_view(loan)))
    else:
        click.echo(f"renewed loan {loan.id}: due {loan.due_at:%Y-%m-%d %H:%M} UTC")


@loans.command("renew-all")
@click.option("--member", "member_ref", required=True, help="Whose loans (id or email).")
@json_option
@inject
def renew_all(
    member_ref: str,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
) -> None:
    """Try to renew every open loan of a member; says per loan what happened and why.

    \b
    Example:
      circulate loans renew-all --member ada@example.org
    """
    member = lookup.member(membership, member_ref)
    outcomes = circulation.renew_all(member.id)
    if as_json:
        views = circulation.loan_views([o.loan for o in outcomes])
        items = [RenewalOut.of(o, view) for o, view in zip(outcomes, views, strict=True)]
        print_json(model_json(RenewalsOut(items=items)))
        return
    print_table(
        ["LOAN", "DUE", "RESULT"],
        (
            [
                o.loan.id,
                o.loan.due_at,
                "renewed" if o.refusal is None else f"{o.refusal.code}: {o.refusal.message}",
            ]
            for o in outcomes
        ),
        empty="No open loans.",
    )


@loans.command("lost")
@click.argument("loan_id")
@json_option
@inject
def declare_lost(
    loan_id: str, as_json: bool, lost_items: LostItems = Provide[Container.library.lost_items]
) -> None:
    """Declare the copy on a loan lost: the loan closes as lost, the copy is lost, and the
    overdue fine, the replacement fee and the processing fee are charged.

    \b
    Example:
      circulate loans lost 0190a1b2-0000-7000-8000-000000000000
    """
    outcome = lost_items.declare_lost(loan_id)
    if as_json:
        print_json(
            {
                "loan": loan_json(LoanView.settled(outcome.loan)),
                "charges": [
                    EntryOut.of(c, c.amount_cents).model_dump(mode="json") for c in outcome.charges
                ],
            }
        )
        return
    charged = ", ".join(f"{c.charge_type} {money(c.amount_cents)}" for c in outcome.charges)
    click.echo(f"loan {outcome.loan.id} closed as lost; charged: {charged or 'nothing'}")


@loans.command("claimed-returned")
@click.argument("loan_id")
@json_option
@inject
def claimed_returned(
    loan_id: str,
    as_json: bool,
    lost_items: LostItems = Provide[Container.library.lost_items],
    circulation: Circulation = Provide[Container.library.circulation],
) -> None:
    """Record that the member says LOAN_ID was returned: the loan is disputed and its fine stops.
    Resolve it with `loans return` (the copy turned up) or `loans lost`.

    \b
    Example:
      circulate loans claimed-returned 0190a1b2-0000-7000-8000-000000000000
    """
    loan = lost_items.claim_returned(loan_id)
    if as_json:
        print_json(loan_json(circulation.loan_view(loan)))
        return
    click.echo(f"loan {loan.id} is claimed returned: disputed, its fine stopped")


@loans.command("found")
@click.argument("copy_ref", metavar="BARCODE_OR_COPY_ID")
@json_option
@inject
def found(
    copy_ref: str,
    as_json: bool,
    lost_items: LostItems = Provide[Container.library.lost_items],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """A lost copy turned up: its replacement fee is cancelled (or refunded, by
    CIRCULATE_FOUND_REPLACEMENT_FEE) and it goes to the first waiting hold or the shelf.

    \b
    Example:
      circulate loans found 9780131103627-2
    """
    recovery = lost_items.recover_lost_copy(lookup.copy(catalogue, copy_ref).id)
    if as_json:
        print_json(RecoveryOut.of(recovery).model_dump(mode="json", by_alias=True))
        return
    where = f"the hold shelf for member {recovery.hold.member_id}" if recovery.hold else "the shelf"
    fees = ""
    if recovery.cancelled_cents or recovery.refunded_cents:
        fees = (
            f"; replacement fee cancelled {money(recovery.cancelled_cents)}, "
            f"refunded {money(recovery.refunded_cents)}"
        )
    click.echo(f"copy {recovery.copy.barcode} goes to {where}{fees}")
