"""``circulate worker --once``, ``jobs`` and ``notices`` on the in-memory container."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.clock import ManualClock
from entrypoints.container import Container
from tests.cli.conftest import Cli

KR = "9780131103627"


def test_a_worker_round_runs_the_jobs_once_and_sends_the_reminders(
    cli: Cli, clock: ManualClock, container: Container
) -> None:
    assert cli("books", "add", "--isbn", KR, "--title", "K&R").exit_code == 0
    member = ("--email", "ada@example.org", "--name", "Ada", "--no-password")
    assert cli("members", "create", *member).exit_code == 0
    lent = cli("loans", "borrow", "--member", "ada@example.org", "--book", KR, "--json")
    assert lent.exit_code == 0, lent.output
    clock.advance(timedelta(days=20))

    first = cli("worker", "--once")
    again = cli("worker", "--once")

    assert first.output.startswith(
        "ran holds-expire, loans-age-to-lost, loans-anonymise, notices-pickup, notices-reminders, "
        "outbox-purge, sessions-purge;"
    )
    assert "delivered 1," in first.output  # the email (the loan's event has no webhook)
    assert again.output.startswith("ran no job;")
    [sent] = container.notifier().sent
    assert sent.to == "ada@example.org"
    listed = json.loads(cli("notices", "list", "--json").output)
    assert [(n["topic"], n["status"]) for n in listed["items"]] == [("due_soon", "delivered")]
    jobs = json.loads(cli("jobs", "list", "--json").output)["items"]
    assert {j["name"]: j["last_run"]["outcome"] for j in jobs} == {
        "holds-expire": "done",
        "loans-age-to-lost": "done",
        "loans-anonymise": "done",
        "notices-pickup": "done",
        "notices-reminders": "done",
        "outbox-purge": "done",
        "sessions-purge": "done",
    }


def test_jobs_run_names_a_job_and_refuses_an_unknown_one(cli: Cli) -> None:
    ran = cli("jobs", "run", "holds-expire")
    unknown = cli("jobs", "run", "nope")

    assert (ran.exit_code, ran.output) == (0, "holds-expire: 0\n")
    assert unknown.exit_code == 1
    assert "JOB_NOT_FOUND" in unknown.output


def test_staff_show_and_change_a_member_s_notice_preferences(cli: Cli) -> None:
    member = ("--email", "ada@example.org", "--name", "Ada", "--no-password")
    assert cli("members", "create", *member).exit_code == 0

    shown = cli("notices", "preferences", "ada@example.org")
    changed = cli("notices", "preferences", "ada@example.org", "--receipts", "--json")
    refused = cli("notices", "preferences", "ada@example.org", "--no-overdue")

    assert shown.output == "ada@example.org: receipts off, overdue notices on\n"
    assert {k: v for k, v in json.loads(changed.output).items() if k != "member_id"} == {
        "receipts": True,
        "overdue": True,
    }
    assert refused.exit_code == 1
    assert "OVERDUE_NOTICES_REQUIRED" in refused.output
    again = cli("notices", "preferences", "ada@example.org")
    assert again.output == "ada@example.org: receipts on, overdue notices on\n"


def test_webhook_deliveries_are_listed_with_their_state(cli: Cli, container: Container) -> None:
    assert cli("books", "add", "--isbn", KR, "--title", "K&R").exit_code == 0
    member = ("--email", "ada@example.org", "--name", "Ada", "--no-password")
    assert cli("members", "create", *member).exit_code == 0
    assert cli("loans", "borrow", "--member", "ada@example.org", "--book", KR).exit_code == 0
    container.worker().tick()  # no subscription: the event is cancelled, not retried

    listed = json.loads(cli("webhooks", "deliveries", "--event", "loan.created", "--json").output)
    unknown = cli("webhooks", "deliveries", "--event", "loan.misplaced")

    [delivery] = listed["items"]
    assert (delivery["topic"], delivery["status"]) == ("loan.created", "cancelled")
    assert delivery["last_error"] == "no webhook subscribed to this event"
    assert unknown.exit_code == 2
