"""``circulate books ...`` on the in-memory container: one book at a time, and whole files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from application.queries import BookFilter, PageRequest
from domain.catalogue import CopyStatus
from entrypoints.container import Container
from tests.cli.conftest import Cli

KR = "9780131103627"


def add(cli: Cli, isbn: str = KR, title: str = "The C Programming Language", *extra: str) -> str:
    result = cli("books", "add", "--isbn", isbn, "--title", title, "--json", *extra)
    assert result.exit_code == 0, result.output
    book_id: str = json.loads(result.stdout)["id"]
    return book_id


def test_add_with_copies_numbered_from_the_isbn(cli: Cli, container: Container) -> None:
    result = cli(
        "books",
        "add",
        "--isbn",
        "0-13-110362-8",
        "--title",
        "The C Programming Language",
        "--author",
        "Brian W. Kernighan",
        "--author",
        "Dennis M. Ritchie",
        "--year",
        "1988",
        "--copies",
        "2",
    )

    assert result.exit_code == 0, result.output
    assert f"copies: {KR}-1, {KR}-2" in result.stdout
    [book] = container.library.catalogue().search_books(BookFilter(), PageRequest()).items
    assert book.authors == ("Brian W. Kernighan", "Dennis M. Ritchie")
    assert [c.barcode for c in container.library.catalogue().list_copies(book.id)] == [
        f"{KR}-1",
        f"{KR}-2",
    ]


def test_add_with_explicit_barcodes(cli: Cli) -> None:
    result = cli(
        "books",
        "add",
        "--isbn",
        KR,
        "--title",
        "K&R",
        "--barcode",
        "A-1",
        "--barcode",
        "A-2",
        "--json",
    )

    assert result.exit_code == 0, result.output
    assert [c["barcode"] for c in json.loads(result.stdout)["copies"]] == ["A-1", "A-2"]


def test_add_refuses_a_bad_isbn_and_a_duplicate(cli: Cli) -> None:
    add(cli)

    bad = cli("books", "add", "--isbn", "123", "--title", "X")
    twice = cli("books", "add", "--isbn", KR, "--title", "Again", "--barcode", "Z-1")

    assert bad.exit_code == twice.exit_code == 1
    assert bad.stderr.startswith("Error: INVALID_ISBN: ")
    assert twice.stderr == f"Error: ISBN_ALREADY_EXISTS: a book with ISBN {KR} already exists\n"
    assert "Traceback" not in bad.output + twice.output


def test_list_show_and_remove(cli: Cli) -> None:
    book_id = add(cli, KR, "The C Programming Language", "--author", "Kernighan")
    add(cli, "9780306406157", "Another Book")

    listed = cli("books", "list", "--search", "programming")
    shown = cli("books", "show", KR)
    shown_json = json.loads(cli("books", "show", book_id, "--json").stdout)

    assert listed.exit_code == 0, listed.output
    assert [line.split()[1] for line in listed.stdout.splitlines()] == ["ISBN", KR]
    assert shown.exit_code == 0, shown.output
    assert "1 circulating: 1 available" in shown.stdout
    assert f"{KR}-1" in shown.stdout
    assert shown_json["availability"]["available"] == 1
    assert shown_json["copies"][0]["status"] == "available"

    removed = cli("books", "remove", KR, "--yes")
    assert removed.exit_code == 0, removed.output
    missing = cli("books", "show", KR)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("Error: BOOK_NOT_FOUND: ")


def test_list_json_is_the_api_envelope(cli: Cli) -> None:
    add(cli)

    body = json.loads(cli("books", "list", "--json").stdout)

    assert body["total"] == 1
    assert body["page"] == 1
    assert body["items"][0]["isbn"] == KR


def test_list_of_nothing_says_so(cli: Cli) -> None:
    result = cli("books", "list", "--search", "nothing")

    assert result.exit_code == 0
    assert result.stdout == "No books match.\n"


def test_remove_refuses_a_book_on_loan(cli: Cli) -> None:
    add(cli)
    cli("members", "create", "--email", "a@example.org", "--name", "A", "--no-password")
    assert cli("loans", "borrow", "--member", "a@example.org", "--book", KR).exit_code == 0

    result = cli("books", "remove", KR, "--yes")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: BOOK_HAS_OPEN_LOANS: ")


# --- import and export -------------------------------------------------------------------


GOOD_AND_BAD_CSV = """\
Title,Authors,ISBN,Year,Publisher,Copies
The C Programming Language,Brian W. Kernighan;Dennis M. Ritchie,978-0-13-110362-7,1988,Prentice,2
Bad check digit,Someone,9780131103628,2000,,1
"Quoted, with a comma",Ann Author,0-306-40615-2,2001,,1
,Nobody,9780262033848,2009,MIT,1
Year is words,X,9781492052203,nineteen,,1
Same ISBN again,X,9780131103627,1999,,1
Too many copies,X,9780596007126,2005,,5000
Future book,X,9780262510875,3000,,1
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_csv_loads_good_rows_and_reports_bad_ones(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    result = cli("books", "import", write(tmp_path, "books.csv", GOOD_AND_BAD_CSV))

    assert result.exit_code == 1  # some rows were rejected
    assert result.stdout.splitlines()[0] == (
        "added 2 books with 3 copies; 1 already in the catalogue; 5 rows rejected"
    )
    rejected = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert [line.split(":")[0] for line in rejected] == [
        "line 3",
        "line 5",
        "line 6",
        "line 8",
        "line 9",
    ]
    assert rejected[0].startswith("line 3: INVALID_ISBN: ")
    assert "title is missing" in rejected[1]
    assert "year must be a whole number" in rejected[2]
    assert "copies must be between 0 and 1000" in rejected[3]
    assert "year must be between" in rejected[4]
    catalogue = container.library.catalogue()
    [kr] = catalogue.search_books(BookFilter(isbn=KR), PageRequest()).items
    assert kr.title == "The C Programming Language"  # the first row with the ISBN wins
    assert kr.authors == ("Brian W. Kernighan", "Dennis M. Ritchie")
    assert kr.publisher == "Prentice"
    assert [c.barcode for c in catalogue.list_copies(kr.id)] == [f"{KR}-1", f"{KR}-2"]
    quoted = catalogue.search_books(BookFilter(isbn="9780306406157"), PageRequest()).items
    assert quoted[0].title == "Quoted, with a comma"


def test_importing_the_same_file_twice_adds_nothing(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    path = write(tmp_path, "books.csv", GOOD_AND_BAD_CSV)
    cli("books", "import", path)

    again = cli("books", "import", path, "--json")

    report = json.loads(again.stdout)
    assert (report["added"], report["copies_added"], report["already_present"]) == (0, 0, 3)
    assert len(report["rejected"]) == 5
    assert report["rejected"][0] == {
        "line": 3,
        "code": "INVALID_ISBN",
        "reason": "ISBN-13 '9780131103628' has a wrong check digit",
    }
    assert container.library.catalogue().search_books(BookFilter(), PageRequest()).total == 2


def test_import_in_small_batches_skips_duplicates_across_batches(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    rows = ["isbn,title,copies", f"{KR},First,1", "9780306406157,Second,0", f"{KR},Dup,1"]
    path = write(tmp_path, "books.csv", "\n".join(rows) + "\n")

    result = cli("books", "import", path, "--batch-size", "1")

    assert result.exit_code == 0, result.output
    assert "added 2 books with 1 copies; 1 already in the catalogue; 0 rows rejected" in (
        result.stdout
    )
    assert "import: 3 of 3 rows" in result.stderr  # plain progress when not a terminal
    assert "rows/s" in result.stderr


def test_import_jsonl(cli: Cli, container: Container, tmp_path: Path) -> None:
    lines = [
        json.dumps({"isbn": KR, "title": "K&R", "authors": ["Kernighan", "Ritchie"], "year": 1988}),
        "",
        json.dumps({"isbn": "9780306406157", "title": "T", "copies": 3, "subjects": ["maths"]}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"isbn": "9780262033848", "title": "T", "colour": "red"}),
        json.dumps({"isbn": "9780596007126", "title": "T", "authors": "one string"}),
        json.dumps({"isbn": "9781492052203", "title": "T", "copies": True}),
    ]
    path = write(tmp_path, "books.jsonl", "\n".join(lines) + "\n")

    result = cli("books", "import", path, "--json")

    report = json.loads(result.stdout)
    assert (report["added"], report["copies_added"]) == (2, 4)
    assert [(r["line"], r["reason"].split(":")[0]) for r in report["rejected"]] == [
        (4, "not valid JSON"),
        (5, "each line must be a JSON object"),
        (6, "unknown field(s)"),
        (7, "authors must be a list of names"),
        (8, "copies must be a whole number"),
    ]
    [book] = container.library.catalogue().search_books(BookFilter(isbn=KR), PageRequest()).items
    assert book.authors == ("Kernighan", "Ritchie")


def test_import_from_standard_input(cli: Cli) -> None:
    result = cli("books", "import", "-", "--format", "csv", input=f"isbn,title\n{KR},K&R\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1 books with 1 copies")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("isbn,name\n", "unknown column(s) 'name'"),
        ("title,year\n", "the header has no isbn column"),
        ("isbn,title,isbn\n", "a column is named twice"),
    ],
)
def test_an_unreadable_file_loads_nothing(
    cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    result = cli("books", "import", write(tmp_path, "books.csv", text))

    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.rstrip().endswith("nothing was imported")


def test_import_needs_a_format_it_can_tell(cli: Cli, tmp_path: Path) -> None:
    unknown = cli("books", "import", write(tmp_path, "books.txt", "isbn,title\n"))
    missing = cli("books", "import", str(tmp_path / "nope.csv"))

    assert unknown.exit_code == 2
    assert "--format" in unknown.stderr
    assert missing.exit_code == 1
    assert "nope.csv" in missing.stderr


def test_export_writes_what_import_reads(cli: Cli, container: Container, tmp_path: Path) -> None:
    cli("books", "import", write(tmp_path, "books.csv", GOOD_AND_BAD_CSV))
    catalogue = container.library.catalogue()
    [kr] = catalogue.search_books(BookFilter(isbn=KR), PageRequest()).items
    lost = catalogue.list_copies(kr.id)[0]
    catalogue.mark_copy_lost(lost.id)

    exported = cli("books", "export")

    assert exported.exit_code == 0, exported.output
    assert "exported 2 books" in exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert rows[0] == {
        "isbn": KR,
        "title": "The C Programming Language",
        "authors": "Brian W. Kernighan;Dennis M. Ritchie",
        "publisher": "Prentice",
        "year": "1988",
        "copies": "1",  # the lost copy is not counted
        "subjects": "",
    }
    assert catalogue.get_copy(lost.id).status is CopyStatus.LOST

    target = tmp_path / "catalogue.jsonl"
    assert cli("books", "export", "--output", str(target)).exit_code == 0
    first = json.loads(target.read_text().splitlines()[0])
    assert first["authors"] == ["Brian W. Kernighan", "Dennis M. Ritchie"]
    assert first["copies"] == 1


def test_an_export_imports_into_an_empty_catalogue(
    cli: Cli, container: Container, tmp_path: Path
) -> None:
    cli("books", "import", write(tmp_path, "books.csv", GOOD_AND_BAD_CSV))
    target = tmp_path / "out.jsonl"
    cli("books", "export", "-o", str(target))
    for book in container.library.catalogue().search_books(BookFilter(), PageRequest()).items:
        container.library.catalogue().remove_book(book.id)

    result = cli("books", "import", str(target))

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 2 books with 3 copies; 0 already")


def test_every_books_command_has_help_with_an_example(cli: Cli) -> None:
    for command in ("add", "list", "show", "remove", "import", "export"):
        result = cli("books", command, "--help")
        assert result.exit_code == 0, command
        assert "Example" in result.stdout, command
        assert "circulate books" in result.stdout, command
