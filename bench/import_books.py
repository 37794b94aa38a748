"""Benchmark: import a generated catalogue into SQLite and PostgreSQL with `circulate books
import`, beside each database's own bulk loader of the same file, and print rows per second and
the ratio between the two from the same run.

    .venv/bin/python bench/import_books.py                      # 100,000 books, both databases
    .venv/bin/python bench/import_books.py --rows 1000000
    .venv/bin/python bench/import_books.py --rows 200000 --database sqlite

The catalogue is a CSV file of distinct, valid ISBNs with one to three copies each (about two
copies per book on average), written once to a temporary folder. Each database is a scratch one
made for the run and removed afterwards: a SQLite file in the temporary folder, and a database
``circulate_bench_<random>`` on the PostgreSQL server in CIRCULATE_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), which the role must be allowed to create.

The import runs as an administrator would run it: the installed ``circulate`` command in its own
process, on the file, with the default batch size. Then it is run a second time, which must add
nothing (every ISBN is already there): that shows what re-running a load costs.

The ceiling ("peer") is the database's own loader reading the same CSV file into a bare table of
the same columns, with no index, no constraint and no validation: ``\\copy`` in ``psql`` for
PostgreSQL, ``.import --csv`` in the ``sqlite3`` shell for SQLite. Nothing loads faster, so the
ratio says how much of the database's pace the import keeps. Both tools must be on the PATH
(``--no-peers`` skips them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import normalise_url

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


def run_import(url: str, catalogue: Path) -> tuple[float, dict[str, int]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    env |= {"CIRCULATE_DATABASE_URL": url, "CIRCULATE_LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 (our own command, fixed arguments)
        [str(CIRCULATE), "books", "import", str(catalogue), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed ({done.returncode}):\n{done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    return elapsed, {key: report[key] for key in ("added", "copies_added", "already_present")}


# The peers' table: the file's columns as they are, nothing else.
BARE_TABLE = (
    "CREATE TABLE bare_books (isbn text, title text, authors text, publisher text, "
    "year integer, copies integer)"
)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stderr.strip():
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def postgres_peer(catalogue: Path) -> float:
    """Seconds ``\\copy`` in psql takes to load the file into a bare table of a scratch database,
    less what psql takes to start, connect and run nothing."""
    with postgres_database() as scratch:
        parsed = normalise_url(scratch).set(drivername="postgresql")
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", parsed.render_as_string(False)]
        timed([*psql, "-c", BARE_TABLE])
        idle = min(timed([*psql, "-c", "SELECT 1"]) for _ in range(3))
        load = f"\\copy bare_books FROM '{catalogue}' WITH (FORMAT csv, HEADER true)"
        return timed([*psql, "-c", load]) - idle


def sqlite_peer(folder: Path, catalogue: Path) -> float:
    """Seconds ``.import`` in the sqlite3 shell takes to load the file into a bare table, less
    what the shell takes to start and run nothing."""
    path = folder / "peer.db"
    path.unlink(missing_ok=True)
    try:
        timed(["sqlite3", str(path), BARE_TABLE])
        idle = min(timed(["sqlite3", str(path), "SELECT 1"]) for _ in range(3))
        load = f".import --csv --skip 1 {catalogue} bare_books"
        return timed(["sqlite3", str(path), load]) - idle
    finally:
        path.unlink(missing_ok=True)


def line(name: str, what: str, rows: int, elapsed: float, note: str = "") -> float:
    rate = rows / elapsed
    print(
        f"{name:<10} {what:<16} {rows:>9,} rows in {elapsed:7.2f} s = {rate:>10,.0f} rows/s{note}",
        flush=True,
    )
    return rate


def bench(name: str, url: str, catalogue: Path, rows: int, peer: float | None) -> None:
    migrate.upgrade(url)
    ceiling = None if peer is None else line(name, "peer (ceiling)", rows, peer)
    elapsed, report = run_import(url, catalogue)
    first = line(
        name,
        "first import",
        rows,
        elapsed,
        f"  ({report['added']:,} books, {report['copies_added']:,} copies)",
    )
    if ceiling is not None:
        print(f"{name:<10} {'ratio':<16} first import = {first / ceiling:.3f} of the peer")
    elapsed, report = run_import(url, catalogue)
    line(
        name,
        "second import",
        rows,
        elapsed,
        f"  ({report['already_present']:,} already present, {report['added']:,} added)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="books in the file")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip the ceiling (psql \\copy, sqlite3 .import)",
    )
    args = parser.parse_args()
    if not CIRCULATE.exists():
        raise SystemExit(f"{CIRCULATE} is missing: install the package (make install)")
    for tool in ("psql", "sqlite3") if args.peers else ():
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not on the PATH: install it or pass --no-peers")
    print(f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory(prefix="circulate-bench-") as folder:
        catalogue = Path(folder) / "catalogue.csv"
        started = time.perf_counter()
        copies = write_catalogue(catalogue, args.rows)
        print(
            f"generated {args.rows:,} books ({copies:,} copies) in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        if args.database in ("sqlite", "both"):
            peer = sqlite_peer(Path(folder), catalogue) if args.peers else None
            with sqlite_database(Path(folder)) as url:
                bench("sqlite", url, catalogue, args.rows, peer)
        if args.database in ("postgresql", "both"):
            peer = postgres_peer(catalogue) if args.peers else None
            with postgres_database() as url:
                bench("postgresql", url, catalogue, args.rows, peer)
        print(f"load average {' '.join(f'{n:.2f}' for n in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
