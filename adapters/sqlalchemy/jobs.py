"""Job runs in the database: a claim is one ``INSERT ... ON CONFLICT DO NOTHING`` on the
(job, period) primary key, so of any number of workers on any number of hosts exactly one wins."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Engine, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy.models import JobRunRow
from application.jobs import JobRun, RunOutcome

TABLE = cast(Table, JobRunRow.__table__)


class SqlJobRunStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, job: str, period_start: datetime, *, worker: str, now: datetime) -> bool:
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(TABLE)
            .values(
                job=job,
                period_start=period_start,
                worker=worker,
                started_at=now,
                outcome=RunOutcome.RUNNING.value,
            )
            .on_conflict_do_nothing()
            .returning(TABLE.c.job)  # a row comes back only when this insert won
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).first() is not None

    def finish(
        self, job: str, period_start: datetime, *, outcome: RunOutcome, now: datetime, detail: str
    ) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(TABLE)
                .where(TABLE.c.job == job, TABLE.c.period_start == period_start)
                .values(outcome=outcome.value, finished_at=now, detail=detail)
            )

    def last_runs(self) -> dict[str, JobRun]:
        latest = (
            select(TABLE.c.job, func.max(TABLE.c.period_start).label("period_start"))
            .group_by(TABLE.c.job)
            .subquery()
        )
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(TABLE).join(
                    latest,
                    (TABLE.c.job == latest.c.job) & (TABLE.c.period_start == latest.c.period_start),
                )
            ).all()
        return {
            row.job: JobRun(
                job=row.job,
                period_start=row.period_start,
                worker=row.worker,
                started_at=row.started_at,
                outcome=RunOutcome(row.outcome),
                finished_at=row.finished_at,
                detail=row.detail,
            )
            for row in rows
        }
