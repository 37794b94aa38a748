"""The installed ``circulate`` command, run as an administrator would, on a SQLite file."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CIRCULATE = Path(sys.executable).parent / "circulate"
PASSWORD = "a long enough admin passphrase"

CATALOGUE = """\
isbn,title,authors,year,publisher,copies
978-0-13-110362-7,The C Programming Language,Brian W. Kernighan;Dennis M. Ritchie,1988,PH,2
0-262-51087-1,Structure and Interpretation of Computer Programs,Abelson;Sussman,1996,MIT,1
9780131103628,Wrong check digit,Nobody,2000,,1
9780306406157,A Book With No Copies Yet,Ann Author,2001,,0
,No ISBN at all,Nobody,2000,,1
9780596007126,Head First Design Patterns,Freeman,two thousand four,,1
9780201633610,Design Patterns,Gamma;Helm;Johnson;Vlissides,1994,Addison-Wesley,3
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    if not CIRCULATE.exists():
        pytest.fail(f"{CIRCULATE} is missing: install the package (make install)")
    return tmp_path


@pytest.fixture
def env(workdir: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    environment["CIRCULATE_DATABASE_URL"] = f"sqlite:///{workdir / 'library.db'}"
    environment["CIRCULATE_LOG_LEVEL"] = "WARNING"
    return environment


def circulate(
    workdir: Path, env: dict[str, str], *args: str, stdin: str | None = None, status: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(CIRCULATE), *args],
        input=stdin,
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == status, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def test_an_administrator_sets_up_a_library_lends_returns_and_exports(
    workdir: Path, env: dict[str, str]
) -> None:
    circulate(workdir, env, "db", "upgrade")
    admin = circulate(
        workdir,
        env,
        "members",
        "create",
        "--email",
        "Admin@Example.org",
        "--name",
        "Ada Admin",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert admin.stdout.startswith("created Ada Admin <admin@example.org> (admin, active)")
    reader = json.loads(
        circulate(
            workdir,
            env,
            "members",
            "create",
            "--email",
            "reader@example.org",
            "--name",
            "Rita Reader",
            "--no-password",
            "--json",
        ).stdout
    )

    (workdir / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    imported = circulate(workdir, env, "books", "import", "catalogue.csv", status=1)
    assert imported.stdout.startswith(
        "added 4 books with 6 copies; 0 already in the catalogue; 3 rows rejected"
    )
    assert "line 4: INVALID_ISBN: " in imported.stderr
    assert "line 6: INVALID_VALUE: isbn is missing" in imported.stderr
    assert "line 7: INVALID_VALUE: year must be a whole number" in imported.stderr
    assert "import: 7 of 7 rows" in imported.stderr
    again = circulate(workdir, env, "books", "import", "catalogue.csv", "--json", status=1)
    assert json.loads(again.stdout)["already_present"] == 4

    loan = json.loads(
        circulate(
            workdir,
            env,
            "loans",
            "borrow",
            "--member",
            "reader@example.org",
            "--book",
            "9780131103627",
            "--json",
        ).stdout
    )
    listed = json.loads(circulate(workdir, env, "loans", "list", "--open", "--json").stdout)
    assert [item["id"] for item in listed["items"]] == [loan["id"]]
    refused = circulate(workdir, env, "members", "remove", "reader@example.org", "--yes", status=1)
    assert refused.stderr.startswith("Error: MEMBER_HAS_OPEN_LOANS: ")
    returned = circulate(workdir, env, "loans", "return", "9780131103627-1")
    assert returned.stdout.startswith(f"returned copy 9780131103627-1 (loan {loan['id']})")

    circulate(workdir, env, "books", "export", "--output", "export.csv")
    with (workdir / "export.csv").open(encoding="utf-8", newline="") as exported:
        rows = {row["isbn"]: row for row in csv.DictReader(exported)}
    assert set(rows) == {"9780131103627", "9780262510875", "9780306406157", "9780201633610"}
    assert rows["9780201633610"]["authors"] == "Gamma;Helm;Johnson;Vlissides"
    assert rows["9780131103627"]["copies"] == "2"
    assert rows["9780306406157"]["copies"] == "0"

    database = sqlite3.connect(workdir / "library.db")
    try:
        assert database.execute("SELECT count(*) FROM books").fetchone() == (4,)
        assert database.execute("SELECT count(*) FROM copies").fetchone() == (6,)
        assert database.execute(
            "SELECT member_id, returned_at IS NOT NULL, fine_cents FROM loans"
        ).fetchall() == [(reader["id"], 1, 0)]
        assert database.execute(
            "SELECT status FROM copies WHERE barcode = '9780131103627-1'"
        ).fetchone() == ("available",)
        role, password_hash = database.execute(
            "SELECT role, password_hash FROM members WHERE email = 'admin@example.org'"
        ).fetchone()
    finally:
        database.close()
    assert role == "admin"
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash


def test_a_reader_that_stops_early_ends_the_command_quietly(
    workdir: Path, env: dict[str, str]
) -> None:
    """`circulate ... | head -1`: the pipe closes before the command writes; status 0, no error."""
    env = {**env, "CIRCULATE_STORAGE": "memory"}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = subprocess.run(
            [str(CIRCULATE), "demo", "--books", "20", "--members", "5"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=env,
            cwd=workdir,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)

    assert done.returncode == 0, done.stderr
    assert "Broken pipe" not in done.stderr
    assert "Error" not in done.stderr
