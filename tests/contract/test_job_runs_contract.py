"""Scheduled jobs on every adapter: one run per job and period, whoever asks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from adapters.clock import ManualClock
from adapters.memory.jobs import MemoryJobRunStore
from adapters.sqlalchemy.jobs import SqlJobRunStore
from application.jobs import Job, JobNotFound, JobRegistry, JobRunStore, RunOutcome, Scheduler
from tests.databases import empty_tables

NOW = datetime(2030, 1, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[JobRunStore]:
    if request.param == "memory":
        yield MemoryJobRunStore()
        return
    engine: Engine = request.getfixturevalue(f"contract_{request.param}_engine")
    empty_tables(engine)
    yield SqlJobRunStore(engine)


def test_one_claim_per_job_and_period(store: JobRunStore) -> None:
    hour = datetime(2030, 1, 1, 9, tzinfo=UTC)
    assert store.claim("a", hour, worker="w1", now=NOW)
    assert not store.claim("a", hour, worker="w2", now=NOW)
    assert store.claim("b", hour, worker="w2", now=NOW)
    assert store.claim("a", hour + timedelta(hours=1), worker="w2", now=NOW)


def test_several_schedulers_run_each_job_once_per_period(store: JobRunStore) -> None:
    clock = ManualClock(NOW)
    runs: list[str] = []
    jobs = JobRegistry()
    jobs.add(Job("hourly", timedelta(hours=1), lambda: runs.append("hourly")))

    def daily() -> int:
        runs.append("daily")
        return 7

    jobs.add(Job("daily", timedelta(days=1), daily))
    schedulers = [Scheduler(jobs, store, clock.now) for _ in range(3)]

    for minutes in (0, 10, 20, 40, 70):  # 09:30 .. 10:40: two hours, one day
        clock.set(NOW + timedelta(minutes=minutes))
        for n, scheduler in enumerate(schedulers):
            scheduler.run_due(f"w{n}")

    assert sorted(runs) == ["daily", "hourly", "hourly"]
    last = schedulers[0].last_runs()
    assert last["hourly"].period_start == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert (last["daily"].outcome, last["daily"].detail) == (RunOutcome.DONE, "7")


def test_a_failing_job_is_recorded_and_the_others_still_run(store: JobRunStore) -> None:
    clock = ManualClock(NOW)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("the disk is full")

    jobs = JobRegistry()
    jobs.add(Job("a-broken", timedelta(days=1), broken))
    jobs.add(Job("b-fine", timedelta(days=1), lambda: ran.append("b")))
    scheduler = Scheduler(jobs, store, clock.now)

    assert scheduler.run_due("w") == ["a-broken", "b-fine"]
    assert ran == ["b"]
    failed = scheduler.last_runs()["a-broken"]
    assert failed.outcome is RunOutcome.FAILED
    assert failed.detail == "RuntimeError: the disk is full"
    with pytest.raises(JobNotFound):
        scheduler.run_now("nope")
