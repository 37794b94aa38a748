"""The SQL units of work: one ``Session`` (one database transaction) per ``with`` block.

``SqlTransaction`` is what both slices' units of work share: the session, the records written
with a commit, the translation of database refusals. ``SqlUnitOfWork`` is the library's;
``adapters.sqlalchemy.identity_unit_of_work`` holds identity's.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from adapters.sqlalchemy.bulk import SqlBulkWriter
from adapters.sqlalchemy.engine import read_only_transaction
from adapters.sqlalchemy.errors import translated_errors
from adapters.sqlalchemy.held import HeldWrite, HeldWrites
from adapters.sqlalchemy.idempotency import use_key
from adapters.sqlalchemy.records import Record, write_records
from adapters.sqlalchemy.repositories import (
    SqlBookCirculationRepository,
    SqlBookRepository,
    SqlCirculationRuleRepository,
    SqlClosureRepository,
    SqlCopyRepository,
    SqlHoldRepository,
    SqlItemTypeRepository,
    SqlLedgerRepository,
    SqlLoanRepository,
    SqlMemberCategoryRepository,
    SqlMemberRepository,
    read_copy_and_open_loan,
    read_open_loans_and_balance,
    read_open_loans_balance_and_holds,
)
from adapters.sqlalchemy.rules_in_force import (
    read_circulation_and_rules,
    read_member_circulation_and_rules,
    read_rules_in_force,
)
from application.audit import AuditRecord
from application.idempotency import KeyUsed
from application.outbox import OutboxMessage
from application.ports import DependencyUnavailable, EventPublisher
from application.unit_of_work import (
    BaseUnitOfWork,
    ChangeTracker,
    RecordsForEvents,
    RulesInForce,
    UnitOfWork,
)
from domain.catalogue import Copy
from domain.circulation import BookCirculation
from domain.holds import Hold
from domain.loans import Loan
from domain.members import Member


class SqlTransaction(BaseUnitOfWork):
    """A unit of work over one ``Session`` from ``session_factory``; the subclasses bind their
    repositories to it in ``_bind``.

    Database refusals become domain errors (``adapters.sqlalchemy.errors``): a duplicate ISBN,
    barcode or email raises the same error as the use case's own check, and a lost race raises
    ``ConcurrentUpdate`` so the use case can retry.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        publisher: EventPublisher | None = None,
        records_for_events: RecordsForEvents | None = None,
    ) -> None:
        super().__init__(publisher, records_for_events)
        self._session_factory = session_factory
        self._session: Session | None = None
        # Entity writes held to go out with the records (PostgreSQL; ``adapters...records``).
        self._held: HeldWrites | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is not open; use it in a `with` block")
        return self._session

    def _begin(self, tracker: ChangeTracker) -> None:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        session = self._session_factory()
        self._session = session
        if self._reads_only:
            read_only_transaction(session, refusing_writes=True)
        elif session.get_bind().dialect.name == "postgresql":
            self._held = HeldWrites(self._send_held)
        self._bind(tracker, session)

    @abstractmethod
    def _bind(self, tracker: ChangeTracker, session: Session) -> None:
        """Make this transaction's repositories over ``session``, tracked by ``tracker``.

        All of them, at the start: a repository is two references, and making the library's
        ten takes a few microseconds, about 1% of the cheapest transaction (one read on
        SQLite). Making them on first use would need an attribute hook that type checking
        cannot see through, for no gain worth measuring."""

    def _write_records(self, records: Sequence[object]) -> None:
        # Runs of audit records and outbox messages (what most changes write) go together, the
        # first with the entity writes held back for it; on PostgreSQL, so does the use of an
        # idempotency key, in the same statement (``adapters.sqlalchemy.records``).
        run: list[Record] = []
        for record in records:
            if isinstance(record, AuditRecord | OutboxMessage) or (
                self._held is not None and isinstance(record, KeyUsed)
            ):
                run.append(record)
                continue
            self._write_run(run)
            run = []
            self._write_record(record)
        self._write_run(run)

    def _write_run(self, run: Sequence[Record]) -> None:
        if self._held is not None:
            self._held.send(run)
        else:
            write_records(self.session.connection(), run)

    def _send_held(self, held: Sequence[HeldWrite], records: Sequence[Any]) -> None:
        write_records(self.session.connection(), records, held)

    def _write_record(self, record: object) -> None:
        if isinstance(record, KeyUsed):
            with translated_errors():
                use_key(self.session.connection(), record)
            return
        if isinstance(record, AuditRecord | OutboxMessage):
            write_records(self.session.connection(), [record])
            return
        super()._write_record(record)

    def _commit(self) -> None:
        if self._held is not None:
            self._held.send()  # what is still held, when the commit wrote no records
        with translated_errors():
            self.session.commit()

    def _rollback(self) -> None:
        if self._session is None:
            return
        if self._reads_only:
            # A transaction that could not write ends the same either way, but not for psycopg:
            # a ROLLBACK makes it forget the connection's prepared statements (and deallocate
            # them), so a pooled connection that served a read between two borrows would
            # plan the borrow's statements afresh every time. A connection lost after the
            # reads loses nothing: they stand, and the rollback below lets it go.
            with contextlib.suppress(SQLAlchemyError, DependencyUnavailable):
                self._session.commit()
                return
        self._session.rollback()

    def _close(self) -> None:
        session, self._session, self._held = self._session, None, None
        if session is not None:
            session.close()


class SqlUnitOfWork(SqlTransaction, UnitOfWork):
    """The library's unit of work: writes reach the database on ``commit``; leaving the block
    without one rolls back.

    PostgreSQL runs at its default READ COMMITTED level: the member row lock
    (``members.get(for_update=True)``) makes decisions about one member one at a time, and the
    version check on every update plus the unique indexes refuse whatever else raced. SQLite
    transactions are serializable (see ``engine``).
    """

    def _bind(self, tracker: ChangeTracker, session: Session) -> None:
        held = self._held
        self.books = books = SqlBookRepository(tracker, session, held)
        self.copies = self._sql_copies = copies = SqlCopyRepository(tracker, session, held)
        self.members = self._sql_members = SqlMemberRepository(tracker, session, held)
        self.loans = self._sql_loans = SqlLoanRepository(tracker, session, held)
        self.holds = self._sql_holds = holds = SqlHoldRepository(tracker, session, held)
        self.ledger = SqlLedgerRepository(tracker, session, held)
        self.member_categories = SqlMemberCategoryRepository(tracker, session, held)
        self.item_types = SqlItemTypeRepository(tracker, session, held)
        self.rules = SqlCirculationRuleRepository(tracker, session, held)
        self.closures = SqlClosureRepository(tracker, session, held)
        self.circulation = self._sql_circulation = SqlBookCirculationRepository(
            tracker, books, copies, holds, self._emit_all, session
        )
        self.bulk = SqlBulkWriter(session)

    def open_loans_and_balance(self, member_id: str) -> tuple[list[Loan], int]:
        return read_open_loans_and_balance(self.session, self._sql_loans, member_id)

    def open_loans_balance_and_holds(self, member_id: str) -> tuple[list[Loan], int, list[Hold]]:
        return read_open_loans_balance_and_holds(
            self.session, self._sql_loans, self._sql_holds, member_id
        )

    def copy_and_open_loan(self, barcode: str) -> tuple[Copy | None, Loan | None]:
        return read_copy_and_open_loan(self.session, self._sql_copies, self._sql_loans, barcode)

    def circulation_and_rules(self, book_id: str) -> tuple[BookCirculation | None, RulesInForce]:
        return read_circulation_and_rules(self.session, book_id, self._sql_circulation)

    def member_circulation_and_rules(
        self, member_id: str, book_id: str
    ) -> tuple[Member | None, BookCirculation | None, RulesInForce]:
        return read_member_circulation_and_rules(
            self.session, member_id, book_id, self._sql_members, self._sql_circulation
        )

    def rules_in_force(self) -> RulesInForce:
        return read_rules_in_force(self.session)
