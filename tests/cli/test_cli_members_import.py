"""``circulate members import``: patrons from CSV and JSON Lines, reported line by line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.clock import ManualClock
from application.queries import MemberFilter, PageRequest
from domain.members import Role
from entrypoints.container import Container
from tests.cli.conftest import Cli

PATRONS_CSV = """\
Email,Name,Role,Expires_On
ada@example.org,Ada Lovelace,,2030-01-01
not-an-email,Someone,,
grace@example.org,Grace Hopper,Librarian,
ADA@EXAMPLE.ORG,Ada Again,,
x@example.org,,,
y@example.org,Y,wizard,
z@example.org,Z,,2030-13-01
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def members_of(container: Container) -> dict[str, tuple[str, Role, str | None]]:
    page = container.library.membership().list(MemberFilter(), PageRequest(1, 100))
    return {m.email: (m.name, m.role, m.password_hash) for m in page.items}


def test_import_csv_registers_good_rows_and_reports_bad_ones_by_line(
    cli: Cli, container: Container, clock: ManualClock, tmp_path: Path
) -> None:
    result = cli("members", "import", write(tmp_path, "patrons.csv", PATRONS_CSV))

    assert result.exit_code == 1  # some rows were rejected
    assert result.stdout.splitlines()[0] == (
        "added 2 members; 1 already registered; 4 rows rejected"
    )
    rejected = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert rejected == [
        "line 3: INVALID_VALUE: 'not-an-email' is not a valid email address",
        "line 6: INVALID_VALUE: name is missing",
        "line 7: INVALID_VALUE: role must be one of member, librarian, admin, not 'wizard'",
        "line 8: INVALID_VALUE: expires_on must be a date (YYYY-MM-DD), not '2030-13-01'",
    ]
    # The first row with an email wins; nobody has a password until one is set.
    assert members_of(container) == {
        "ada@example.org": ("Ada Lovelace", Role.MEMBER, None),
        "grace@example.org": ("Grace Hopper", Role.LIBRARIAN, None),
    }
    ada = container.library.membership().find_by_email("ada@example.org")
    grace = container.library.membership().find_by_email("grace@example.org")
    assert ada is not None
    assert grace is not None
    assert ada.membership_expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    assert grace.membership_expires_at == clock.now() + container.policy().membership_period


def test_importing_the_same_file_twice_adds_nothing(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    path = write(tmp_path, "patrons.csv", PATRONS_CSV)
    cli("members", "import", path)
    before = members_of(container)

    again = cli("members", "import", path, "--json", "--batch-size", "2")

    report = json.loads(again.stdout)
    assert (report["added"], report["already_present"]) == (0, 3)
    assert [row["line"] for row in report["rejected"]] == [3, 6, 7, 8]
    assert report["rejected"][0]["code"] == "INVALID_VALUE"
    assert members_of(container) == before


def test_import_jsonl(cli: Cli, container: Container, tmp_path: Path) -> None:
    lines = [
        json.dumps({"email": "ada@example.org", "name": "Ada", "role": "admin"}),
        "",
        json.dumps({"email": "bob@example.org", "name": "Bob", "expires_on": "2031-05-06"}),
        "{not json",
        json.dumps({"email": "c@example.org", "name": "C", "colour": "red"}),
        json.dumps({"email": "d@example.org", "name": "D", "password": "hunter2"}),
        json.dumps({"email": "e@example.org", "name": 5}),
    ]
    path = write(tmp_path, "patrons.jsonl", "\n".join(lines) + "\n")

    result = cli("members", "import", path, "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["added"] == 2
    assert [(r["line"], r["reason"].split(":")[0]) for r in report["rejected"]] == [
        (4, "not valid JSON"),
        (5, "unknown field(s)"),
        (6, "a file of members holds no passwords"),
        (7, "name must be text"),
    ]
    assert members_of(container)["ada@example.org"] == ("Ada", Role.ADMIN, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("email,name,password\n", "a file of members holds no passwords"),
        ("email,name,shoe_size\n", "unknown column(s) 'shoe_size'"),
        ("name\n", "the header has no email column"),
    ],
)
def test_an_unreadable_file_registers_nobody(
    cli: Cli, container: Container, tmp_path: Path, text: str, message: str
) -> None:
    result = cli("members", "import", write(tmp_path, "patrons.csv", text))

    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.rstrip().endswith("nothing was imported")
    assert members_of(container) == {}


def test_import_from_standard_input(cli: Cli, container: Container) -> None:
    result = cli(
        "members", "import", "-", "--format", "csv", input="email,name\nada@example.org,Ada\n"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1 members; 0 already registered; 0 rows rejected")
    assert list(members_of(container)) == ["ada@example.org"]


def test_import_has_help_with_an_example(cli: Cli) -> None:
    result = cli("members", "import", "--help")

    assert result.exit_code == 0
    assert "circulate members import" in result.stdout
    assert "no passwords" in result.stdout


def test_card_numbers_in_the_file_are_kept_as_printed_or_refused(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    cards = """\
email,name,card_number
ada@example.org,Ada Lovelace,lib 0001
grace@example.org,Grace Hopper,LIB-0001
alan@example.org,Alan Turing,
edsger@example.org,Edsger Dijkstra,a/b
"""
    result = cli("members", "import", write(tmp_path, "cards.csv", cards))

    assert result.stdout.splitlines()[0] == "added 2 members; 0 already registered; 2 rows rejected"
    rejected = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[:2] for line in rejected] == [
        ["line 3", " CARD_NUMBER_TAKEN"],
        ["line 5", " INVALID_VALUE"],
    ]
    membership = container.library.membership()
    assert membership.get_by_card_number("LIB0001").email == "ada@example.org"
    alan = membership.find_by_email("alan@example.org")
    assert alan is not None
    assert len(alan.card_number) == 14
