"""Catalogue files: CSV and JSON Lines, read into records for the import use case and written
back by the export, in the same shape, so an export can be imported again.

CSV: a header row names the columns, in any order and any case: ``isbn`` and ``title`` are
required; ``authors`` (separated by ``;``), ``publisher``, ``year``, ``copies`` (default 1) and
``subjects`` (separated by ``;``) are optional. JSON Lines: one object per line with the same
keys, ``authors`` and ``subjects`` as lists. Blank lines are ignored in both.

Here only the shape of each row is checked (a number where a number belongs, no unknown
fields); what the values mean (a valid ISBN, a title that is not empty, a plausible year) is the
domain's business, checked by the use case.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import IO, Any

from application.catalogue import BookDetails, CatalogueEntry, CatalogueRecord
from application.loading import RejectedRecord
from domain.errors import InvalidValue

COLUMNS = ("isbn", "title", "authors", "publisher", "year", "copies", "subjects")
REQUIRED = frozenset({"isbn", "title"})
LIST_SEPARATOR = ";"
_INVALID = InvalidValue.code


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


def read_records(stream: IO[str], file_format: FileFormat) -> Iterator[Row]:
    """Every data row of ``stream`` as a record to load or a row rejected with its reason."""
    if file_format is FileFormat.CSV:
        return _read_csv(stream)
    return _read_jsonl(stream)


def _read_csv(stream: IO[str]) -> Iterator[Row]:
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BadFile("the file is empty: a CSV file starts with a header row") from None
    except csv.Error as error:
        raise BadFile(f"line 1: {error}") from None
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise BadFile(
            f"unknown column(s) {', '.join(map(repr, unknown))} in the header; "
            f"the columns are {', '.join(COLUMNS)}"
        )
    missing = REQUIRED - set(names)
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
            if name in ("authors", "subjects"):
                fields[name] = [part.strip() for part in value.split(LIST_SEPARATOR)]
            else:
                fields[name] = value or None
        yield _record(line, fields)


def _read_jsonl(stream: IO[str]) -> Iterator[Row]:
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
        unknown = sorted(set(fields) - set(COLUMNS))
        if unknown:
            yield RejectedRecord(line, _INVALID, f"unknown field(s): {', '.join(unknown)}")
            continue
        yield _record(line, fields)


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
