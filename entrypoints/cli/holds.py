"""``circulate holds ...``: the hold queues, and the daily job that expires uncollected holds."""

from __future__ import annotations

from datetime import datetime

import click
from dependency_injector.wiring import Provide, inject

from application.catalogue import Catalogue
from application.circulation import Circulation
from application.members import Membership
from application.queries import HoldFilter, PageRequest
from domain.holds import Hold, HoldStatus
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.names import Names
from entrypoints.cli.output import (
    json_option,
    page_json,
    page_options,
    print_json,
    print_page_footer,
    print_table,
)
from entrypoints.cli.views import hold_json
from entrypoints.container import Container

STATUSES = click.Choice([status.value for status in HoldStatus])


@click.group(cls=ServiceGroup)
def holds() -> None:
    """Place, cancel, list and expire holds."""


@holds.command("list")
@click.option("--member", "member_ref", help="Only this member's (id or email).")
@click.option("--book", "book_ref", help="Only holds on this book (id or ISBN).")
@click.option("--status", type=STATUSES, help="Only holds in this state.")
@page_options
@json_option
@inject
def list_holds(
    member_ref: str | None,
    book_ref: str | None,
    status: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """List holds in queue order (first placed first).

    \b
    Example:
      circulate holds list --status ready
      circulate holds list --book 9780131103627 --json
    """
    query = HoldFilter(
        member_id=lookup.member(membership, member_ref).id if member_ref else None,
        book_id=lookup.book(catalogue, book_ref).id if book_ref else None,
        status=HoldStatus(status) if status else None,
    )
    result = circulation.list_holds(query, PageRequest(page, per_page))
    if as_json:
        positions = circulation.positions(result.items)
        print_json(page_json(result, lambda h: hold_json(h, positions[h.id])))
        return
    positions = circulation.positions(result.items)
    names = Names(membership, catalogue)
    print_table(
        ["HOLD", "MEMBER", "BOOK", "STATUS", "IN LINE", "PLACED", "PICK UP BY"],
        (
            [
                h.id,
                names.member(h.member_id),
                names.title(h.book_id),
                h.status,
                positions[h.id],
                h.placed_at,
                h.pickup_by,
            ]
            for h in result.items
        ),
        empty="No holds match.",
    )
    print_page_footer(result, "holds")


@holds.command()
@click.option("--member", "member_ref", required=True, help="Who queues (id or email).")
@click.option("--book", "book_ref", required=True, help="For which book (id or ISBN).")
@click.option(
    "--not-needed-after",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The last day the member wants the book; then the daily job expires the hold.",
)
@json_option
@inject
def place(
    member_ref: str,
    book_ref: str,
    not_needed_after: datetime | None,
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Queue a member for a book; a free copy is set aside for them at once.

    \b
    Example:
      circulate holds place --member ada@example.org --book 9780131103627
    """
    member = lookup.member(membership, member_ref)
    book = lookup.book(catalogue, book_ref)
    last_day = not_needed_after.date() if not_needed_after is not None else None
    queued = circulation.place_hold(member.id, book.id, last_day)
    if as_json:
        print_json(hold_json(queued.hold, queued.position))
        return
    where = (
        f"number {queued.position} in the queue"
        if queued.position is not None
        else f"a copy is set aside until {queued.hold.pickup_by:%Y-%m-%d %H:%M} UTC"
    )
    click.echo(f"hold {queued.hold.id} placed for {member.email} on {book.title!r}: {where}")


@holds.command()
@click.argument("hold_id")
@json_option
@inject
def cancel(
    hold_id: str, as_json: bool, circulation: Circulation = Provide[Container.library.circulation]
) -> None:
    """Cancel a hold; a copy set aside for it passes to the next member in the queue.

    \b
    Example:
      circulate holds cancel 0190a1b2-0000-7000-8000-000000000000
    """
    hold = circulation.cancel_hold(hold_id)
    if as_json:
        print_json(hold_json(hold))
    else:
        click.echo(f"cancelled hold {hold.id}")


@holds.command()
@json_option
@inject
def expire(
    as_json: bool,
    circulation: Circulation = Provide[Container.library.circulation],
    membership: Membership = Provide[Container.library.membership],
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Expire ready holds whose pickup deadline has passed; each copy goes to the next member
    waiting, or back on the shelf. Run it daily (cron, a systemd timer).

    \b
    Example:
      circulate holds expire
      # crontab: 5 0 * * *  circulate holds expire
    """
    expired: list[Hold] = circulation.expire_pickups()
    if as_json:
        print_json({"expired": [hold_json(hold) for hold in expired]})
        return
    click.echo(f"expired {len(expired)} uncollected hold{'' if len(expired) == 1 else 's'}")
    names = Names(membership, catalogue)
    for hold in expired:
        click.echo(
            f"  {names.member(hold.member_id)}: {names.title(hold.book_id)!r} (hold {hold.id})"
        )


@holds.command()
@click.argument("hold_id")
@inject
def suspend(
    hold_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> None:
    """Suspend a waiting hold: it keeps its place but is passed over until resumed.

    \b
    Example:
      circulate holds suspend 0190a1b2-0000-7000-8000-000000000000
    """
    queued = circulation.change_hold(hold_id, suspended=True)
    click.echo(f"hold {hold_id} suspended at number {queued.position} in the queue")


@holds.command()
@click.argument("hold_id")
@inject
def resume(hold_id: str, circulation: Circulation = Provide[Container.library.circulation]) -> None:
    """Put a suspended hold back in line; a free copy is set aside for it at once."""
    queued = circulation.change_hold(hold_id, suspended=False)
    where = (
        f"number {queued.position} in the queue"
        if queued.position is not None
        else f"it is {queued.hold.status}"
    )
    click.echo(f"hold {hold_id} resumed: {where}")


@holds.command()
@click.argument("hold_id")
@click.option("--to", "position", type=click.IntRange(min=1), required=True, help="1: next.")
@inject
def move(
    hold_id: str, position: int, circulation: Circulation = Provide[Container.library.circulation]
) -> None:
    """Move a waiting hold to another place in its book's queue.

    \b
    Example:
      circulate holds move 0190a1b2-0000-7000-8000-000000000000 --to 1
    """
    queued = circulation.move_hold(hold_id, position)
    click.echo(f"hold {hold_id} is now number {queued.position} in the queue")
