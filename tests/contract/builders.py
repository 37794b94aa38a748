"""Entities for the contract tests, made through the domain's own constructors."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from adapters.ids import UuidV7Generator
from application.identity.unit_of_work import IdentityUnitOfWork
from application.unit_of_work import Entity, UnitOfWork
from domain.calendar import Closure
from domain.catalogue import Book, Copy
from domain.credentials import ApiKey, RefreshToken, ServiceClient
from domain.holds import Hold
from domain.ledger import ChargeType, EntryKind, LedgerEntry
from domain.loans import Loan
from domain.members import Member, Role
from domain.policy import Policy
from domain.rules import CirculationRule, ItemType, MemberCategory

# Microseconds on purpose: they must survive every store.
T0 = datetime(2030, 3, 4, 9, 15, 30, 123456, tzinfo=UTC)
DAY = timedelta(days=1)
POLICY = Policy()

_ids = UuidV7Generator()
_numbers = itertools.count(1)


def new_id() -> str:
    """Ids made later sort after ids made earlier."""
    return _ids.new_id()


def isbn13(n: int) -> str:
    body = f"978{n:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def book(
    title: str | None = None,
    *,
    authors: Sequence[str] = ("Ada Author",),
    year: int | None = 2001,
    isbn: str | None = None,
    publisher: str | None = "Penguin",
    subjects: Sequence[str] = ("fiction",),
    now: datetime = T0,
) -> Book:
    n = next(_numbers)
    return Book.create(
        id=new_id(),
        isbn=isbn or isbn13(n),
        title=title or f"Book {n}",
        authors=tuple(authors),
        publisher=publisher,
        year=year,
        subjects=tuple(subjects),
        now=now,
    )


def copy(of: Book, barcode: str | None = None, *, now: datetime = T0) -> Copy:
    return Copy.create(
        id=new_id(), book_id=of.id, barcode=barcode or f"BC{next(_numbers):06d}", now=now
    )


def member(
    name: str | None = None,
    *,
    email: str | None = None,
    role: Role = Role.MEMBER,
    now: datetime = T0,
    password_hash: str | None = None,
) -> Member:
    n = next(_numbers)
    return Member.register(
        id=new_id(),
        email=email or f"member{n}@example.org",
        name=name or f"Member {n}",
        card_number=f"CARD{n:06d}",
        role=role,
        membership_expires_at=now + 365 * DAY,
        now=now,
        password_hash=password_hash,
    )


def loan(of: Copy, to: Member, *, now: datetime = T0) -> Loan:
    return Loan.start(
        id=new_id(), copy_id=of.id, book_id=of.book_id, member_id=to.id, now=now, policy=POLICY
    )


def hold(on: Book, by: Member, *, now: datetime = T0, hold_id: str | None = None) -> Hold:
    return Hold.place(id=hold_id or new_id(), book_id=on.id, member_id=by.id, now=now)


def fine(to: Member, cents: int, *, now: datetime = T0, loan_id: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(),
        member_id=to.id,
        kind=EntryKind.CHARGE,
        charge_type=ChargeType.OVERDUE,
        amount_cents=cents,
        created_at=now,
        loan_id=loan_id,
        note="overdue",
    )


def payment(by: Member, cents: int, *, now: datetime = T0) -> LedgerEntry:
    return LedgerEntry(
        id=new_id(), member_id=by.id, kind=EntryKind.PAYMENT, amount_cents=cents, created_at=now
    )


def add(uow: UnitOfWork, entity: Entity) -> None:
    """Hand ``entity`` to the repository of its type."""
    if isinstance(entity, Book):
        uow.books.add(entity)
    elif isinstance(entity, Copy):
        uow.copies.add(entity)
    elif isinstance(entity, Member):
        uow.members.add(entity)
    elif isinstance(entity, Loan):
        uow.loans.add(entity)
    elif isinstance(entity, Hold):
        uow.holds.add(entity)
    elif isinstance(entity, MemberCategory):
        uow.member_categories.add(entity)
    elif isinstance(entity, ItemType):
        uow.item_types.add(entity)
    elif isinstance(entity, CirculationRule):
        uow.rules.add(entity)
    elif isinstance(entity, Closure):
        uow.closures.add(entity)
    elif isinstance(entity, LedgerEntry):
        uow.ledger.add(entity)
    else:  # a credential: the identity slice's (``store_in_identity``)
        raise TypeError(f"the library's unit of work does not store a {type(entity).__name__}")


Credential = Member | RefreshToken | ApiKey | ServiceClient


def add_to_identity(uow: IdentityUnitOfWork, entity: Credential) -> None:
    """Hand ``entity`` to the identity repository of its type."""
    if isinstance(entity, Member):
        uow.members.add(entity)
    elif isinstance(entity, RefreshToken):
        uow.refresh_tokens.add(entity)
    elif isinstance(entity, ApiKey):
        uow.api_keys.add(entity)
    else:
        uow.service_clients.add(entity)


def store_in_identity(new_uow: Callable[[], IdentityUnitOfWork], *entities: Credential) -> None:
    """Add members and credentials in one committed identity unit of work."""
    with new_uow() as uow:
        for entity in entities:
            add_to_identity(uow, entity)
        uow.commit()


def store(new_uow: Callable[[], UnitOfWork], *entities: Entity) -> None:
    """Add ``entities`` in one committed unit of work."""
    with new_uow() as uow:
        for entity in entities:
            add(uow, entity)
        uow.commit()
