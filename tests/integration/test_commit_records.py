"""Audit records and outbox messages written with a commit: all of them, in one statement on
PostgreSQL (the others ride as CTEs of the last INSERT), each kind keeping its own rules."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, event

from adapters.ids import UuidV7Generator
from adapters.sqlalchemy.audit import SqlAuditLog
from adapters.sqlalchemy.engine import session_factory
from adapters.sqlalchemy.outbox import SqlOutboxStore
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.audit import AuditFilter, AuditRecord
from application.outbox import Channel, OutboxFilter, OutboxMessage
from application.queries import PageRequest

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
