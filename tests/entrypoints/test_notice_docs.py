"""The notices page and the compose file keep up with the code: event types, jobs, the worker."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from application.webhooks import EVENT_TYPES
from entrypoints.jobs import scheduled_jobs

ROOT = Path(__file__).resolve().parents[2]
NOTICES = (ROOT / "docs" / "notices.md").read_text()


def _first_column(heading: str) -> set[str]:
    """The backquoted names in the first column of the table under ``heading``'s header row."""
    table = NOTICES.split(heading, 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([a-z._-]+)` \|", table, re.MULTILINE))


def test_every_event_type_is_documented() -> None:
    assert _first_column("| Event type | When | `data` |") == set(EVENT_TYPES)


def test_every_scheduled_job_is_documented() -> None:
    jobs = scheduled_jobs(
        expire_holds=list,
        send_reminders=list,
        send_pickup_reminders=list,
        purge_sessions=list,
        age_to_lost=list,
        anonymise_loans=list,
        purge_outbox=list,
        keep_title_blocks=list,  # registered only over a database
    )

    assert _first_column("| Job | Every | What |") == {job.name for job in jobs.all()}


def test_compose_runs_the_worker_after_the_migrations_with_the_api_s_settings() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]

    worker = services["worker"]
    assert worker["command"] == ["circulate", "worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["environment"] == services["api"]["environment"]
