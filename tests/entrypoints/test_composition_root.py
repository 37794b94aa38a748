"""The container picks the adapters the settings ask for, and the use cases work through it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.clock import ManualClock, SystemClock
from adapters.ids import UuidV7Generator
from adapters.memory import MemoryUnitOfWork
from adapters.security import Argon2PasswordHasher
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.accounts import Accounts
from application.catalogue import BookDetails, Catalogue
from application.circulation import Circulation
from application.members import Membership
from application.queries import LoanFilter, PageRequest
from domain.catalogue import CopyStatus
from domain.errors import BookNotFound, LoanLimitReached
from domain.policy import Policy
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.entrypoints.support import ContainerFactory

ISBN = "9780131103627"


def lend_one(container: Container) -> tuple[str, str]:
    """Add a book with a copy, register a member, lend it; returns (book id, member id)."""
    catalogue: Catalogue = container.catalogue()
    membership: Membership = container.membership()
    circulation: Circulation = container.circulation()
    new = catalogue.add_book(
        BookDetails(isbn=ISBN, title="The C Programming Language"), barcodes=["C-0001"]
    )
    member = membership.register(
        email="Ada@Example.org", name="Ada Lovelace", password="a long enough passphrase"
    )
    loan = circulation.borrow(member.id, book_id=new.book.id)
    assert loan.copy_id == new.copies[0].id
    assert catalogue.get_copy(loan.copy_id).status is CopyStatus.ON_LOAN
    return new.book.id, member.id


def test_memory_mode_uses_the_memory_adapters(make_container: ContainerFactory) -> None:
    container = make_container(storage="memory")

    assert isinstance(container.uow(), MemoryUnitOfWork)
    book_id, member_id = lend_one(container)
    assert container.catalogue().get_book(book_id).isbn == ISBN
    assert container.accounts().statement(member_id).balance_cents == 0


def test_memory_mode_never_builds_an_engine(make_container: ContainerFactory) -> None:
    container = make_container(storage="memory", database_url="nosuchdialect://nowhere")

    lend_one(container)  # the bad URL would fail the moment an engine was made
    with pytest.raises(ValueError, match="nosuchdialect"):
        container.engine()


def test_sql_mode_works_on_a_migrated_sqlite_file(
    make_container: ContainerFactory, sqlite_url: str
) -> None:
    migrate.upgrade(sqlite_url)
    container = make_container(storage="sql", database_url=sqlite_url)

    assert isinstance(container.uow(), SqlUnitOfWork)
    book_id, member_id = lend_one(container)

    # A second process (container) over the same file sees what the first committed.
    other = make_container(storage="sql", database_url=sqlite_url)
    assert other.catalogue().get_book(book_id).isbn == ISBN
    member = other.membership().get(member_id)
    assert member.email == "ada@example.org"
    assert member.password_hash is not None
    assert other.hasher().verify(member.password_hash, "a long enough passphrase")


def test_building_the_container_touches_no_database(
    make_container: ContainerFactory, tmp_path: Path
) -> None:
    container = make_container(storage="sql", database_url=f"sqlite:///{tmp_path / 'x.db'}")
    container.catalogue()  # services are built; the engine waits for the first transaction

    assert list(tmp_path.iterdir()) == []


def test_shared_objects_are_singletons_and_units_of_work_are_fresh(
    make_container: ContainerFactory,
) -> None:
    container = make_container(storage="memory")

    for name in ("clock", "ids", "hasher", "policy", "memory_database", "catalogue"):
        assert getattr(container, name)() is getattr(container, name)()
    assert container.uow() is not container.uow()
    assert isinstance(container.clock(), SystemClock)
    assert isinstance(container.ids(), UuidV7Generator)
    assert isinstance(container.hasher(), Argon2PasswordHasher)
    assert isinstance(container.circulation(), Circulation)
    assert isinstance(container.accounts(), Accounts)


def test_the_policy_comes_from_the_settings(make_container: ContainerFactory) -> None:
    container = make_container(storage="memory", loan_period_days=10, max_open_loans=1)

    assert container.policy() == Policy(loan_period=timedelta(days=10), max_open_loans=1)
    _, member_id = lend_one(container)
    [view] = (
        container.circulation().list_loans(LoanFilter(member_id=member_id), PageRequest()).items
    )
    loan = view.loan
    assert loan.due_at.date() - loan.loaned_at.date() == timedelta(days=10)
    second = container.catalogue().add_book(
        BookDetails(isbn="9780262033848", title="Introduction to Algorithms"), barcodes=["A-1"]
    )
    with pytest.raises(LoanLimitReached):
        container.circulation().borrow(member_id, book_id=second.book.id)


def test_each_memory_container_has_its_own_database(make_container: ContainerFactory) -> None:
    first = make_container(storage="memory")
    second = make_container(storage="memory")
    book_id, _ = lend_one(first)

    with pytest.raises(BookNotFound):
        second.catalogue().get_book(book_id)


def test_providers_can_be_overridden(make_container: ContainerFactory) -> None:
    container = make_container(storage="memory")
    clock = ManualClock()
    container.clock.override(providers.Object(clock))

    book_id, _ = lend_one(container)
    assert container.catalogue().get_book(book_id).created_at == clock.now()


def test_build_container_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIRCULATE_STORAGE", "memory")
    monkeypatch.setenv("CIRCULATE_MAX_HOLDS", "9")

    container = build_container(wire=False)
    try:
        assert container.config.storage() == "memory"
        assert container.policy().max_holds == 9
        assert isinstance(container.settings(), Settings)
    finally:
        dispose(container)


def test_dispose_releases_the_engine(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    container = build_container(Settings(database_url=sqlite_url), wire=False)
    engine = container.engine()
    with engine.connect():
        pass
    pool = engine.pool

    dispose(container)

    assert engine.pool is not pool  # Engine.dispose() closed the pooled connections
    assert container.engine() is not engine  # a later use starts afresh
    dispose(container)
