"""``circulate categories``, ``item-types`` and ``rules`` on the in-memory container."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli

DVD_ISBN = "9780131103627"


def ok(cli: Cli, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_dvd_library_from_the_command_line(cli: Cli) -> None:
    ok(cli, "item-types", "add", "dvd", "--name", "DVD")
    ok(cli, "categories", "add", "child", "--name", "Child", "--loan-limit", "3")
    added = json.loads(
        ok(
            cli,
            "rules",
            "add",
            "--item-type",
            "dvd",
            "--loan-days",
            "7",
            "--max-loans",
            "2",
            "--json",
        )
    )
    assert (added["member_category"], added["item_type"], added["loan_days"]) == ("any", "dvd", 7)
    assert added["max_loans"] == 2
    ok(cli, "books", "add", "--isbn", DVD_ISBN, "--title", "A Film", "--copies", "1")
    ok(cli, "item-types", "assign", "--copy", f"{DVD_ISBN}-1", "dvd")
    ok(cli, "members", "create", "--email", "kid@example.org", "--name", "Kid", "--no-password")
    ok(cli, "categories", "assign", "kid@example.org", "child")

    explained = json.loads(
        ok(
            cli,
            "rules",
            "resolve",
            "--member",
            "kid@example.org",
            "--copy",
            f"{DVD_ISBN}-1",
            "--json",
        )
    )
    assert (explained["member_category"], explained["item_type"]) == ("child", "dvd")
    assert explained["rule"]["id"] == added["id"]
    assert explained["candidates"] == [added["id"], "default"]

    listed = json.loads(ok(cli, "rules", "list", "--json"))
    assert [r["id"] for r in listed] == ["default", added["id"]]
    assert "child" in ok(cli, "categories", "list")


def test_changing_the_default_rule_and_refusals(cli: Cli) -> None:
    changed = json.loads(ok(cli, "rules", "change", "default", "--loan-days", "28", "--json"))
    assert changed["loan_days"] == 28
    removed = cli("rules", "remove", "default")
    assert removed.exit_code != 0
    assert "CIRCULATION_RULE_CONFLICT" in removed.output
    contradictory = cli("rules", "change", "default", "--no-holds-allowed", "--max-holds", "2")
    assert contradictory.exit_code != 0
    assert "max_holds" in contradictory.output
    retired = cli("categories", "retire", "standard")
    assert retired.exit_code != 0
    ok(cli, "item-types", "add", "map", "--name", "Map")
    ok(cli, "item-types", "retire", "map")
    assert json.loads(ok(cli, "item-types", "list", "--json"))[1]["retired_at"] is not None


def test_the_calendar_from_the_command_line(cli: Cli) -> None:
    assert "closed every sunday" in ok(cli, "calendar", "close", "--weekday", "sunday")
    closed = ok(cli, "calendar", "close", "--date", "2030-12-25", "--note", "Christmas")
    closure_id = closed.strip().rsplit(" ", 1)[-1].rstrip(")")
    listed = json.loads(ok(cli, "calendar", "list", "--json"))
    assert [(c["date"], c["weekday"], c["note"]) for c in listed] == [
        (None, "sunday", ""),
        ("2030-12-25", None, "Christmas"),
    ]
    ok(cli, "calendar", "reopen", closure_id)
    assert len(json.loads(ok(cli, "calendar", "list", "--json"))) == 1
    twice = cli("calendar", "close", "--weekday", "sunday")
    assert twice.exit_code != 0
    assert "CIRCULATION_RULE_CONFLICT" in twice.output
