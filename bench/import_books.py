"""Benchmark: import a generated catalogue (and, with ``--members``, a file of members) into
SQLite and PostgreSQL with the ``circulate`` command, beside each database's own bulk loader of
the same data, and print rows per second and the ratios from the same run.

    .venv/bin/python bench/import_books.py                      # 100,000 books, both databases
    .venv/bin/python bench/import_books.py --rows 1000000
    .venv/bin/python bench/import_books.py --rows 200000 --database sqlite
    .venv/bin/python bench/import_books.py --members 100000     # members too
    .venv/bin/python bench/import_books.py --circulate /tmp/old/circulate   # another build

The catalogue is a CSV file of distinct, valid ISBNs with one to three copies each (about two
copies per book on average), written once to a temporary folder. Each database is a scratch one
made for the run and removed afterwards: a SQLite file in the temporary folder, and a database
``circulate_bench_<random>`` on the PostgreSQL server in CIRCULATE_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), which the role must be allowed to create.

The import runs as an administrator would run it: the ``circulate`` command in its own process,
on the file, with the default batch size. Then it is run a second time, which must add nothing
(every ISBN is already there): that shows what re-running a load costs. ``--circulate`` measures
another build of the command (say, a checkout of an older commit) on the same files and
databases, for before/after figures; run the two one after the other, alternating, since other
work on the machine moves the figures.

Three peers, each the database's own loader reading a file in the same run:

- "bare table": the same CSV file into a table of the same columns with no index, no constraint
  and no validation (``\\copy`` in ``psql``, ``.import --csv`` in the ``sqlite3`` shell). Nothing
  loads faster; the ratio says how much of the database's raw pace the import keeps.
- "schema": the rows exactly as the import stores them (ids, search keys, counts; made by the
  application's own code from the same file) loaded by the same tools into the real, migrated
  ``books`` and ``copies`` tables, with their indexes, constraints and the same set-based upkeep
  the import does (availability counted with the books, the search's word index written with
  them). This is what the database itself needs to store the data, with no Python at all:
  the ratio to it says how much the import adds to the database's own work.
- "keys only": the same stored books and copies (no word index) into tables of text columns
  with nothing but the keys integrity needs: a primary key on each, unique ISBNs and barcodes,
  and each copy's book a foreign key. No index serves a read, no count is kept. Any import that
  keeps a re-run from adding anything and every copy tied to its book stores at least this:
  it is the most such an import could reach on this machine, whatever its code.

Both tools must be on the PATH (``--no-peers`` skips them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.clock import SystemClock
from adapters.ids import UuidV7Generator
from adapters.sqlalchemy import mappers, migrate, search
from adapters.sqlalchemy.bulk import (
    COUNTED_SETTING,
    SQLITE_COPY_TRIGGERS,
    SQLITE_LOAD_CACHE_KIB,
)
from adapters.sqlalchemy.engine import normalise_url
from adapters.sqlalchemy.models import metadata
from application.catalogue import Catalogue, CatalogueRecord
from application.members import MemberRecord, Membership
from domain.catalogue import CopyStatus
from domain.policy import Policy
from entrypoints.cli.importing import FileFormat, read_member_records, read_records

CIRCULATE = Path(sys.executable).parent / "circulate"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORDS = (
    "river",
    "garden",
    "kingdom",
    "library",
    "orchard",
    "harbour",
    "mountain",
    "letters",
    "clock",
    "archive",
    "lighthouse",
    "forest",
    "machine",
    "island",
    "road",
    "observatory",
    "tide",
    "map",
    "station",
    "compass",
    "winter",
    "alphabet",
    "silent",
)
NAMES = ("Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallo", "Haddad", "Jensen")
# The peers' tables: the files' columns as they are, nothing else.
BARE_BOOKS = (
    "CREATE TABLE bare_books (isbn text, title text, authors text, publisher text, "
    "year integer, copies integer)"
)
BARE_MEMBERS = "CREATE TABLE bare_members (email text, name text)"
# How the application stores an instant on SQLite (``UtcDateTime``: UTC wall time as text).
SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f"


def isbn13(body: int) -> str:
    digits = f"978{body:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def write_catalogue(path: Path, rows: int, seed: int = 1) -> int:
    """Write ``rows`` books; returns the number of copies they ask for."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    copies = 0
    # A stride coprime with 10**9 walks distinct 9-digit bodies in a scrambled order.
    stride, start = 7_919_993, rng.randrange(10**9)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["isbn", "title", "authors", "publisher", "year", "copies"])
        for n in range(rows):
            count = rng.choice((1, 1, 2, 2, 3))
            copies += count
            writer.writerow(
                [
                    isbn13((start + n * stride) % 10**9),
                    f"The {rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n}",
                    f"{rng.choice(NAMES)}, A.;{rng.choice(NAMES)}, B.",
                    "Bench Books",
                    rng.randint(1900, 2024),
                    count,
                ]
            )
    return copies


def write_members(path: Path, rows: int, seed: int = 2) -> None:
    """Write ``rows`` members with distinct emails; card numbers are drawn by the import."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["email", "name"])
        for n in range(rows):
            given, family = rng.choice(WORDS).title(), rng.choice(NAMES)
            writer.writerow(
                [f"{given.lower()}.{family.lower()}.{n}@bench.example", f"{given} {family}"]
            )


@dataclass(frozen=True)
class Table:
    """Rows as the application stores them in one table, for the "schema" peer."""

    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


def stored_books(catalogue: Path) -> list[Table]:
    """The rows the import stores for ``catalogue``, made by its own code (reading, the
    domain's checks, ids, the mappers), not by the database."""
    books = Catalogue(uow=None, clock=SystemClock(), ids=UuidV7Generator(), policy=Policy())  # type: ignore[arg-type]
    with catalogue.open(encoding="utf-8", newline="") as stream:
        records = [
            r for r in read_records(stream, FileFormat.CSV) if isinstance(r, CatalogueRecord)
        ]
    prepared = books.prepare_books(records)
    book_rows: list[Sequence[Any]] = []
    copy_rows: list[Sequence[Any]] = []
    word_rows: list[Sequence[Any]] = []
    for addition in prepared.additions:
        book = addition.book
        on_shelf = sum(1 for c in addition.copies if c.status is CopyStatus.AVAILABLE)
        book_rows.append((*mappers.book_row(book), on_shelf))
        copy_rows.extend(mappers.copy_row(copy) for copy in addition.copies)
        word_rows.extend(search.word_rows(book.id, mappers.fold(book.title), book.authors))
    return [
        Table("books", (*mappers.BOOK_COLUMNS, "available_copies"), book_rows),
        Table("copies", mappers.COPY_COLUMNS, copy_rows),
        Table("book_words", search.WORD_COLUMNS, word_rows),
    ]


def stored_members(members: Path) -> list[Table]:
    registry = Membership(
        uow=None,  # type: ignore[arg-type]
        clock=SystemClock(),
        ids=UuidV7Generator(),
        policy=Policy(),
        hasher=None,  # type: ignore[arg-type]
    )
    with members.open(encoding="utf-8", newline="") as stream:
        records = [
            r for r in read_member_records(stream, FileFormat.CSV) if isinstance(r, MemberRecord)
        ]
    prepared = registry.prepare_members(records)
    rows = [mappers.member_row(member) for member in prepared.members]
    return [Table("members", mappers.MEMBER_COLUMNS, rows)]


def write_tables(tables: list[Table], folder: Path, dialect: str) -> list[tuple[Table, Path]]:
    """Each table's rows as a CSV file the database's loader reads: JSON as text, instants as
    the dialect stores them, no header."""
    written = []
    for table in tables:
        path = folder / f"{dialect}_{table.name}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            if dialect == "sqlite":  # .import names the staging table's columns from it
                writer.writerow(table.columns)
            for row in table.rows:
                writer.writerow([_cell(value, dialect) for value in row])
        written.append((table, path))
    return written


def _cell(value: Any, dialect: str) -> Any:
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    if isinstance(value, datetime):
        return value.strftime(SQLITE_INSTANT) if dialect == "sqlite" else value.isoformat()
    if value is None:
        return r"\N" if dialect == "postgresql" else ""
    return value


@contextmanager
def sqlite_database(folder: Path, name: str = "bench.db") -> Iterator[str]:
    path = folder / name
    path.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


@contextmanager
def postgres_database() -> Iterator[str]:
    server = normalise_url(os.environ.get("CIRCULATE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"circulate_bench_import_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_import(command: Path, what: str, url: str, file: Path) -> tuple[float, dict[str, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    env |= {"CIRCULATE_DATABASE_URL": url, "CIRCULATE_LOG_LEVEL": "WARNING"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        [str(command), what, "import", str(file), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    found = {key: report[key] for key in ("added", "already_present") if key in report}
    # The command's own CPU time (not the database server's): what other work on the machine
    # moves least, so the figure to compare two builds by when the machine is busy.
    found["cpu_ms"] = round(
        1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    )
    return elapsed, found


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stderr.strip():
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def psql(url: str) -> list[str]:
    parsed = normalise_url(url).set(drivername="postgresql")
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", parsed.render_as_string(False)]


def postgres_bare_peer(file: Path, create: str, table: str) -> float:
    """Seconds ``\\copy`` in psql takes to load the file into a bare table of a scratch
    database, less what psql takes to start, connect and run nothing."""
    with postgres_database() as scratch:
        timed([*psql(scratch), "-c", create])
        idle = min(timed([*psql(scratch), "-c", "SELECT 1"]) for _ in range(3))
        load = f"\\copy {table} FROM '{file}' WITH (FORMAT csv, HEADER true)"
        return timed([*psql(scratch), "-c", load]) - idle


def postgres_schema_peer(files: list[tuple[Table, Path]]) -> float:
    """Seconds ``\\copy`` takes to load the stored rows into the migrated tables, in one
    transaction that counts its own copies as the import does (``COUNTED_SETTING``)."""
    with postgres_database() as scratch:
        migrate.upgrade(scratch)
        idle = min(timed([*psql(scratch), "-c", "SELECT 1"]) for _ in range(3))
        steps = ["-1", "-c", f"SET LOCAL {COUNTED_SETTING} = on"]
        for table, path in files:
            listed = ", ".join(table.columns)
            steps += ["-c", f"\\copy {table.name} ({listed}) FROM '{path}' WITH (FORMAT csv)"]
        return timed([*psql(scratch), *steps]) - idle


def keys_only_tables(files: list[tuple[Table, Path]]) -> list[tuple[str, str, Path]]:
    """``(name, CREATE TABLE statement, file)`` of the "keys only" peer's tables: the stored
    books and copies (the word index's file is left out)."""
    keys = {
        "books": "PRIMARY KEY (id), UNIQUE (isbn)",
        "copies": "PRIMARY KEY (id), UNIQUE (barcode), FOREIGN KEY (book_id) REFERENCES books (id)",
    }
    return [
        (
            t.name,
            f"CREATE TABLE {t.name} ({', '.join(f'{c} text' for c in t.columns)}, {keys[t.name]})",
            path,
        )
        for t, path in files
        if t.name in keys
    ]


def postgres_keys_peer(files: list[tuple[Table, Path]]) -> float:
    """Seconds ``\\copy`` takes to load the books and copies into tables with their keys alone,
    in one transaction."""
    with postgres_database() as scratch:
        tables = keys_only_tables(files)
        timed([*psql(scratch), *(arg for _, create, _ in tables for arg in ("-c", create))])
        idle = min(timed([*psql(scratch), "-c", "SELECT 1"]) for _ in range(3))
        steps = ["-1"]
        for name, _, path in tables:
            steps += ["-c", f"\\copy {name} FROM '{path}' WITH (FORMAT csv)"]
        return timed([*psql(scratch), *steps]) - idle


def sqlite_bare_peer(folder: Path, file: Path, create: str, table: str) -> float:
    """Seconds ``.import`` in the sqlite3 shell takes to load the file into a bare table, less
    what the shell takes to start and run nothing."""
    with sqlite_database(folder, "peer.db") as url:
        path = url.removeprefix("sqlite:///")
        timed(["sqlite3", path, create])
        idle = min(timed(["sqlite3", path, "SELECT 1"]) for _ in range(3))
        return timed(["sqlite3", path, f".import --csv --skip 1 {file} {table}"]) - idle


def sqlite_schema_peer(folder: Path, files: list[tuple[Table, Path]]) -> float:
    """Seconds ``.import`` takes to load the stored rows into the migrated tables in one
    transaction, without the row-level copy trigger, as the import does, and the journal and
    cache settings the application uses."""
    with sqlite_database(folder, "schema-peer.db") as url:
        migrate.upgrade(url)
        path = url.removeprefix("sqlite:///")
        drops = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_COPY_TRIGGERS]
        timed(["sqlite3", path, "PRAGMA journal_mode = WAL;", *drops])
        idle = min(timed(["sqlite3", path, "SELECT 1"]) for _ in range(3))
        # The page cache the import sets for its inserts (SQLite's default of 2 MiB would have
        # the shell evict and read back index pages for every row of a large load).
        steps = [
            "PRAGMA synchronous = NORMAL;",
            f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB};",
            "BEGIN;",
        ]
        for table, file in files:
            # .import fills a table of text columns named by the header, then one statement
            # moves the rows (the shell cannot load a subset of a table's columns directly).
            staging = f"staging_{table.name}"
            nullable = {c.name for c in metadata.tables[table.name].columns if c.nullable}
            values = ", ".join(
                f"NULLIF({name}, '')" if name in nullable else name for name in table.columns
            )
            steps += [
                f".import --csv {file} {staging}",
                f"INSERT INTO {table.name} ({', '.join(table.columns)}) "  # noqa: S608
                f"SELECT {values} FROM {staging};",
                f"DROP TABLE {staging};",
            ]
        steps.append("COMMIT;")
        return timed(["sqlite3", path, *steps]) - idle


def sqlite_keys_peer(folder: Path, files: list[tuple[Table, Path]]) -> float:
    """Seconds ``.import`` takes to load the books and copies into tables with their keys
    alone (foreign keys checked, as the application's connections do), in one transaction."""
    with sqlite_database(folder, "keys-peer.db") as url:
        path = url.removeprefix("sqlite:///")
        tables = keys_only_tables(files)
        timed(
            [
                "sqlite3",
                path,
                "PRAGMA journal_mode = WAL;",
                *(f"{create};" for _, create, _ in tables),
            ]
        )
        idle = min(timed(["sqlite3", path, "SELECT 1"]) for _ in range(3))
        steps = [
            "PRAGMA foreign_keys = ON;",
            "PRAGMA synchronous = NORMAL;",
            f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB};",
            "BEGIN;",
            *(f".import --csv --skip 1 {file} {name}" for name, _, file in tables),
            "COMMIT;",
        ]
        return timed(["sqlite3", path, *steps]) - idle


def line(name: str, what: str, rows: int, elapsed: float, note: str = "") -> float:
    rate = rows / elapsed
    print(
        f"{name:<10} {what:<24} {rows:>9,} rows in {elapsed:7.2f} s = {rate:>10,.0f} rows/s{note}",
        flush=True,
    )
    return rate


@dataclass(frozen=True)
class Load:
    """One kind of file to load: what ``circulate`` calls it, the file, its rows, and the
    peers' times (None: not measured)."""

    what: str  # "books" or "members"
    file: Path
    rows: int
    bare: float | None
    schema: float | None
    keys: float | None


def bench(name: str, url: str, load: Load, command: Path) -> None:
    migrate.upgrade(url)
    peers = {
        label: line(name, f"{load.what}: peer, {label}", load.rows, seconds)
        for label, seconds in (
            ("bare table", load.bare),
            ("schema", load.schema),
            ("keys only", load.keys),
        )
        if seconds is not None
    }
    elapsed, report = run_import(command, load.what, url, load.file)
    first = line(
        name,
        f"{load.what}: first import",
        load.rows,
        elapsed,
        f"  ({report['added']:,} added; the command's CPU {report['cpu_ms'] / 1000:.2f} s)",
    )
    for label, peer in peers.items():
        ratio = f"first import = {first / peer:.3f} of the {label} peer"
        print(f"{name:<10} {load.what + ': ratio':<24} {ratio}")
    elapsed, report = run_import(command, load.what, url, load.file)
    line(
        name,
        f"{load.what}: second import",
        load.rows,
        elapsed,
        f"  ({report['already_present']:,} already present, {report['added']:,} added; "
        f"the command's CPU {report['cpu_ms'] / 1000:.2f} s)",
    )


def loads(
    dialect: str,
    folder: Path,
    catalogue: Path,
    books: int,
    members: Path | None,
    count: int,
    peers: bool,
) -> list[Load]:
    found = []
    kinds: list[tuple[str, Path, int, str, str, Callable[[Path], list[Table]]]] = [
        ("books", catalogue, books, BARE_BOOKS, "bare_books", stored_books)
    ]
    if members is not None:
        kinds.append(("members", members, count, BARE_MEMBERS, "bare_members", stored_members))
    for what, file, rows, create, table, stored in kinds:
        bare = schema = keys = None
        if peers:
            files = write_tables(stored(file), folder, dialect)
            if dialect == "sqlite":
                bare = sqlite_bare_peer(folder, file, create, table)
                schema = sqlite_schema_peer(folder, files)
                keys = sqlite_keys_peer(folder, files) if what == "books" else None
            else:
                bare = postgres_bare_peer(file, create, table)
                schema = postgres_schema_peer(files)
                keys = postgres_keys_peer(files) if what == "books" else None
            for _, path in files:
                path.unlink()
        found.append(Load(what, file, rows, bare, schema, keys))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="books in the file")
    parser.add_argument("--members", type=int, default=0, help="members in a second file")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--circulate", type=Path, default=CIRCULATE, help="the circulate command to measure"
    )
    parser.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip the peers (psql \\copy, sqlite3 .import)",
    )
    args = parser.parse_args()
    if not args.circulate.exists():
        raise SystemExit(f"{args.circulate} is missing: install the package (make install)")
    for tool in ("psql", "sqlite3") if args.peers else ():
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on the PATH: install it or pass --no-peers")
    print(f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)
    print(f"measuring {args.circulate}", flush=True)
    with tempfile.TemporaryDirectory(prefix="circulate-bench-") as name:
        folder = Path(name)
        catalogue = folder / "catalogue.csv"
        started = time.perf_counter()
        copies = write_catalogue(catalogue, args.rows)
        members = None
        if args.members:
            members = folder / "members.csv"
            write_members(members, args.members)
        print(
            f"generated {args.rows:,} books ({copies:,} copies) and {args.members:,} members "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        for dialect in ("sqlite", "postgresql"):
            if args.database not in (dialect, "both"):
                continue
            for load in loads(
                dialect, folder, catalogue, args.rows, members, args.members, args.peers
            ):
                database = sqlite_database(folder) if dialect == "sqlite" else postgres_database()
                with database as url:
                    bench(dialect, url, load, args.circulate)
        print(f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
