"""``circulate demo``: a realistic library to explore, made through the same use cases as
everything else.

The demo replays two months of library life on a clock it moves by hand: members borrow and
return (some late, so fines exist; some not at all, so loans are overdue), queue for books that
are out, collect or miss what was set aside for them, and pay part of what they owe. The data
depends only on ``--seed``; the password printed at the end is random and shown once.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import click
from dependency_injector import providers
from dependency_injector.wiring import Provide, inject

from adapters.clock import ManualClock
from application.accounts import Accounts
from application.catalogue import Catalogue
from application.circulation import Circulation
from application.losses import LostItems
from application.members import Membership
from application.queries import BookFilter, HoldFilter, LoanFilter, MemberFilter, PageRequest
from domain.catalogue import Book
from domain.errors import DomainError, NoCopyAvailable
from domain.holds import HoldStatus
from domain.loans import LoanState
from domain.members import Member, Role
from entrypoints.cli import demo_data
from entrypoints.cli.command import ServiceCommand
from entrypoints.cli.output import Refusal
from entrypoints.container import Container
from entrypoints.containers.library import Library

T = TypeVar("T")

DEMO_DAYS = 60
EMAIL_DOMAIN = "demo.circulate.example"
# Loans come back this many days after they were made; past the loan period they are late.
RETURN_AFTER_DAYS = (3, 30)
NEVER_RETURNED = 0.08
COLLECTS_HOLD = 0.7


@dataclass(slots=True)
class _Cast:
    staff: list[tuple[Role, Member]] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)


@click.command(cls=ServiceCommand)
@click.option("--books", type=click.IntRange(10, 100_000), default=300, show_default=True)
@click.option("--members", type=click.IntRange(5, 1000), default=40, show_default=True)
@click.option("--seed", type=int, default=2024, show_default=True, help="Same seed, same data.")
@click.option("--force", is_flag=True, help="Add the demo data even if the database has data.")
@inject
def demo(
    books: int,
    members: int,
    seed: int,
    force: bool,
    library: Library = Provide[Container.library],
) -> None:
    """Fill an empty database with a demo library and print how to sign in.

    A few hundred books with copies, staff and members of every role, loans (some overdue),
    fines, payments and holds. Refuses a database that already holds books or members unless
    given --force.

    \b
    Example:
      circulate db upgrade && circulate demo && circulate serve
    """
    catalogue: Catalogue = library.catalogue()
    membership: Membership = library.membership()
    held_books = catalogue.search_books(BookFilter(), PageRequest(1, 1)).total
    held_members = membership.list(MemberFilter(), PageRequest(1, 1)).total
    if (held_books or held_members) and not force:
        raise Refusal(
            "DATABASE_NOT_EMPTY",
            f"the database already holds {held_books} books and {held_members} members; "
            "run with --force to add the demo library to it",
        )
    password = secrets.token_urlsafe(12)
    rng = random.Random(seed)  # noqa: S311 (made-up data, not secrets)
    end = library.clock().now()
    clock = ManualClock(end - timedelta(days=DEMO_DAYS))
    with _on_clock(library, clock):
        cast = _register(library.membership(), rng, members, password)
        click.echo(f"registered {len(cast.staff)} staff and {len(cast.members)} members", err=True)
        report = library.catalogue().import_books(demo_data.catalogue(rng, books))
        click.echo(f"added {report.added} books with {report.copies_added} copies", err=True)
        _live(library, clock, rng, cast, end)
    _summary(library, cast, password)


@contextmanager
def _on_clock(library: Library, clock: ManualClock) -> Iterator[None]:
    """The library's use cases run on ``clock`` inside the block (the demo plays out weeks of
    its past), and on the service's clock again after it."""
    with library.clock.override(providers.Object(clock)):
        _rebuild_use_cases(library)
        try:
            yield
        finally:
            _rebuild_use_cases(library)


def _rebuild_use_cases(library: Library) -> None:
    """The slice's own singletons only: ``reset_singletons`` would follow its dependencies into
    the service's storage and reset that too."""
    for provider in library.providers.values():
        if isinstance(provider, providers.BaseSingleton):
            provider.reset()


def _register(membership: Membership, rng: random.Random, count: int, password: str) -> _Cast:
    cast = _Cast()
    used: set[str] = set()
    staff = [(Role.ADMIN, "admin"), (Role.LIBRARIAN, "librarian"), (Role.LIBRARIAN, "desk")]
    for role, local in staff:
        email = f"{local}@{EMAIL_DOMAIN}"
        name = demo_data.person(rng, used, EMAIL_DOMAIN).name
        cast.staff.append((role, _member(membership, email, name, role, password)))
    for n in range(count):
        someone = demo_data.person(rng, used, EMAIL_DOMAIN)
        # A few members can sign in too (to see their own loans); the rest are walk-in patrons.
        secret = password if n < 3 else None
        cast.members.append(_member(membership, someone.email, someone.name, Role.MEMBER, secret))
    return cast


def _member(
    membership: Membership, email: str, name: str, role: Role, password: str | None
) -> Member:
    existing = membership.find_by_email(email)
    if existing is None:
        return membership.register(email=email, name=name, role=role, password=password)
    if password is not None:  # --force on a database that has the demo already
        membership.set_password(existing.id, password)
    return existing


def _live(
    library: Library, clock: ManualClock, rng: random.Random, cast: _Cast, end: datetime
) -> None:
    circulation: Circulation = library.circulation()
    accounts: Accounts = library.accounts()
    book_ids = [e.book.id for page in library.catalogue().catalogue_pages() for e in page]
    returns: dict[str, int] = {}  # loan id -> day it comes back
    start = clock.now()
    for day in range(DEMO_DAYS):
        clock.set(start + timedelta(days=day, minutes=rng.randint(0, 480)))
        if day < DEMO_DAYS - 3:  # the daily job; the last days are left for `holds expire`
            circulation.expire_pickups()
        for loan_id, back in list(returns.items()):
            if back == day:
                _attempt(partial(circulation.return_loan, loan_id))
                del returns[loan_id]
        ready = circulation.list_holds(HoldFilter(status=HoldStatus.READY), PageRequest(1, 100))
        for hold in ready.items:
            if rng.random() < COLLECTS_HOLD / 3:  # about COLLECTS_HOLD within the window
                loan = _attempt(partial(circulation.borrow, hold.member_id, book_id=hold.book_id))
                if loan is not None:
                    returns[loan.id] = day + rng.randint(*RETURN_AFTER_DAYS)
        for _ in range(rng.randint(3, 8)):
            member = rng.choice(cast.members)
            book_id = rng.choice(book_ids)
            try:
                loan = circulation.borrow(member.id, book_id=book_id)
            except NoCopyAvailable:
                if rng.random() < 0.6:
                    _attempt(partial(circulation.place_hold, member.id, book_id))
                continue
            except DomainError:
                continue  # at the loan limit, overdue, owing too much: as in real life
            if rng.random() >= NEVER_RETURNED:
                returns[loan.id] = day + rng.randint(*RETURN_AFTER_DAYS)
        if day % 7 == 6:
            debtor = rng.choice(cast.members)
            owed = accounts.statement(debtor.id).balance_cents
            if owed > 0:
                _attempt(partial(accounts.record_payment, debtor.id, owed // 2 or owed))
    # Of the loans never returned, one copy is declared lost and one is claimed returned.
    overdue = circulation.list_loans(LoanFilter(state=LoanState.OVERDUE), PageRequest(1, 2))
    lost_items: LostItems = library.lost_items()
    if overdue.items:
        _attempt(partial(lost_items.declare_lost, overdue.items[0].loan.id))
    if len(overdue.items) > 1:
        _attempt(partial(lost_items.claim_returned, overdue.items[1].loan.id))
    clock.set(end)
    if cast.members:
        _attempt(partial(library.membership().suspend, cast.members[-1].id))


def _attempt(operation: Callable[[], T]) -> T | None:
    """Run one step of the story; a refusal just means it did not happen."""
    try:
        return operation()
    except DomainError:
        return None


def _a_loan_that_would_go_through(
    catalogue: Catalogue, circulation: Circulation, cast: _Cast
) -> tuple[Member, Book] | None:
    """Someone in good standing (a member, else staff) and a book on the shelf, for the first
    loan a newcomer makes."""
    shelf = catalogue.search_books(BookFilter(available=True), PageRequest(1, 20)).items
    for member in [*cast.members, *(member for _, member in cast.staff)]:
        for book in shelf:
            if circulation.availability(book.id, member.id).can_borrow:
                return member, book
    return None


def _summary(library: Library, cast: _Cast, password: str) -> None:
    catalogue: Catalogue = library.catalogue()
    circulation: Circulation = library.circulation()
    one = PageRequest(1, 1)
    books = catalogue.search_books(BookFilter(), one).total
    loans = circulation.list_loans(LoanFilter(), one).total
    open_loans = circulation.list_loans(LoanFilter(state=LoanState.OPEN), one).total
    overdue = circulation.list_loans(LoanFilter(state=LoanState.OVERDUE), one).total
    holds = circulation.list_holds(HoldFilter(), one).total
    click.echo(
        f"Demo library ready: {books} books, {len(cast.staff) + len(cast.members)} people, "
        f"{loans} loans ({open_loans} out, {overdue} overdue), {holds} holds."
    )
    click.echo()
    click.echo(f"Sign in with any of these accounts and the password {password}")
    click.echo("(shown only now; change it with `circulate members reset-password EMAIL`):")
    signing_in = [(str(role), m) for role, m in cast.staff]
    signing_in += [("member", m) for m in cast.members[:3]]
    for role, member in signing_in:
        click.echo(f"  {role:<10} {member.email}")
    click.echo()
    click.echo("Then try:")
    first_loan = _a_loan_that_would_go_through(catalogue, circulation, cast)
    if first_loan is not None:
        member, book = first_loan
        click.echo(f"  circulate loans borrow --member {member.email} --book {book.isbn}")
    click.echo("  circulate books list --search garden")
    click.echo("  circulate loans list --overdue")
    click.echo("  circulate report")
    click.echo("  circulate serve            # the HTTP API on http://127.0.0.1:8000")
    click.echo(
        "  then http://127.0.0.1:8000/sign-in in a browser: staff reach the desk, members "
        "their own pages"
    )
