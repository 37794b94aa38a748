"""`circulate worker` (delivery and the schedule), `circulate jobs`, `circulate notices`."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

import click
from dependency_injector.wiring import Provide, inject

from application.jobs import JobRegistry, JobRun, Scheduler
from application.members import Membership
from application.notices import NoticeChoices, NoticeLog
from application.outbox import Channel, MessageStatus, OutboxFilter, OutboxMessage
from application.queries import PageRequest
from domain.members import NoticePreferences
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceCommand, ServiceGroup
from entrypoints.cli.output import (
    json_option,
    page_json,
    page_options,
    print_json,
    print_page_footer,
    print_table,
    when,
)
from entrypoints.container import Container
from entrypoints.jobs import Worker


@click.command(cls=ServiceCommand)
@click.option("--once", is_flag=True, help="Run the due jobs, deliver what is due, and exit.")
@inject
def worker(once: bool, worker: Worker = Provide[Container.worker]) -> None:
    """Deliver notices from the outbox and run the scheduled jobs until stopped.

    Safe on several hosts at once: each job runs once per period, each message is delivered
    by one worker at a time. SIGTERM or Ctrl+C stops it after the current step.

    \b
    Example:
      circulate worker
      circulate worker --once        # from cron, or to catch up by hand
    """
    if once:
        tick = worker.tick()
        click.echo(
            f"ran {', '.join(tick.jobs) or 'no job'}; delivered {tick.delivered}, "
            f"retrying {tick.retried}, failed {tick.failed}, cancelled {tick.cancelled}"
        )
        return
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"worker {worker.name} running; Ctrl+C to stop", err=True)
    worker.run(stop)


@click.group(cls=ServiceGroup)
def jobs() -> None:
    """The scheduled jobs that the worker runs."""


def _run_json(job: str, run: JobRun | None) -> dict[str, Any]:
    if run is None:
        return {"name": job, "last_run": None}
    return {
        "name": job,
        "last_run": {
            "period_start": run.period_start,
            "worker": run.worker,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "outcome": run.outcome.value,
            "detail": run.detail,
        },
    }


@jobs.command("list")
@json_option
@inject
def list_jobs(
    as_json: bool,
    registry: JobRegistry = Provide[Container.jobs],
    scheduler: Scheduler = Provide[Container.scheduler],
) -> None:
    """The jobs, how often each runs, and its last run.

    \b
    Example:
      circulate jobs list
    """
    runs = scheduler.last_runs()
    if as_json:
        print_json({"items": [_run_json(job.name, runs.get(job.name)) for job in registry.all()]})
        return
    print_table(
        ["NAME", "EVERY", "LAST RUN", "OUTCOME", "DETAIL", "DESCRIPTION"],
        [
            [
                job.name,
                str(job.every),
                when(runs[job.name].started_at) if job.name in runs else "never",
                runs[job.name].outcome.value if job.name in runs else "",
                (runs[job.name].detail or "") if job.name in runs else "",
                job.description,
            ]
            for job in registry.all()
        ],
    )


@jobs.command("run")
@click.argument("name")
@inject
def run_job(name: str, scheduler: Scheduler = Provide[Container.scheduler]) -> None:
    """Run the job NAME now, outside its schedule (its scheduled runs go on as before).

    \b
    Example:
      circulate jobs run holds-expire
    """
    result = scheduler.run_now(name)
    shown = len(result) if isinstance(result, list) else result
    click.echo(f"{name}: {shown}")


@click.group(cls=ServiceGroup)
def notices() -> None:
    """Notices to members and their delivery."""


def message_json(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel.value,
        "topic": message.topic,
        "member_id": message.member_id,
        "subject_id": message.subject_id,
        "status": message.status.value,
        "attempts": message.attempts,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at,
        "delivered_at": message.delivered_at,
        "last_error": message.last_error,
    }


@notices.command("list")
@click.option("--member", "member_id", default=None, help="Only this member's (by id).")
@click.option(
    "--status",
    type=click.Choice([s.value for s in MessageStatus]),
    default=None,
    help="Only messages in this state.",
)
@page_options
@json_option
@inject
def list_notices(
    member_id: str | None,
    status: str | None,
    page: int,
    per_page: int,
    as_json: bool,
    log: NoticeLog = Provide[Container.notices],
) -> None:
    """Notices, newest first, with their delivery state.

    \b
    Example:
      circulate notices list --status failed
    """
    query = OutboxFilter(
        member_id=member_id,
        status=MessageStatus(status) if status else None,
        channel=Channel.EMAIL,
    )
    found = log.list(query, PageRequest(page=page, per_page=per_page))
    if as_json:
        print_json(page_json(found, message_json))
        return
    print_table(
        ["ID", "TOPIC", "MEMBER", "STATUS", "ATTEMPTS", "CREATED", "LAST ERROR"],
        [
            [
                m.id,
                m.topic,
                m.member_id or "",
                m.status.value,
                m.attempts,
                when(m.created_at),
                m.last_error or "",
            ]
            for m in found.items
        ],
        empty="No notices.",
    )
    print_page_footer(found, "notices")


@notices.command("preferences")
@click.argument("member_ref", metavar="MEMBER")
@click.option("--receipts/--no-receipts", default=None, help="Receipts at check-out and return.")
@click.option(
    "--overdue/--no-overdue",
    default=None,
    help="Overdue notices (off only where CIRCULATE_OVERDUE_NOTICE_OPT_OUT allows it).",
)
@json_option
@inject
def notice_preferences(
    member_ref: str,
    receipts: bool | None,
    overdue: bool | None,
    as_json: bool,
    membership: Membership = Provide[Container.library.membership],
    choices: NoticeChoices = Provide[Container.notice_choices],
) -> None:
    """Show a member's notice preferences (by id or email), or change the ones given.

    \b
    Example:
      circulate notices preferences ada@example.org --receipts
    """
    member = lookup.member(membership, member_ref)
    if receipts is not None or overdue is not None:
        wanted = NoticePreferences(
            receipts=member.notices.receipts if receipts is None else receipts,
            overdue=member.notices.overdue if overdue is None else overdue,
        )
        member = choices.choose(member.id, wanted)
    chosen = member.notices
    if as_json:
        print_json({"member_id": member.id, "receipts": chosen.receipts, "overdue": chosen.overdue})
        return
    click.echo(
        f"{member.email}: receipts {'on' if chosen.receipts else 'off'}, "
        f"overdue notices {'on' if chosen.overdue else 'off'}"
    )
