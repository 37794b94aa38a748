"""What ``books import`` and ``members import`` share: reading a file in batches, loading each
batch in its own transaction, and reporting rejected rows by line.

Batches go through two stages: *prepare* (parse, validate by the domain, make the entities:
Python work) and *store* (one transaction: mostly the database's work). While one batch is
being stored on a worker thread, the next one is read and prepared, so the two overlap instead
of taking turns. Batches are stored one at a time, in file order; an interrupted load finishes
(or abandons, whole) the batch being stored and starts no other.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from itertools import islice
from pathlib import Path
from typing import IO, Protocol, Self, TypeVar

import click

from application.loading import RejectedRecord
from entrypoints.cli.importing import BadFile, FileFormat
from entrypoints.cli.progress import progress

T = TypeVar("T")
# Rejected rows listed on a terminal; ``--json`` lists every one.
SHOWN_REJECTIONS = 50
DEFAULT_BATCH = 10_000
MAX_BATCH = 100_000


class Report(Protocol):
    rejected: list[RejectedRecord]

    def include(self, other: Self) -> None: ...


Rep = TypeVar("Rep", bound=Report)
Rec = TypeVar("Rec")
Prep = TypeVar("Prep")


def chosen_format(file: str, file_format: str | None) -> FileFormat:
    chosen = FileFormat(file_format.lower()) if file_format else FileFormat.for_name(file)
    if chosen is None:
        raise click.UsageError(
            f"cannot tell the format of {file!r} from its name; give --format csv or jsonl"
        )
    return chosen


def load_file(
    file: str,
    file_format: FileFormat,
    batch_size: int,
    read: Callable[[IO[str], FileFormat], Iterator[Rec | RejectedRecord]],
    prepare: Callable[[list[Rec]], Prep],
    store: Callable[[Prep], Rep],
    report: Rep,
) -> Rep:
    """Read ``file`` ``batch_size`` rows at a time, ``prepare`` and ``store`` each batch, and
    gather what was done into ``report``; rows the reader rejects are added to it, and its
    rejections end sorted by line."""
    with _open_text(file) as stream:
        total = _data_lines(file, file_format)
        try:
            with progress("import", total) as advance, ThreadPoolExecutor(1) as storing:
                pending: tuple[Future[Rep], int] | None = None
                for batch in _batches(read(stream, file_format), batch_size):
                    records = [row for row in batch if not isinstance(row, RejectedRecord)]
                    report.rejected.extend(row for row in batch if isinstance(row, RejectedRecord))
                    prepared = prepare(records) if records else None
                    if pending is not None:
                        _finish(pending, report, advance)
                        pending = None
                    if prepared is None:
                        advance(len(batch))
                    else:
                        # In this command's context: the batch is audited as its actor and
                        # request, which a thread of the pool would not know otherwise.
                        stored = storing.submit(copy_context().run, store, prepared)
                        pending = (stored, len(batch))
                if pending is not None:
                    _finish(pending, report, advance)
        except BadFile as error:
            raise click.ClickException(f"{file}: {error}; nothing was imported") from error
    report.rejected.sort(key=lambda row: row.line)
    return report


def _finish(pending: tuple[Future[Rep], int], report: Rep, advance: Callable[[int], None]) -> None:
    """Wait for a batch being stored; a failure to store it ends the load, here."""
    stored, rows = pending
    report.include(stored.result())
    advance(rows)


def print_rejections(rejected: list[RejectedRecord]) -> None:
    """``line N: CODE: reason`` on standard error, the first ``SHOWN_REJECTIONS`` of them."""
    for row in rejected[:SHOWN_REJECTIONS]:
        click.echo(f"line {row.line}: {row.code}: {row.reason}", err=True)
    hidden = len(rejected) - SHOWN_REJECTIONS
    if hidden > 0:
        click.echo(f"... and {hidden} more rejected rows (--json lists them all)", err=True)


def _open_text(file: str) -> IO[str]:
    # newline="": the csv module handles line endings itself, including inside quoted fields;
    # utf-8-sig: spreadsheets often start a CSV file with a byte-order mark.
    if file == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        return open(file, encoding="utf-8-sig", newline="")
    except OSError as error:
        raise click.FileError(file, error.strerror) from error


def _data_lines(file: str, file_format: FileFormat) -> int | None:
    """About how many rows the file holds (its line count), for the progress bar."""
    if file == "-":
        return None
    path = Path(file)
    with path.open("rb") as raw:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
    if path.stat().st_size and not _ends_with_newline(path):
        lines += 1
    return max(lines - 1, 0) if file_format is FileFormat.CSV else lines


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as raw:
        raw.seek(-1, 2)
        return raw.read(1) == b"\n"


def _batches(rows: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(rows, size)):
        yield batch
