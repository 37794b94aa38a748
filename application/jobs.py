"""Scheduled jobs: each runs once per period, however many workers run the schedule.

A period is ``every`` long, counted from the Unix epoch in UTC (a daily job's period is the UTC
day). A worker runs a job only after *claiming* its current period in a ``JobRunStore``; the
store lets one claim per (job, period) win (a primary key in the database), so of several
workers that look at once exactly one runs it. A run that dies leaves its period claimed: the
job runs again in the next period (every job here is safe to skip once and catch up after).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from application.audit import Actor, acting_as
from domain.errors import NotFound

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_log = logging.getLogger(__name__)


class RunOutcome(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[], object]  # what it returns is reported (a count, a list)
    description: str = ""

    def period_start(self, now: datetime) -> datetime:
        return _EPOCH + ((now - _EPOCH) // self.every) * self.every


@dataclass(frozen=True, slots=True)
class JobRun:
    job: str
    period_start: datetime
    worker: str
    started_at: datetime
    outcome: RunOutcome
    finished_at: datetime | None = None
    detail: str | None = None


class JobRunStore(Protocol):
    def claim(self, job: str, period_start: datetime, *, worker: str, now: datetime) -> bool:
        """Claim ``job``'s run for the period starting at ``period_start``; False when another
        claim has it already."""
        ...

    def finish(
        self, job: str, period_start: datetime, *, outcome: RunOutcome, now: datetime, detail: str
    ) -> None: ...

    def last_runs(self) -> dict[str, JobRun]:
        """Each job's latest run."""
        ...


class JobNotFound(NotFound):
    code = "JOB_NOT_FOUND"
    resource = "job"


class JobRegistry:
    """The jobs the worker runs. Registering one is one line: ``jobs.add(Job(...))``."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self._jobs[job.name] = job

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda job: job.name)

    def get(self, name: str) -> Job:
        job = self._jobs.get(name)
        if job is None:
            raise JobNotFound(name)
        return job


def job_actor(job: Job) -> Actor:
    """What a job changes is audited as ``job:<name>``, whoever started the run."""
    return Actor(f"job:{job.name}")


class Scheduler:
    def __init__(self, jobs: JobRegistry, runs: JobRunStore, clock: Callable[[], datetime]) -> None:
        self._jobs, self._runs, self._now = jobs, runs, clock

    def run_due(self, worker: str) -> list[str]:
        """Run every job whose current period no worker has claimed yet; returns their names."""
        ran = []
        for job in self._jobs.all():
            period = job.period_start(self._now())
            if self._runs.claim(job.name, period, worker=worker, now=self._now()):
                self._run(job, period)
                ran.append(job.name)
        return ran

    def last_runs(self) -> dict[str, JobRun]:
        return self._runs.last_runs()

    def run_now(self, name: str) -> object:
        """Run ``name`` at once, outside its schedule (an operator's ``jobs run``)."""
        job = self._jobs.get(name)
        with acting_as(job_actor(job)):
            return job.run()

    def _run(self, job: Job, period: datetime) -> None:
        try:
            with acting_as(job_actor(job)):
                result = job.run()
        except Exception as error:  # one failing job must not stop the others or the worker
            _log.exception("job %s failed", job.name)
            detail = f"{type(error).__name__}: {error}"[:500]
            self._runs.finish(
                job.name, period, outcome=RunOutcome.FAILED, now=self._now(), detail=detail
            )
            return
        detail = str(len(result)) if isinstance(result, list) else str(result)
        self._runs.finish(
            job.name, period, outcome=RunOutcome.DONE, now=self._now(), detail=detail[:500]
        )
