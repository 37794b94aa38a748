"""Job runs in process memory: one claim per (job, period), under a lock."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from application.jobs import JobRun, RunOutcome


class MemoryJobRunStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, datetime], JobRun] = {}

    def claim(self, job: str, period_start: datetime, *, worker: str, now: datetime) -> bool:
        with self._lock:
            if (job, period_start) in self._runs:
                return False
            self._runs[(job, period_start)] = JobRun(
                job=job,
                period_start=period_start,
                worker=worker,
                started_at=now,
                outcome=RunOutcome.RUNNING,
            )
            return True

    def finish(
        self, job: str, period_start: datetime, *, outcome: RunOutcome, now: datetime, detail: str
    ) -> None:
        with self._lock:
            run = self._runs.get((job, period_start))
            if run is not None:
                self._runs[(job, period_start)] = replace(
                    run, outcome=outcome, finished_at=now, detail=detail
                )

    def last_runs(self) -> dict[str, JobRun]:
        with self._lock:
            latest: dict[str, JobRun] = {}
            for run in sorted(self._runs.values(), key=lambda r: r.period_start):
                latest[run.job] = run
            return latest
