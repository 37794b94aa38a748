"""``circulate books ...``: the catalogue, one book at a time or a whole file at once."""

from __future__ import annotations

import sys

import click
from dependency_injector.wiring import Provide, inject

from application.catalogue import (
    BookDetails,
    Catalogue,
    ImportReport,
    copy_barcode,
)
from application.circulation import Circulation
from application.queries import BookFilter, BookSort, PageRequest
from domain.isbn import normalise_isbn
from entrypoints.cli import lookup
from entrypoints.cli.command import ServiceGroup
from entrypoints.cli.importing import FileFormat, read_records, write_entries
from entrypoints.cli.loading import (
    DEFAULT_BATCH,
    MAX_BATCH,
    chosen_format,
    load_file,
    print_rejections,
)
from entrypoints.cli.output import (
    json_option,
    page_json,
    page_options,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
)
from entrypoints.cli.views import availability_json, book_json, copy_json, import_report_json
from entrypoints.container import Container

FORMATS = click.Choice([f.value for f in FileFormat], case_sensitive=False)


@click.group(cls=ServiceGroup)
def books() -> None:
    """Add, find and remove books; import and export the catalogue."""


@books.command()
@click.option("--isbn", required=True, help="ISBN-13, or ISBN-10 (converted).")
@click.option("--title", required=True)
@click.option("--author", "authors", multiple=True, help="An author; repeat for several.")
@click.option("--publisher")
@click.option("--year", type=int)
@click.option("--subject", "subjects", multiple=True, help="A subject; repeat for several.")
@click.option(
    "--copies",
    type=click.IntRange(0, 1000),
    default=None,
    help="Copies to add, with barcodes <isbn>-1, <isbn>-2, ... [default: 1].",
)
@click.option("--barcode", "barcodes", multiple=True, help="A copy's barcode; repeat for several.")
@json_option
@inject
def add(
    isbn: str,
    title: str,
    authors: tuple[str, ...],
    publisher: str | None,
    year: int | None,
    subjects: tuple[str, ...],
    copies: int | None,
    barcodes: tuple[str, ...],
    as_json: bool,
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Add a book and its copies.

    \b
    Example:
      circulate books add --isbn 978-0-13-110362-7 --title "The C Programming Language" \\
          --author "Brian W. Kernighan" --author "Dennis M. Ritchie" --year 1988 --copies 2
    """
    if copies is not None and barcodes:
        raise click.UsageError("give --copies or --barcode, not both")
    if not barcodes:
        normalised = normalise_isbn(isbn)
        barcodes = tuple(copy_barcode(normalised, n) for n in range(1, (copies or 1) + 1))
    new = catalogue.add_book(
        BookDetails(
            isbn=isbn,
            title=title,
            authors=authors,
            publisher=publisher,
            year=year,
            subjects=subjects,
        ),
        barcodes=barcodes,
    )
    if as_json:
        print_json({**book_json(new.book), "copies": [copy_json(c) for c in new.copies]})
        return
    codes = ", ".join(c.barcode for c in new.copies) or "none"
    click.echo(
        f"added {new.book.title!r} (ISBN {new.book.isbn}) id {new.book.id}; "
        f"{len(new.copies)} copies: {codes}"
    )


@books.command("list")
@click.option("--search", "q", help="Words that must all appear in the title or authors.")
@click.option("--author", help="Part of one author's name.")
@click.option("--isbn", help="Exactly this ISBN.")
@click.option(
    "--available/--unavailable",
    default=None,
    help="Only books with (or without) a copy on the shelf.",
)
@click.option(
    "--sort",
    type=click.Choice([s.value for s in BookSort]),
    default=BookSort.TITLE.value,
    show_default=True,
)
@page_options
@json_option
@inject
def list_books(
    q: str | None,
    author: str | None,
    isbn: str | None,
    available: bool | None,
    sort: str,
    page: int,
    per_page: int,
    as_json: bool,
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Find books.

    \b
    Example:
      circulate books list --search "dune" --available
      circulate books list --author herbert --sort -year --json
    """
    query = BookFilter(q=q, author=author, isbn=isbn, available=available, sort=BookSort(sort))
    result = catalogue.search_books(query, PageRequest(page, per_page))
    if as_json:
        print_json(page_json(result, book_json))
        return
    print_table(
        ["ID", "ISBN", "TITLE", "AUTHORS", "YEAR"],
        ([b.id, b.isbn, b.title, b.authors, b.year] for b in result.items),
        empty="No books match.",
    )
    print_page_footer(result, "books")


@books.command()
@click.argument("book_ref", metavar="BOOK")
@json_option
@inject
def show(
    book_ref: str,
    as_json: bool,
    catalogue: Catalogue = Provide[Container.library.catalogue],
    circulation: Circulation = Provide[Container.library.circulation],
) -> None:
    """Show a book (by id or ISBN), its copies and what is available.

    \b
    Example:
      circulate books show 9780131103627
    """
    book = lookup.book(catalogue, book_ref)
    copies = catalogue.list_copies(book.id)
    availability = circulation.availability(book.id)
    if as_json:
        print_json(
            {
                "book": book_json(book),
                "copies": [copy_json(c) for c in copies],
                "availability": availability_json(availability),
            }
        )
        return
    print_fields(
        [
            ("id", book.id),
            ("isbn", book.isbn),
            ("title", book.title),
            ("authors", book.authors),
            ("publisher", book.publisher),
            ("year", book.year),
            ("subjects", book.subjects),
            (
                "copies",
                f"{availability.copies} circulating: {availability.available} available, "
                f"{availability.on_loan} on loan, {availability.on_hold_shelf} on the hold shelf",
            ),
            ("holds waiting", availability.holds_waiting),
        ]
    )
    if copies:
        click.echo()
        print_table(["COPY", "BARCODE", "STATUS"], ([c.id, c.barcode, c.status] for c in copies))


@books.command()
@click.argument("book_ref", metavar="BOOK")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@inject
def remove(
    book_ref: str, yes: bool, catalogue: Catalogue = Provide[Container.library.catalogue]
) -> None:
    """Remove a book with its copies, holds and loan history; refused while a copy is on loan.

    \b
    Example:
      circulate books remove 9780131103627 --yes
    """
    book = lookup.book(catalogue, book_ref)
    if not yes:
        click.confirm(f"Remove {book.title!r} (ISBN {book.isbn}) and its copies?", abort=True)
    catalogue.remove_book(book.id)
    click.echo(f"removed {book.title!r} (ISBN {book.isbn})")


@books.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "file_format",
    type=FORMATS,
    help="csv or jsonl [default: from the file name's extension].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=DEFAULT_BATCH,
    show_default=True,
    help="Rows loaded per transaction.",
)
@json_option
@inject
def import_books(
    file: str,
    file_format: str | None,
    batch_size: int,
    as_json: bool,
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Load books and copies from a CSV or JSON Lines file (- for standard input).

    Every row is checked; bad rows are reported with their line numbers and reasons, and the
    good ones are loaded in batches, one transaction each (an interrupted import keeps the
    batches it finished, never part of one). Books whose ISBN is already in the
    catalogue are skipped, so importing a file twice adds nothing the second time. Exits with
    status 1 if any row was rejected.

    \b
    CSV columns (header row required, any order): isbn, title, authors (separated by ;),
    publisher, year, copies (default 1), subjects (separated by ;).
    JSON Lines: one object per line with the same keys; authors and subjects as lists.

    \b
    Example:
      circulate books import catalogue.csv
      circulate books export --format jsonl | circulate books import - --format jsonl
    """
    report = load_file(
        file,
        chosen_format(file, file_format),
        batch_size,
        read_records,
        catalogue.prepare_books,
        catalogue.store_books,
        ImportReport(),
    )
    if as_json:
        print_json(import_report_json(report))
    else:
        click.echo(
            f"added {report.added} books with {report.copies_added} copies; "
            f"{report.already_present} already in the catalogue; "
            f"{len(report.rejected)} rows rejected"
        )
        print_rejections(report.rejected)
    if report.rejected:
        raise click.exceptions.Exit(1)


@books.command("export")
@click.option(
    "--format",
    "file_format",
    type=FORMATS,
    help="csv or jsonl [default: from --output's extension, else csv].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (replaced only once complete) instead of standard output.",
)
@inject
def export(
    file_format: str | None,
    output: str | None,
    catalogue: Catalogue = Provide[Container.library.catalogue],
) -> None:
    """Write the whole catalogue, with each book's number of copies, as CSV or JSON Lines.

    The output is what `circulate books import` reads, so an export can be loaded into another
    Circulate. Copies that are lost or withdrawn are not counted.

    \b
    Example:
      circulate books export --output catalogue.csv
      circulate books export --format jsonl > catalogue.jsonl
    """
    chosen = (
        FileFormat(file_format.lower())
        if file_format
        else (FileFormat.for_name(output) if output else None) or FileFormat.CSV
    )
    entries = (entry for page in catalogue.catalogue_pages() for entry in page)
    if output is None:
        written = write_entries(sys.stdout, entries, chosen)
        sys.stdout.flush()
    else:
        with click.open_file(output, "w", encoding="utf-8", atomic=True) as stream:
            written = write_entries(stream, entries, chosen)
    where = "" if output is None else f" to {output}"
    click.echo(f"exported {written} books{where}", err=True)
