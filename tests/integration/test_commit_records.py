"""Audit records and outbox messages written with a commit, with the entity writes it holds
back for them: in one statement on PostgreSQL (each a CTE), in runs of sixteen, each kind of
write keeping its own rules (a version check, a uniqueness, a duplicate message)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from adapters.ids import UuidV7Generator
from adapters.sqlalchemy.audit import SqlAuditLog
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
from adapters.sqlalchemy.outbox import SqlOutboxStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.audit import AuditFilter, AuditRecord
from application.idempotency import IdempotencyKeyTaken, KeyState, KeyUsed
from application.outbox import Channel, OutboxFilter, OutboxMessage
from application.queries import PageRequest
from domain.catalogue import Book, Copy, CopyStatus
from domain.errors import ConcurrentUpdate
from domain.loans import Loan
from domain.members import Member
from domain.policy import Policy
from domain.rules import CirculationRule

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
IDS = UuidV7Generator()


def audit_record(entity_id: str) -> AuditRecord:
    return AuditRecord(
        id=IDS.new_id(),
        occurred_at=NOW,
        actor="member:reader",
        action="book_lent",
        entity_type="loan",
        entity_id=entity_id,
        request_id="req-1",
        details={"copy_id": "c-1", "due": "2026-03-23"},
    )


def message(dedupe_key: str, subject_id: str) -> OutboxMessage:
    return OutboxMessage(
        id=IDS.new_id(),
        channel=Channel.EMAIL,
        topic="loan_receipt",
        dedupe_key=dedupe_key,
        member_id=None,
        subject_id=subject_id,
        payload={"to": "reader@example.org", "copies": 2},
        created_at=NOW,
    )


def test_a_commit_writes_every_record_in_one_statement_where_the_database_can(
    engine: Engine,
) -> None:
    first, second = audit_record("loan-1"), audit_record("loan-2")
    receipt, again, other = message("k-1", "loan-1"), message("k-1", "loan-1"), message("k-2", "x")
    sent: list[str] = []

    def record(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with SqlUnitOfWork(session_factory(engine)) as uow:
            uow.also_write(first, receipt, second, again, other)
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = [each for each in sent if "INSERT" in each]
    assert len(inserts) == (1 if engine.dialect.name == "postgresql" else 5)
    trail = SqlAuditLog(engine).list(AuditFilter(action="book_lent"), PageRequest())
    assert {(each.entity_id, each.details["due"]) for each in trail.items} == {
        ("loan-1", "2026-03-23"),
        ("loan-2", "2026-03-23"),
    }
    # A second message of the same cause is not written, and does not fail the commit.
    outbox = SqlOutboxStore(engine).list(OutboxFilter(), PageRequest())
    assert sorted((each.dedupe_key, each.id) for each in outbox.items) == sorted(
        [("k-1", receipt.id), ("k-2", other.id)]
    )
    assert {each.dedupe_key: each.payload for each in outbox.items}["k-1"] == receipt.payload


def test_records_are_not_written_without_the_commit(engine: Engine) -> None:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.also_write(audit_record("loan-3"), message("k-3", "loan-3"))
    assert SqlAuditLog(engine).list(AuditFilter(), PageRequest()).items == []
    assert SqlOutboxStore(engine).list(OutboxFilter(), PageRequest()).items == []


def test_a_job_commit_of_thousands_of_records_is_written_whole(engine: Engine) -> None:
    # 3,200 audit records (8 parameters each) and as many messages (13 each) would pass
    # PostgreSQL's 65,535 parameters in one statement.
    records = [
        each
        for n in range(3_200)
        for each in (audit_record(f"loan-{n}"), message(f"bulk-{n}", f"loan-{n}"))
    ]
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.also_write(*records)
        uow.commit()

    with engine.connect() as connection:
        audits = connection.exec_driver_sql("SELECT count(*) FROM audit_events").scalar_one()
        messages = connection.exec_driver_sql(
            "SELECT count(*) FROM outbox_messages WHERE dedupe_key LIKE 'bulk-%%'"
        ).scalar_one()
    assert (audits, messages) == (3_200, 3_200)


def _shelf(engine: Engine, copies: int) -> tuple[Book, list[Copy], Member]:
    """A book with ``copies`` copies, and a member."""
    book = Book.create(id=IDS.new_id(), isbn="9780306406157", title="Held", now=NOW)
    shelved = [
        Copy.create(id=IDS.new_id(), book_id=book.id, barcode=f"H-{n}", now=NOW)
        for n in range(copies)
    ]
    member = Member.register(
        id=IDS.new_id(),
        email="held@example.org",
        name="Held Reader",
        card_number="HELD0001",
        membership_expires_at=NOW + timedelta(days=365),
        now=NOW,
    )
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.books.add(book)
        for each in shelved:
            uow.copies.add(each)
        uow.members.add(member)
        uow.commit()
    return book, shelved, member


def counting(engine: Engine) -> tuple[list[str], Any]:
    sent: list[str] = []

    def record(*args: object) -> None:
        sent.append(str(args[2]))

    return sent, record


def test_a_commits_entity_writes_go_with_its_records_in_runs(engine: Engine) -> None:
    _, shelved, _ = _shelf(engine, 40)
    sent, record = counting(engine)
    event.listen(engine, "before_cursor_execute", record)
    try:
        with SqlUnitOfWork(session_factory(engine)) as uow:
            for each in shelved:
                loaded = uow.copies.get(each.id)
                assert loaded is not None
                loaded.set_aside(NOW + timedelta(hours=1))
            uow.also_write(audit_record("set-aside"))
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    writing = [each for each in sent if "UPDATE copies" in each or "INSERT" in each]
    # Forty UPDATEs and a record: sixteen writes a statement on PostgreSQL, one each on SQLite.
    assert len(writing) == (3 if engine.dialect.name == "postgresql" else 41)
    with SqlUnitOfWork(session_factory(engine)) as uow:
        assert {uow.copies.get(each.id).version for each in shelved} == {2}  # type: ignore[union-attr]
    trail = SqlAuditLog(engine).list(AuditFilter(entity_id="set-aside"), PageRequest())
    assert len(trail.items) == 1


def test_a_stale_write_refuses_the_whole_commit_records_and_all(engine: Engine) -> None:
    _, (shelved,), _ = _shelf(engine, 1)
    with SqlUnitOfWork(session_factory(engine)) as uow:
        stale = uow.copies.get(shelved.id)
        assert stale is not None
        # Another change of the row since it was read (made here: SQLite has one writer).
        bump = text("UPDATE copies SET version = version + 1 WHERE id = :id")
        uow.session.execute(bump, {"id": shelved.id})
        stale.set_aside(NOW + timedelta(hours=1))
        uow.also_write(audit_record("stale"), message("stale-1", "stale"))
        with pytest.raises(ConcurrentUpdate) as refused:
            uow.commit()
        assert refused.value.details == {"id": shelved.id}
        assert stale.version == 1  # as it was read: the write was not made
    with SqlUnitOfWork(session_factory(engine)) as uow:
        stored = uow.copies.get(shelved.id)
        assert stored is not None
        assert (stored.status, stored.version) == (CopyStatus.AVAILABLE, 1)
    assert SqlAuditLog(engine).list(AuditFilter(entity_id="stale"), PageRequest()).items == []
    outbox = SqlOutboxStore(engine).list(OutboxFilter(), PageRequest())
    assert [each.dedupe_key for each in outbox.items] == []


def test_a_second_open_loan_of_a_copy_is_refused_naming_the_copy(engine: Engine) -> None:
    book, (shelved,), member = _shelf(engine, 1)
    terms = CirculationRule.from_policy(Policy())
    first = Loan.start(
        id=IDS.new_id(),
        copy_id=shelved.id,
        book_id=book.id,
        member_id=member.id,
        now=NOW,
        policy=terms,
    )
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.loans.add(first)
        uow.commit()
    with SqlUnitOfWork(session_factory(engine)) as uow:
        uow.loans.add(replace(first, id=IDS.new_id()))
        uow.also_write(audit_record("second"))
        with pytest.raises(ConcurrentUpdate) as refused:
            uow.commit()
        assert refused.value.details == {"copy_id": shelved.id}
    assert SqlAuditLog(engine).list(AuditFilter(entity_id="second"), PageRequest()).items == []


TTL, LEASE = timedelta(hours=24), timedelta(seconds=60)


def _claimed(keys: SqlIdempotencyStore, token: str, now: datetime = NOW) -> None:
    held = keys.claim(
        scope="s", key="k", fingerprint="f", now=now, ttl=TTL, lease=LEASE, token=token
    )
    assert held is None


def _key_state(keys: SqlIdempotencyStore) -> KeyState:
    held = keys.claim(scope="s", key="k", fingerprint="f", now=NOW, ttl=TTL, lease=LEASE, token="x")
    assert held is not None
    return held.state


def _set_aside(engine: Engine, copy: Copy, *records: object, bump: bool = False) -> list[str]:
    """Set ``copy`` aside with ``records``, as one commit; the statements it sent. ``bump``:
    another change of the copy's row comes first (made here: SQLite has one writer)."""
    sent, record = counting(engine)
    event.listen(engine, "before_cursor_execute", record)
    try:
        with SqlUnitOfWork(session_factory(engine)) as uow:
            loaded = uow.copies.get(copy.id)
            assert loaded is not None
            if bump:
                stale = text("UPDATE copies SET version = version + 1 WHERE id = :id")
                uow.session.execute(stale, {"id": copy.id})
            loaded.set_aside(NOW + timedelta(hours=1))
            uow.also_write(*records)
            uow.commit()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def _copy_version(engine: Engine, copy: Copy) -> int:
    with SqlUnitOfWork(session_factory(engine)) as uow:
        stored = uow.copies.get(copy.id)
        assert stored is not None
        return stored.version


def test_the_use_of_an_idempotency_key_goes_with_the_entity_writes(engine: Engine) -> None:
    _, (shelved,), _ = _shelf(engine, 1)
    keys = SqlIdempotencyStore(engine)
    _claimed(keys, "mine")
    sent = _set_aside(engine, shelved, audit_record("keyed"), KeyUsed("s", "k", "mine"))
    writing = [each for each in sent if "UPDATE" in each or "INSERT" in each]
    # The copy, the record and the key: one statement on PostgreSQL, one each on SQLite.
    assert len(writing) == (1 if engine.dialect.name == "postgresql" else 3)
    assert _key_state(keys) is KeyState.COMPLETED
    assert _copy_version(engine, shelved) == 2


def test_a_key_taken_over_refuses_the_whole_commit(engine: Engine) -> None:
    _, (shelved,), _ = _shelf(engine, 1)
    keys = SqlIdempotencyStore(engine)
    _claimed(keys, "slow")
    _claimed(keys, "retry", now=NOW + LEASE)  # the slow request's lease ran out
    with pytest.raises(IdempotencyKeyTaken):
        _set_aside(engine, shelved, audit_record("taken"), KeyUsed("s", "k", "slow"))
    assert _copy_version(engine, shelved) == 1
    assert SqlAuditLog(engine).list(AuditFilter(entity_id="taken"), PageRequest()).items == []
    assert _key_state(keys) is KeyState.IN_FLIGHT  # still the retry's, to use up


def test_a_stale_write_with_a_key_taken_over_is_a_conflict_to_retry(engine: Engine) -> None:
    # As when the key's use was written after the entities: the use case retries the conflict,
    # and the retry is refused for the key.
    _, (shelved,), _ = _shelf(engine, 1)
    keys = SqlIdempotencyStore(engine)
    _claimed(keys, "slow")
    _claimed(keys, "retry", now=NOW + LEASE)
    with pytest.raises(ConcurrentUpdate):
        _set_aside(engine, shelved, KeyUsed("s", "k", "slow"), bump=True)
    assert _copy_version(engine, shelved) == 1
    assert _key_state(keys) is KeyState.IN_FLIGHT
