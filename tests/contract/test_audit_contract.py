"""The audit trail on every adapter: records commit with their change or not at all, read back
filtered and newest first, and (in the databases) cannot be changed or deleted by anyone.
Also the loan queries of privacy: returned loans by age, and anonymised members as stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError

from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.audit import MemoryAuditLog
from adapters.sqlalchemy.audit import SqlAuditLog
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.audit import Actor, AuditFilter, AuditLog, AuditRecord, AuditTrail, acting_as
from application.queries import MemberFilter, Page, PageRequest
from application.unit_of_work import UnitOfWork
from domain.errors import InvalidValue
from domain.events import BookLent, HoldReady, MembersImported
from domain.members import ANONYMOUS_BORROWER_ID, Member, MemberStatus
from tests.contract.builders import POLICY, T0, book, copy, loan, member
from tests.contract.conftest import UowFactory
from tests.contract.paging import assert_walks_the_list
from tests.databases import empty_tables

ids = UuidV7Generator()

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
Adapter = tuple[Callable[[], UnitOfWork], AuditLog]


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def trail(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    made = AuditTrail(ids)
    if request.param == "memory":
        db = MemoryDatabase()
        yield (lambda: MemoryUnitOfWork(db, records_for_events=made)), MemoryAuditLog(db)
        return
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)
    yield (lambda: SqlUnitOfWork(sessions, records_for_events=made)), SqlAuditLog(engine)


def records(log: AuditLog, **query: object) -> list[AuditRecord]:
    return list(log.list(AuditFilter(**query), PageRequest(per_page=100)).items)  # type: ignore[arg-type]


def lend(new_uow: Callable[[], UnitOfWork], loan_id: str, member_id: str = "m1") -> None:
    with new_uow() as uow:
        uow.emit(BookLent(T0, loan_id=loan_id, copy_id="c1", member_id=member_id))
        uow.commit()


def test_a_record_commits_with_its_change_or_not_at_all(trail: Adapter) -> None:
    new_uow, log = trail
    with new_uow() as uow:
        uow.books.add(book())
        uow.emit(BookLent(T0, loan_id="l0", copy_id="c1", member_id="m1"))
    assert records(log) == []

    with acting_as(Actor("member:m9", "req-1")), new_uow() as uow:
        uow.books.add(book())
        uow.emit(HoldReady(T0, hold_id="h1", copy_id="c1", member_id="m1", pickup_by=T0))
        uow.commit()

    [stored] = records(log)
    assert (stored.actor, stored.request_id, stored.occurred_at) == ("member:m9", "req-1", T0)
    assert (stored.action, stored.entity_type, stored.entity_id) == ("hold_ready", "hold", "h1")
    assert stored.details == {
        "hold_id": "h1",
        "copy_id": "c1",
        "member_id": "m1",
        "pickup_by": T0.isoformat(),
    }


def test_filters_newest_first_and_pages(trail: Adapter) -> None:
    new_uow, log = trail
    with acting_as(Actor("cli:alice")):
        lend(new_uow, "l1")
    lend(new_uow, "l2", member_id="m2")
    with new_uow() as uow:
        uow.emit(MembersImported(T0 + timedelta(hours=1), 3))
        uow.commit()

    assert [r.action for r in records(log)] == ["members_imported", "book_lent", "book_lent"]
    assert [r.entity_id for r in records(log, actor="cli:alice")] == ["l1"]
    assert [r.entity_id for r in records(log, entity_type="loan", entity_id="l2")] == ["l2"]
    assert [r.action for r in records(log, action="members_imported")] == ["members_imported"]
    assert [r.entity_id for r in records(log, since=T0 + timedelta(hours=1))] == [None]
    assert len(records(log, until=T0 + timedelta(hours=1))) == 2
    page = log.list(AuditFilter(), PageRequest(page=2, per_page=2))
    assert (page.total, [r.entity_id for r in page.items]) == (3, ["l1"])


def test_the_trail_pages_by_cursor(trail: Adapter) -> None:
    new_uow, log = trail
    for n in range(5):
        lend(new_uow, f"l{n}")

    def listed(page: PageRequest) -> Page[AuditRecord]:
        return log.list(AuditFilter(entity_type="loan"), page)

    assert_walks_the_list(listed, [r.id for r in records(log)])
    assert [r.entity_id for r in records(log)] == ["l4", "l3", "l2", "l1", "l0"]
    first = listed(PageRequest(1, 2))
    assert first.next_cursor is not None
    # A record added since (newer, so before the cursor's place) does not shift the next page.
    lend(new_uow, "l5")
    following = listed(PageRequest.starting_at(first.next_cursor, 2))
    assert [r.entity_id for r in following.items] == ["l2", "l1"]
    # Another list's cursor is refused.
    with new_uow() as uow:
        uow.members.add(member())
        uow.members.add(member())
        uow.commit()
    with new_uow() as uow:
        members = uow.members.list(MemberFilter(), PageRequest(1, 1))
    assert members.next_cursor is not None
    with pytest.raises(InvalidValue) as refused:
        log.list(AuditFilter(), PageRequest.starting_at(members.next_cursor, 2))
    assert refused.value.field == "after"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"],
)
@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_database_refuses_to_change_or_delete_a_record(
    request: pytest.FixtureRequest, database: str, statement: str
) -> None:
    engine: Engine = request.getfixturevalue(f"contract_{database}_engine")
    empty_tables(engine)
    sessions = session_factory(engine)
    lend(lambda: SqlUnitOfWork(sessions, records_for_events=AuditTrail(ids)), "l1")
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    [kept] = records(SqlAuditLog(engine))
    assert kept.actor == "system"


# --- privacy: what the retention job and removal read and write -----------------------------


def test_returned_before_finds_old_returns_of_named_borrowers(new_uow: UowFactory) -> None:
    b = book()
    copies = [copy(b, f"RET-{n}") for n in range(4)]
    ada = member()
    loans = [loan(c, ada) for c in copies]
    for n, lent in enumerate(loans[:3]):
        lent.close(T0 + timedelta(days=n + 1), POLICY)
    with new_uow() as uow:
        uow.books.add(b)
        for c in copies:
            uow.copies.add(c)
        uow.members.add(ada)
        for lent in loans:
            uow.loans.add(lent)
        uow.commit()

    with new_uow() as uow:
        found = uow.loans.returned_before(
            T0 + timedelta(days=3), not_of=ANONYMOUS_BORROWER_ID, limit=10
        )
        assert [x.id for x in found] == [loans[0].id, loans[1].id]
        none = uow.loans.returned_before(T0 + timedelta(days=9), not_of=ada.id, limit=10)
        assert none == []
        limited = uow.loans.returned_before(
            T0 + timedelta(days=9), not_of=ANONYMOUS_BORROWER_ID, limit=1
        )
        assert [x.id for x in limited] == [loans[0].id]
        uow.members.add(Member.anonymous_borrower(T0))
        assert limited[0].anonymise(ANONYMOUS_BORROWER_ID)
        uow.commit()

    with new_uow() as uow:
        rest = uow.loans.returned_before(
            T0 + timedelta(days=9), not_of=ANONYMOUS_BORROWER_ID, limit=10
        )
        assert [x.id for x in rest] == [loans[1].id, loans[2].id]
        stored = uow.loans.get(loans[0].id)
        assert stored is not None
        assert stored.member_id == ANONYMOUS_BORROWER_ID


def test_an_anonymised_member_is_stored_as_such(new_uow: UowFactory) -> None:
    ada = member()
    with new_uow() as uow:
        uow.members.add(ada)
        uow.commit()
    with new_uow() as uow:
        stored = uow.members.get(ada.id)
        assert stored is not None
        stored.anonymise(T0 + timedelta(days=1))
        uow.commit()
    with new_uow() as uow:
        again = uow.members.get(ada.id)
        assert again is not None
        assert again.status is MemberStatus.ANONYMISED
        assert again.email == f"{ada.id}@anonymised.invalid"
        assert again.password_hash is None
        assert uow.members.get_by_email(ada.email) is None
