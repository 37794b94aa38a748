"""Benchmark: latency of typical book-list requests on a large catalogue, SQLite and PostgreSQL.

    .venv/bin/python bench/list_books.py                          # 1,000,000 books, both databases
    .venv/bin/python bench/list_books.py --rows 100000 --database sqlite

Each database is a scratch one made for the run and removed afterwards (a SQLite file in a
temporary folder; a database ``circulate_bench_<random>`` on the PostgreSQL server in
CIRCULATE_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test), migrated
to head and loaded directly in batches (the import command is measured by import_books.py). Books
get one to three copies; about one book in twenty has none on the shelf.

Every request goes through the whole HTTP stack (Flask test client, validation, the use case, the
SQL adapter, rendering) with the catalogue cache turned off, so every request reaches the
database: the figures are what a client waits for on a cache miss, minus the network. Each
request is made ``--repeat`` times after one warm-up; the median and the slowest are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.ids import UuidV7Generator
from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.bulk import SqlBulkWriter
from adapters.sqlalchemy.engine import create_engine_for, normalise_url, session_factory
from adapters.sqlalchemy.title_blocks import TitleBlocks
from application.ports import BookAddition
from domain.catalogue import Book, Copy, CopyStatus
from entrypoints.container import build_container, dispose
from entrypoints.http import create_app
from entrypoints.settings import Settings

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BATCH = 10_000
WORDS = (
    "river", "garden", "kingdom", "library", "orchard", "harbour", "mountain", "letters",
    "clock", "archive", "lighthouse", "forest", "machine", "island", "road", "observatory",
    "tide", "map", "station", "compass", "winter", "alphabet", "silent", "ember", "quarry",
)  # fmt: skip
NAMES = ("Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "Gallo", "Haddad", "Jensen")


def isbn13(body: int) -> str:
    digits = f"978{body:09d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'bench.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    server = normalise_url(os.environ.get("CIRCULATE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"circulate_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load(url: str, rows: int, seed: int = 1) -> str:
    """Fill the catalogue as a bulk import does (``SqlBulkWriter``: ``COPY`` on PostgreSQL,
    each batch counted by the triggers once); returns the ISBN of a book in the middle, for an
    exact lookup. Row by row, the counting triggers would write the same rows a million times,
    leaving tables several times their size that no import of the service leaves."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not secrets)
    ids = UuidV7Generator()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    stride, offset = 7_919_993, rng.randrange(10**9)
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    middle = ""
    try:
        for first in range(0, rows, BATCH):
            additions: list[BookAddition] = []
            for n in range(first, min(first + BATCH, rows)):
                created = start + timedelta(seconds=n)
                book = Book(
                    id=ids.new_id(),
                    isbn=isbn13((offset + n * stride) % 10**9),
                    title=f"The {rng.choice(WORDS).title()} of the {rng.choice(WORDS).title()} {n}",
                    authors=(f"{rng.choice(NAMES)} {n % 997}", rng.choice(NAMES)),
                    publisher="Bench Books",
                    year=rng.randint(1900, 2025) if rng.random() > 0.1 else None,
                    subjects=(),
                    created_at=created,
                    updated_at=created,
                )
                if n == rows // 2:
                    middle = book.isbn
                gone = rng.random() < 0.05  # nothing on the shelf for about 1 book in 20
                copies = [
                    Copy(
                        id=ids.new_id(),
                        book_id=book.id,
                        barcode=f"{book.isbn}-{c + 1}",
                        status=CopyStatus.LOST if gone else CopyStatus.AVAILABLE,
                        created_at=created,
                        updated_at=created,
                    )
                    for c in range(rng.choice((1, 1, 2, 2, 3)))
                ]
                additions.append(BookAddition(book, copies))
            with sessions() as session:
                SqlBulkWriter(session).add_books(additions)
                session.commit()
        # The title blocks as their scheduled upkeep leaves them, should a batch have found
        # another writer about.
        TitleBlocks(engine).keep_shape()
        # Statistics for the planner, and on PostgreSQL the visibility map that index-only
        # scans need: what autovacuum leaves behind after a bulk load.
        analyze = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(analyze))
    finally:
        engine.dispose()
    return middle


def requests(rows: int, isbn: str) -> list[tuple[str, str]]:
    deep = max(1, rows // 20 - 1)
    listed = [
        ("first page (by title)", "/api/v1/books"),
        (f"deep page (page {deep:,})", f"/api/v1/books?page={deep}"),
        ("q: one common word", "/api/v1/books?q=lighthouse"),
        ("q: two words", "/api/v1/books?q=lighthouse+winter"),
        ("q: a rare word", f"/api/v1/books?q={rows // 3}"),
        ("q: no match", "/api/v1/books?q=zebra"),
        ("author", "/api/v1/books?author=haddad+42"),
        ("isbn", f"/api/v1/books?isbn={isbn}"),
        ("available=true", "/api/v1/books?available=true"),
        ("available=false", "/api/v1/books?available=false"),
        ("q + available=true", "/api/v1/books?q=lighthouse&available=true"),
    ]
    sorts = [(f"sort={s}", f"/api/v1/books?sort={s}") for s in
             ("title", "-title", "year", "-year", "created_at", "-created_at")]  # fmt: skip
    return listed + sorts


def measure(url: str, rows: int, isbn: str, repeat: int) -> None:
    # No catalogue cache: every request goes to the database, which is what is measured.
    settings = Settings(
        storage="sql",
        database_url=url,
        environment="test",
        cache_backend="none",
        log_level="WARNING",
    )
    container = build_container(settings)
    client = create_app(container=container).test_client()
    print(f"{'request':32} {'total':>10} {'median ms':>10} {'max ms':>8}")
    try:
        for name, path in requests(rows, isbn):
            response = client.get(path)  # warm-up, and the total
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.get_data(as_text=True)}")
            total = response.get_json()["total"]
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                timings.append((time.perf_counter() - started) * 1000)
            print(
                f"{name:32} {total:>10,} {statistics.median(timings):>10.1f} {max(timings):>8.1f}"
            )
    finally:
        dispose(container)


def bench(name: str, url: str, rows: int, repeat: int) -> None:
    print(f"\n== {name}: {rows:,} books", flush=True)
    migrate.upgrade(url)
    started = time.perf_counter()
    isbn = load(url, rows)
    print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    measure(url, rows, isbn, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="books to load")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="circulate-bench-") as folder:
        if args.database in ("sqlite", "both"):
            with sqlite_database(Path(folder)) as url:
                bench("SQLite", url, args.rows, args.repeat)
        if args.database in ("postgresql", "both"):
            with postgres_database() as url:
                bench("PostgreSQL", url, args.rows, args.repeat)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
