"""Files to load: CSV and JSON Lines, read into records for the import use cases. Catalogue
files are written back by the export, in the same shape, so an export can be imported again.

CSV: a header row names the columns, in any order and any case. JSON Lines: one object per line
with the same keys. Blank lines are ignored in both.

- Books: ``isbn`` and ``title`` are required; ``authors`` (separated by ``;`` in CSV, a list in
  JSON), ``publisher``, ``year``, ``copies`` (default 1) and ``subjects`` (like ``authors``) are
  optional.
- Members: ``email`` and ``name`` are required; ``role`` (member, librarian or admin; default
  member) and ``expires_on`` (``YYYY-MM-DD``, the day the membership ends, UTC; default one
  membership period) are optional. A file of members holds no passwords.

Here only the shape of each row is checked (a number where a number belongs, no unknown
fields); what the values mean (a valid ISBN, a title that is not empty, a plausible year) is the
domain's business, checked by the use case.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any, Generic, TypeVar

from application.catalogue import BookDetails, CatalogueEntry, CatalogueRecord
from application.loading import RejectedRecord
from application.members import MemberRecord
from domain.errors import InvalidValue

COLUMNS = ("isbn", "title", "authors", "publisher", "year", "copies", "subjects")
REQUIRED = frozenset({"isbn", "title"})
MEMBER_COLUMNS = ("email", "name", "role", "expires_on", "card_number")
MEMBER_REQUIRED = frozenset({"email", "name"})
LIST_SEPARATOR = ";"
DATE_FORMAT = "%Y-%m-%d"
_INVALID = InvalidValue.code

R = TypeVar("R")


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def for_name(cls, filename: str) -> FileFormat | None:
        """The format a file's extension names, if any."""
        lowered = filename.lower()
        if lowered.endswith(".csv"):
            return cls.CSV
        if lowered.endswith((".jsonl", ".ndjson")):
            return cls.JSONL
        return None


class BadFile(Exception):
    """The file as a whole cannot be read (no header, unknown columns): nothing is loaded."""


Row = CatalogueRecord | RejectedRecord
MemberRow = MemberRecord | RejectedRecord


@dataclass(frozen=True, slots=True)
class _Shape(Generic[R]):
    """What the rows of one kind of file hold, and how one row's fields become a record."""

    columns: tuple[str, ...]
    required: frozenset[str]
    lists: frozenset[str]  # columns that hold several names (separated by ``;`` in CSV)
    record: Callable[[int, dict[str, Any]], R | RejectedRecord]
    refused: dict[str, str]  # column -> why a file may not have it


def read_records(stream: IO[str], file_format: FileFormat) -> Iterator[Row]:
    """Every data row of a catalogue file as a record to load or a row rejected with its
    reason."""
    return _read(stream, file_format, _BOOKS)


def read_member_records(stream: IO[str], file_format: FileFormat) -> Iterator[MemberRow]:
    """Every data row of a file of members as a record to load or a row rejected with its
    reason."""
    return _read(stream, file_format, _MEMBERS)


def _read(
    stream: IO[str], file_format: FileFormat, shape: _Shape[R]
) -> Iterator[R | RejectedRecord]:
    if file_format is FileFormat.CSV:
        return _read_csv(stream, shape)
    return _read_jsonl(stream, shape)


def _read_csv(stream: IO[str], shape: _Shape[R]) -> Iterator[R | RejectedRecord]:
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BadFile("the file is empty: a CSV file starts with a header row") from None
    except csv.Error as error:
        raise BadFile(f"line 1: {error}") from None
    names = [name.strip().lower() for name in header]
    for name in names:
        if name in shape.refused:
            raise BadFile(shape.refused[name])
    unknown = [name for name in names if name not in shape.columns]
    if unknown:
        raise BadFile(
            f"unknown column(s) {', '.join(map(repr, unknown))} in the header; "
            f"the columns are {', '.join(shape.columns)}"
        )
    missing = shape.required - set(names)
    if missing:
        raise BadFile(f"the header has no {' or '.join(sorted(missing))} column")
    if len(set(names)) != len(names):
        raise BadFile("a column is named twice in the header")
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RejectedRecord(line, _INVALID, f"not valid CSV: {error}")
            continue
        if not cells or cells == [""]:
            continue
        if len(cells) != len(names):
            yield RejectedRecord(
                line, _INVALID, f"the row has {len(cells)} fields; the header names {len(names)}"
            )
            continue
        fields: dict[str, Any] = {}
        for name, cell in zip(names, cells, strict=True):
            value = cell.strip()
            if name in shape.lists:
                fields[name] = [part.strip() for part in value.split(LIST_SEPARATOR)]
            else:
                fields[name] = value or None
        yield shape.record(line, fields)


def _read_jsonl(stream: IO[str], shape: _Shape[R]) -> Iterator[R | RejectedRecord]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            fields = json.loads(text)
        except json.JSONDecodeError as error:
            yield RejectedRecord(line, _INVALID, f"not valid JSON: {error.msg}")
            continue
        if not isinstance(fields, dict):
            yield RejectedRecord(line, _INVALID, "each line must be a JSON object")
            continue
        refused = sorted(set(fields) & set(shape.refused))
        if refused:
            yield RejectedRecord(line, _INVALID, shape.refused[refused[0]])
            continue
        unknown = sorted(set(fields) - set(shape.columns))
        if unknown:
            yield RejectedRecord(line, _INVALID, f"unknown field(s): {', '.join(unknown)}")
            continue
        yield shape.record(line, fields)


def _record(line: int, fields: dict[str, Any]) -> Row:
    """A record from one row's raw fields, or the reason its shape is wrong."""
    try:
        isbn = _required_text(fields, "isbn")
        title = _required_text(fields, "title")
        year = _whole_number(fields, "year")
        copies = _whole_number(fields, "copies")
        return CatalogueRecord(
            line=line,
            details=BookDetails(
                isbn=isbn,
                title=title,
                authors=_names(fields, "authors"),
                publisher=_text(fields, "publisher"),
                year=year,
                subjects=_names(fields, "subjects"),
            ),
            copies=1 if copies is None else copies,
        )
    except InvalidValue as error:
        return RejectedRecord(line, error.code, error.message)


def _member_record(line: int, fields: dict[str, Any]) -> MemberRow:
    """A member to register from one row's raw fields, or the reason its shape is wrong."""
    try:
        return MemberRecord(
            line=line,
            email=_required_text(fields, "email"),
            name=_required_text(fields, "name"),
            role=_text(fields, "role"),
            membership_expires_at=_date(fields, "expires_on"),
            card_number=_text(fields, "card_number"),
        )
    except InvalidValue as error:
        return RejectedRecord(line, error.code, error.message)


_NO_PASSWORDS = (
    "a file of members holds no passwords: imported members have none until one is set "
    "(circulate members reset-password)"
)
_BOOKS: _Shape[CatalogueRecord] = _Shape(
    COLUMNS, REQUIRED, frozenset({"authors", "subjects"}), _record, {}
)
_MEMBERS: _Shape[MemberRecord] = _Shape(
    MEMBER_COLUMNS,
    MEMBER_REQUIRED,
    frozenset(),
    _member_record,
    dict.fromkeys(("password", "password_hash"), _NO_PASSWORDS),
)


def _date(fields: dict[str, Any], name: str) -> datetime | None:
    """A ``YYYY-MM-DD`` day, as the instant it starts in UTC."""
    text = _text(fields, name)
    if text is None:
        return None
    try:
        return datetime.strptime(text.strip(), DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidValue(name, f"{name} must be a date (YYYY-MM-DD), not {text!r}") from None


def _required_text(fields: dict[str, Any], name: str) -> str:
    value = _text(fields, name)
    if value is None:
        raise InvalidValue(name, f"{name} is missing")
    return value


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidValue(name, f"{name} must be text")
    return value


def _whole_number(fields: dict[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool):  # JSON true is not 1 copy
        raise InvalidValue(name, f"{name} must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise InvalidValue(name, f"{name} must be a whole number, not {value!r}")


def _names(fields: dict[str, Any], name: str) -> list[str]:
    value = fields.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidValue(name, f"{name} must be a list of names")
    return [item for item in value if item.strip()]


# --- writing ---------------------------------------------------------------------------------


def write_entries(
    stream: IO[str], entries: Iterable[CatalogueEntry], file_format: FileFormat
) -> int:
    """Write ``entries`` in the format ``read_records`` reads; returns how many were written."""
    written = 0
    if file_format is FileFormat.CSV:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        for entry in entries:
            book = entry.book
            writer.writerow(
                [
                    book.isbn,
                    book.title,
                    LIST_SEPARATOR.join(book.authors),
                    book.publisher or "",
                    "" if book.year is None else book.year,
                    entry.copies,
                    LIST_SEPARATOR.join(book.subjects),
                ]
            )
            written += 1
        return written
    for entry in entries:
        book = entry.book
        line = {
            "isbn": book.isbn,
            "title": book.title,
            "authors": list(book.authors),
            "publisher": book.publisher,
            "year": book.year,
            "copies": entry.copies,
            "subjects": list(book.subjects),
        }
        stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        written += 1
    return written
