"""The scheduled jobs and the worker that runs them with the outbox's delivery.

Registering a job is one line in ``scheduled_jobs`` (plus, when the job comes from another
service, one keyword argument naming it in the container).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from application.jobs import Job, JobRegistry, Scheduler
from application.notices import DeliveryReport, NoticeDelivery

_log = logging.getLogger(__name__)
HOURLY = timedelta(hours=1)
DAILY = timedelta(days=1)


def scheduled_jobs(
    *,
    expire_holds: Callable[[], object],
    send_reminders: Callable[[], object],
    send_pickup_reminders: Callable[[], object],
    purge_sessions: Callable[[], object],
    age_to_lost: Callable[[], object],
    anonymise_loans: Callable[[], object],
    purge_outbox: Callable[[], object],
    keep_title_blocks: Callable[[], object] | None = None,
) -> JobRegistry:
    jobs = JobRegistry()
    jobs.add(Job("holds-expire", HOURLY, expire_holds, "Expire holds not collected in time"))
    jobs.add(Job("notices-reminders", DAILY, send_reminders, "Due-soon and overdue notices"))
    # Hourly, so a notice "N hours before the pickup deadline" is never a day late.
    jobs.add(Job("notices-pickup", HOURLY, send_pickup_reminders, "Hold-about-to-expire notices"))
    jobs.add(Job("sessions-purge", DAILY, purge_sessions, "Forget expired refresh tokens"))
    jobs.add(Job("loans-age-to-lost", DAILY, age_to_lost, "Declare long-overdue loans lost"))
    jobs.add(
        Job("loans-anonymise", DAILY, anonymise_loans, "Loans past retention lose their borrower")
    )
    jobs.add(
        Job("outbox-purge", DAILY, purge_outbox, "Forget old delivered and cancelled messages")
    )
    if keep_title_blocks is not None:  # a catalogue in a database
        jobs.add(
            Job(
                "catalogue-title-blocks",
                HOURLY,
                keep_title_blocks,
                "Redraw the counted blocks that page numbers in title order start from",
            )
        )
    return jobs


def worker_name() -> str:
    """Unique among running workers: the host, the process and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Tick:
    jobs: list[str] = field(default_factory=list)
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0

    def add(self, report: DeliveryReport) -> int:
        self.delivered += report.delivered
        self.retried += report.retried
        self.failed += report.failed
        self.cancelled += report.cancelled
        return report.delivered + report.retried + report.failed + report.cancelled


class Worker:
    """Runs the due jobs, then delivers the due outbox messages, every ``poll_seconds``."""

    def __init__(
        self,
        scheduler: Scheduler,
        delivery: NoticeDelivery,
        poll_seconds: float = 5.0,
        name: str | None = None,
    ) -> None:
        self._scheduler, self._delivery = scheduler, delivery
        self._poll = poll_seconds
        self.name = name or worker_name()

    def tick(self) -> Tick:
        tick = Tick(jobs=self._scheduler.run_due(self.name))
        while tick.add(self._delivery.deliver_due(self.name)):
            pass  # a full batch may be followed by more
        return tick

    def run(self, stop: threading.Event) -> None:
        _log.info("worker %s started", self.name)
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # the database may be away for a while: try again next tick
                _log.exception("worker tick failed")
            stop.wait(self._poll)
        _log.info("worker %s stopped", self.name)
