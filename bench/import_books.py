"""Benchmark: import a generated catalogue into SQLite and PostgreSQL with `circulate books
import`, and print rows per second.

    .venv/bin/python bench/import_books.py                      # 1,000,000 books, both databases
    .venv/bin/python bench/import_books.py --rows 200000 --database sqlite

The catalogue is a CSV file of distinct, valid ISBNs with one to three copies each (about two
copies per book on average), written once to a temporary folder. Each database is a scratch one
made for the run and removed afterwards: a SQLite file in the temporary folder, and a database
``circulate_bench_<random>`` on the PostgreSQL server in CIRCULATE_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), which the role must be allowed to create.

The import runs as an administrator would run it: the installed ``circulate`` command in its own
process, on the file, with the default batch size. Then it is run a second time, which must add
nothing (every ISBN is already there): that shows what re-running a load costs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import secrets
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


def bench(name: str, url: str, catalogue: Path, rows: int) -> None:
    migrate.upgrade(url)
    elapsed, report = run_import(url, catalogue)
    print(
        f"{name:<10} first import  {rows:>9,} rows in {elapsed:7.1f} s = "
        f"{rows / elapsed:>8,.0f} rows/s  ({report['added']:,} books, "
        f"{report['copies_added']:,} copies)",
        flush=True,
    )
    elapsed, report = run_import(url, catalogue)
    print(
        f"{name:<10} second import {rows:>9,} rows in {elapsed:7.1f} s = "
        f"{rows / elapsed:>8,.0f} rows/s  ({report['already_present']:,} already present)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    if not CIRCULATE.exists():
        raise SystemExit(f"{CIRCULATE} is missing: install the package (make install)")
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
            with sqlite_database(Path(folder)) as url:
                bench("sqlite", url, catalogue, args.rows)
        if args.database in ("postgresql", "both"):
            with postgres_database() as url:
                bench("postgresql", url, catalogue, args.rows)


if __name__ == "__main__":
    main()
