"""Benchmark: borrowing over HTTP on PostgreSQL, against pgbench doing the same logical
transaction on the same schema in the same run, then the per-borrow profile.

    .venv/bin/python bench/borrow.py --help
    .venv/bin/python bench/borrow.py                         # 60,000 books, 10 s x 2 rounds
    .venv/bin/python bench/borrow.py --seconds 5 --rounds 1 --profile-borrows 300
    .venv/bin/python bench/borrow.py --clients wrk           # wrk alone
    .venv/bin/python bench/borrow.py --skip-http             # the profile alone
    git archive <commit> | tar -x -C /tmp/older               # an older tree, to compare:
    .venv/bin/python bench/borrow.py --compare-with /tmp/older

Prints, each with the load average at the time (the machine may be shared: absolute figures
move with its load, the ratio much less):

1. Throughput: ``POST /api/v1/loans`` (a staff API key with ``loans:write``; ``member_id`` and
   ``book_id`` in the body) served by ``circulate serve --workers 2`` in production settings,
   with ``--connections`` keep-alive connections (default 8), driven by each load generator of
   ``--clients`` in turn: ``wrk`` (``wrk -t2``, a Lua script feeding it the borrows; the tool the
   service's target is stated for, and C, so it leaves the cores to the server) and ``python``
   (an asyncio HTTP/1.1 client in this process, which on a small machine takes CPU time the
   server would use). Both by default, in alternate runs, so the difference the tool makes is
   in the figures. Every request borrows a different single-copy book, for one of ``books / 4``
   members (each member ends the run with at most four loans, under the default limit of five).
   Loans per second, p50 and p99 latency, any answer that is not a 201, the CPU time the
   server's workers spent per loan (from ``/proc``; with how it was split between them), and
   the CPU time of the PostgreSQL server's processes per loan, when it runs on this machine.
   With ``--idempotency-keys`` every request carries an ``Idempotency-Key`` of its own, as a
   client that retries safely sends (the profile's borrows too). With ``--reads-between`` (wrk
   only) each borrow is followed by a read of its book, ``GET /api/v1/books/<id>``, as a working
   day mixes reads with the changes on the same pooled connections: the loans per second and
   the CPU per loan then count its read too, and the latencies are of both.
2. The peer: ``pgbench -M prepared`` with the same number of clients, each transaction the same
   logical borrow on the same schema (lock the member, count their open loans, pick a copy of the
   book ``FOR UPDATE SKIP LOCKED``, insert the loan, update the copy), on its own copy of the same
   data. Then the ratio of the two, and the database's CPU time per loan for pgbench too.
   With ``--compare-with CHECKOUT`` the same rounds also serve the Circulate of another source
   tree (run from it through PYTHONPATH, with this checkout's installed dependencies), in
   alternate runs: before and after a change, measured under the same load.
3. The profile of one borrow in this process (Flask test client, same settings, same data):
   the SQL statements one borrow sends (counted with a SQLAlchemy event listener, and listed),
   and cProfile's top 10 functions by own time and by cumulative time over
   ``--profile-borrows`` borrows. Then as many borrows each followed by a read of its book, as
   a working day mixes them on the same pooled connections, against the two apart.

Data: a template database ``circulate_bench_borrow_<books>`` (migrated to head, ``--books``
books with one copy each, their members, each member with a settled history of two charges and
two payments) is made once and kept (``--drop-template`` removes it at the end); every round
borrows on fresh copies of it made with ``CREATE DATABASE ... TEMPLATE``, dropped afterwards. The
server is the one in CIRCULATE_TEST_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test); ``pgbench`` must be on the PATH, and ``wrk``
too unless ``--clients python``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from read_path import (  # noqa: E402
    BIN,
    DEFAULT_POSTGRES_URL,
    circulate_env,
    cli,
    free_port,
    gunicorn_workers,
    load_average,
    process_cpu_seconds,
    running,
)
from sqlalchemy import Table, create_engine, event, insert, text  # noqa: E402
from sqlalchemy.engine import URL, Engine  # noqa: E402
from sqlalchemy.pool import NullPool, Pool  # noqa: E402

from adapters.ids import UuidV7Generator  # noqa: E402
from adapters.sqlalchemy import mappers, migrate  # noqa: E402
from adapters.sqlalchemy.engine import normalise_url  # noqa: E402
from adapters.sqlalchemy.models import (  # noqa: E402
    BookRow,
    CopyRow,
    LedgerAllocationRow,
    LedgerEntryRow,
    MemberRow,
)
from domain.catalogue import Book, CopyStatus  # noqa: E402
from domain.members import Member  # noqa: E402

BATCH = 5_000
LOANS_PATH = "/api/v1/loans"

# The peer's transaction: the same logical borrow, in as few statements as SQL allows. The
# first statement (outside the transaction) only picks this transaction's member and book.
PGBENCH_SCRIPT = """\
SELECT member_id, book_id FROM bench_borrows WHERE n = (SELECT nextval('bench_next')) \\gset
BEGIN;
SELECT id FROM members WHERE id = :member_id FOR UPDATE;
SELECT count(*) FROM loans WHERE member_id = :member_id AND returned_at IS NULL;
SELECT id AS copy_id FROM copies WHERE book_id = :book_id AND status = 'available' LIMIT 1 FOR UPDATE SKIP LOCKED \\gset
INSERT INTO loans (id, copy_id, book_id, member_id, loaned_at, due_at, renewals, fine_cents, version) VALUES (gen_random_uuid()::text, :copy_id, :book_id, :member_id, now(), now() + interval '21 days', 0, 0, 1);
UPDATE copies SET status = 'on_loan', version = version + 1, updated_at = now() WHERE id = :copy_id;
END;
"""  # noqa: E501

# wrk's side. Each thread takes every n-th line of the borrows file, so no two requests borrow
# the same book; a thread that uses up its share sends its first borrow again, which is refused
# (409) and shows. Arguments: the borrows file, the API key, the number of threads, and a run
# nonce when every request carries an Idempotency-Key of its own. ``done`` prints one JSON line.
WRK_SCRIPT = """\
local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, key, count = args[1], args[2], tonumber(args[3])
  reading = args[4] == "reads"
  nonce = args[5]
  borrows = {}
  local n = 0
  for line in io.lines(path) do
    if n % count == index then
      borrows[#borrows + 1] = line
    end
    n = n + 1
  end
  auth = "ApiKey " .. key
  at = 0
  borrowed = 0
  failed = 0
  first_failure = ""
end

function request()
  if book_to_read ~= nil then
    local path = "/api/v1/books/" .. book_to_read
    book_to_read = nil
    return wrk.format("GET", path, {["Authorization"] = auth}, nil)
  end
  at = at + 1
  local member, book = (borrows[at] or borrows[1]):match("([^,]+),([^,]+)")
  if reading then
    book_to_read = book
  end
  local headers = {["Authorization"] = auth, ["Content-Type"] = "application/json"}
  if nonce ~= nil then
    headers["Idempotency-Key"] = nonce .. "-" .. index .. "-" .. at
  end
  local body = '{"member_id":"' .. member .. '","book_id":"' .. book .. '"}'
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status == 201 then
    borrowed = borrowed + 1
  elseif not (reading and status == 200) then
    failed = failed + 1
    if first_failure == "" then
      first_failure = status .. " " .. string.sub(body, 1, 200)
    end
  end
end

function done(summary, latency, requests)
  -- reach: how far into the file the threads took their lines (requests made, not answered)
  local failed_total, borrowed_total, first, reach = 0, 0, "", 0
  for _, thread in ipairs(threads) do
    failed_total = failed_total + thread:get("failed")
    borrowed_total = borrowed_total + thread:get("borrowed")
    if first == "" then first = thread:get("first_failure") end
    reach = math.max(reach, thread:get("at") * #threads)
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "borrowed": %d, "duration_us": %d, "failed": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p99_us": %d, "reach": %d}\\n',
    summary.requests, borrowed_total, summary.duration, failed_total,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(99), reach))
  io.write("WRK_FIRST_FAILURE " .. first:gsub("%s+", " ") .. "\\n")
end
"""


# ---------------------------------------------------------------- databases


def server_url() -> URL:
    return normalise_url(os.environ.get("CIRCULATE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


def admin_engine() -> Engine:
    return create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)


def database_url(name: str) -> str:
    return server_url().set(database=name).render_as_string(hide_password=False)


def template(books: int) -> str:
    """``circulate_bench_borrow_<books>``, made and loaded unless it exists already."""
    name = f"circulate_bench_borrow_{books}"
    admin = admin_engine()
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = database_url(name)
    migrate.upgrade(url)
    if not exists:
        print(f"  loading {books:,} books and {books // 4:,} members into {name} ...", flush=True)
        load(url, books)
    return name


def load(url: str, books: int) -> None:
    ids = UuidV7Generator()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    members = max(1, books // 4)
    member_ids = [ids.new_id() for _ in range(members)]
    engine = create_engine(url, poolclass=NullPool)
    tables = {
        row: cast(Table, row.__table__)
        for row in (BookRow, CopyRow, MemberRow, LedgerEntryRow, LedgerAllocationRow)
    }
    with engine.begin() as connection:
        for first in range(0, members, BATCH):
            rows, lines, allocations = [], [], []
            for n in range(first, min(first + BATCH, members)):
                member = Member.register(
                    id=member_ids[n],
                    email=f"reader{n}@bench.example",
                    name=f"Reader {n}",
                    card_number=f"B{n:09d}",
                    membership_expires_at=datetime(2100, 1, 1, tzinfo=UTC),
                    now=start,
                )
                rows.append(mappers.member_values(member))
                # A settled history: what an established member's account looks like.
                for k in range(2):
                    charge, payment = ids.new_id(), ids.new_id()
                    at = start + timedelta(days=k)
                    lines += [
                        _line(charge, member.id, "charge", at, "overdue"),
                        _line(payment, member.id, "payment", at, None),
                    ]
                    allocations.append(
                        {"entry_id": payment, "position": 0, "charge_id": charge,
                         "amount_cents": 150}
                    )  # fmt: skip
            connection.execute(insert(tables[MemberRow]), rows)
            connection.execute(insert(tables[LedgerEntryRow]), lines)
            connection.execute(insert(tables[LedgerAllocationRow]), allocations)
        borrows = []
        for first in range(0, books, BATCH):
            book_rows, copy_rows = [], []
            for n in range(first, min(first + BATCH, books)):
                book = Book(
                    id=ids.new_id(),
                    isbn=f"979{n:09d}{_check_digit(f'979{n:09d}')}",
                    title=f"Bench Title {n}",
                    authors=("A. Writer",),
                    publisher="Bench Books",
                    year=2000,
                    subjects=(),
                    created_at=start,
                    updated_at=start,
                )
                book_rows.append(mappers.book_values(book))
                copy_rows.append(
                    {"id": ids.new_id(), "book_id": book.id, "barcode": f"C{n:09d}",
                     "status": CopyStatus.AVAILABLE, "created_at": start, "updated_at": start,
                     "version": 1}
                )  # fmt: skip
                borrows.append({"n": n + 1, "member_id": member_ids[n % members], "b": book.id})
            connection.execute(insert(tables[BookRow]), book_rows)
            connection.execute(insert(tables[CopyRow]), copy_rows)
        # Who borrows what, in order: read by the load generator and by the pgbench script.
        connection.execute(
            text(
                "CREATE TABLE bench_borrows (n integer PRIMARY KEY, member_id varchar(36) NOT "
                "NULL, book_id varchar(36) NOT NULL)"
            )
        )
        connection.execute(text("INSERT INTO bench_borrows VALUES (:n, :member_id, :b)"), borrows)
        connection.execute(text("CREATE SEQUENCE bench_next"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _line(entry_id: str, member_id: str, kind: str, at: datetime, charge_type: str | None) -> dict[str, Any]:  # fmt: skip  # noqa: E501
    return {
        "id": entry_id, "member_id": member_id, "kind": kind, "amount_cents": 150,
        "created_at": at, "loan_id": None, "note": "bench history", "charge_type": charge_type,
        "target_id": None,
    }  # fmt: skip


def _check_digit(twelve: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(twelve))
    return str((10 - total % 10) % 10)


@contextmanager
def scratch_copy(template_name: str) -> Iterator[str]:
    """A fresh database copied from the template; its URL, dropped afterwards."""
    name = f"circulate_bench_borrow_run_{secrets.token_hex(4)}"
    admin = admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def borrows_of(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT member_id, book_id FROM bench_borrows ORDER BY n"))
        found = [(str(row[0]), str(row[1])) for row in rows]
    engine.dispose()
    return found


def staff_key(env: dict[str, str]) -> str:
    if not Path(env["CIRCULATE_SIGNING_KEYS_FILE"]).exists():
        cli(env, "keys", "rotate")
    created = json.loads(
        cli(env, "api-keys", "create", "--name", "bench", "--scope", "loans:write", "--json")
    )
    return str(created["key"])


# ---------------------------------------------------------------- the load generator


@dataclass
class Run:
    """A run of the Python load generator: every answer's latency."""

    seconds: float
    latencies_ms: list[float]
    failures: dict[int, int]
    first_failure: str
    workers_cpu: tuple[float, ...] = ()  # CPU seconds each server worker spent in the run
    database_cpu: float = 0.0  # CPU seconds the database server spent in the run

    @property
    def loans(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else float("nan")

    @property
    def p99(self) -> float:
        if len(self.latencies_ms) < 100:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[98]


async def _connection_loop(
    port: int,
    key: str,
    borrows: list[tuple[str, str]],
    cursor: list[int],
    stop_at: float,
    run: Run,
    keyed: bool,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at and cursor[0] < len(borrows):
            member_id, book_id = borrows[cursor[0]]
            cursor[0] += 1
            body = json.dumps({"member_id": member_id, "book_id": book_id}).encode()
            idempotency = f"Idempotency-Key: {secrets.token_hex(16)}\r\n" if keyed else ""
            request = (
                f"POST {LOANS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{idempotency}"
                f"Authorization: ApiKey {key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            answer = await reader.readexactly(length)
            elapsed = (time.perf_counter() - started) * 1000
            status = int(head.split(b" ", 2)[1])
            if status == 201:
                run.latencies_ms.append(elapsed)
            else:
                run.failures[status] = run.failures.get(status, 0) + 1
                run.first_failure = run.first_failure or answer[:300].decode(errors="replace")
    finally:
        writer.close()


def drive(
    port: int,
    key: str,
    borrows: list[tuple[str, str]],
    seconds: float,
    conns: int,
    keyed: bool = False,
) -> Run:
    """Borrow with ``conns`` keep-alive connections for ``seconds`` (or until the books run out);
    ``borrows`` is consumed from the front."""

    async def main() -> Run:
        run = Run(seconds, [], {}, "")
        cursor = [0]
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _connection_loop(port, key, borrows, cursor, started + seconds, run, keyed)
                for _ in range(conns)
            )
        )
        run.seconds = time.perf_counter() - started
        del borrows[: cursor[0]]
        return run

    return asyncio.run(main())


@dataclass
class WrkRun:
    """A run of wrk, as its script's ``done`` summed it up."""

    rate: float
    p50: float
    p99: float
    failures: dict[str, int]
    first_failure: str
    loans: int
    workers_cpu: tuple[float, ...] = ()  # CPU seconds each server worker spent in the run
    database_cpu: float = 0.0  # CPU seconds the database server spent in the run


WRK_THREADS = 2


def drive_wrk(
    port: int,
    key: str,
    borrows: list[tuple[str, str]],
    seconds: float,
    conns: int,
    folder: Path,
    keyed: bool = False,
    reads: bool = False,
) -> WrkRun:
    """``wrk`` borrowing with ``conns`` keep-alive connections for ``seconds``; ``borrows`` is
    consumed from the front (as far as the run got: wrk's threads take alternate lines). With
    ``reads``, each borrow is followed by a read of its book (``GET /api/v1/books/<id>``)."""
    script = folder / "borrow.lua"
    script.write_text(WRK_SCRIPT)
    feed = folder / "borrows.csv"
    feed.write_text("".join(f"{member_id},{book_id}\n" for member_id, book_id in borrows))
    command = [
        "wrk", "-t", str(WRK_THREADS), "-c", str(conns), "-d", f"{seconds:g}s", "-s", str(script),
        f"http://127.0.0.1:{port}{LOANS_PATH}", "--", str(feed), key, str(WRK_THREADS),
        "reads" if reads else "borrows",
    ]  # fmt: skip
    if keyed:
        command.append(secrets.token_hex(8))
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    figures_line = next(line for line in done.stdout.splitlines() if line.startswith("WRK "))
    figures = json.loads(figures_line.removeprefix("WRK "))
    first = next(
        (line for line in done.stdout.splitlines() if line.startswith("WRK_FIRST_FAILURE")), ""
    )
    borrowed = figures["borrowed"]
    del borrows[: figures["reach"]]
    failures = {
        name: figures[key] for name, key in (("not 201", "failed"), ("socket", "socket_errors"))
        if figures[key]
    }  # fmt: skip
    return WrkRun(
        rate=borrowed / (figures["duration_us"] / 1e6),
        p50=figures["p50_us"] / 1000,
        p99=figures["p99_us"] / 1000,
        failures=failures,
        first_failure=first.removeprefix("WRK_FIRST_FAILURE").strip(),
        loans=borrowed,
    )


def workers_cpu_seconds(master: int) -> tuple[float, ...]:
    """The CPU time (user and system) each gunicorn worker under ``master`` has used so far."""
    return tuple(process_cpu_seconds(pid) for pid in gunicorn_workers(master))


def database_cpu() -> dict[str, float]:
    """The CPU time each PostgreSQL server process on this machine has used so far, by pid,
    with that of its ended children: a backend that served a connection closed since is counted
    in the postmaster (empty when the server runs elsewhere or cannot be read)."""
    spent = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):  # gone, or not ours to read
            if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                spent[entry.name] = process_cpu_seconds(entry.name, children=True)
    return spent


def database_cpu_since(before: dict[str, float]) -> float:
    """CPU seconds the PostgreSQL processes used since ``before``: a process that started
    since counts whole."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in database_cpu().items())


def served_from(env: dict[str, str], source: Path) -> dict[str, str]:
    """``env`` running the Circulate of the checkout at ``source`` (ahead of the installed
    one), so that the figures are those of the tree the bench is asked about."""
    return {
        **env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")])),
    }


CLIENTS = ("wrk", "python")


def http_round(
    template_name: str,
    folder: Path,
    seconds: float,
    conns: int,
    source: Path = ROOT,
    *,
    client: str,
    keyed: bool = False,
    reads: bool = False,
) -> Run | WrkRun:
    """A fresh server on a fresh copy of the data, warmed up for two seconds, then measured,
    both with ``client`` (one of ``CLIENTS``; ``reads`` with wrk only)."""
    with scratch_copy(template_name) as name:
        url = database_url(name)
        borrows = borrows_of(url)
        port = free_port()
        env = served_from(circulate_env(folder, url, port), source)
        key = staff_key(env)
        command = [str(BIN / "circulate"), "serve", "--workers", "2"]
        # Started in the scratch folder, not a work tree: ``python -m gunicorn`` puts its
        # working directory first on the path, ahead of ``served_from``'s PYTHONPATH.
        with running(command, env, port, "/healthz", cwd=folder) as master:
            # Warm-up: connections, caches, plans.
            run: Run | WrkRun
            if client == "wrk":
                drive_wrk(port, key, borrows, 2, conns, folder, keyed, reads)
                before, database_before = workers_cpu_seconds(master), database_cpu()
                run = drive_wrk(port, key, borrows, seconds, conns, folder, keyed, reads)
            else:
                drive(port, key, borrows, 2, conns, keyed)
                before, database_before = workers_cpu_seconds(master), database_cpu()
                run = drive(port, key, borrows, seconds, conns, keyed)
            run.database_cpu = database_cpu_since(database_before)
            after = workers_cpu_seconds(master)
            run.workers_cpu = tuple(b - a for a, b in zip(before, after, strict=True))
            return run


# ---------------------------------------------------------------- the pgbench peer


@dataclass
class PeerRun:
    rate: float
    p50: float
    failed: int
    database_cpu_per_loan_ms: float


def pgbench_round(template_name: str, folder: Path, seconds: float, conns: int) -> PeerRun:
    script = folder / "borrow.sql"
    script.write_text(PGBENCH_SCRIPT)
    logs = folder / "pgbench-logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir()
    server = server_url()
    with scratch_copy(template_name) as name:
        command = [
            "pgbench", "-n", "-M", "prepared", "-c", str(conns), "-j", "2", "-T", str(int(seconds)),
            "-f", str(script), "-h", server.host or "127.0.0.1", "-p", str(server.port or 5432),
            "-U", server.username or "postgres", "-l", "--log-prefix", str(logs / "log"), name,
        ]  # fmt: skip
        env = dict(os.environ)
        if server.password:
            env["PGPASSWORD"] = server.password
        # Not checked: a run that used up the books ends early ("aborted"), its rate still true.
        database_before = database_cpu()
        done = subprocess.run(command, capture_output=True, text=True, env=env)  # noqa: S603
        database_seconds = database_cpu_since(database_before)
    output = done.stdout
    match = re.search(r"tps = ([\d.]+)", output)
    if match is None:
        raise RuntimeError(output + done.stderr)
    if "aborted" in done.stderr:
        print("   (pgbench used up the books before the end: give more --books)")
    failed = re.search(r"number of failed transactions: (\d+)", output)
    latencies = [
        int(line.split()[2]) / 1000  # microseconds, third column of pgbench's per-transaction log
        for log in logs.iterdir()
        for line in log.read_text().splitlines()
    ]
    return PeerRun(
        float(match.group(1)),
        statistics.median(latencies),
        int(failed.group(1)) if failed else 0,
        1000 * database_seconds / max(1, len(latencies)),
    )


# ---------------------------------------------------------------- the profile


def profile(
    template_name: str,
    folder: Path,
    borrows_count: int,
    keep: Path | None,
    *,
    cpu: bool = False,
    keyed: bool = False,
) -> None:
    from entrypoints.container import build_container, dispose
    from entrypoints.http import create_app
    from entrypoints.settings import Settings

    with scratch_copy(template_name) as name:
        url = database_url(name)
        borrows = borrows_of(url)
        env = served_from(circulate_env(folder, url, free_port()), ROOT)
        key = staff_key(env)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env, CIRCULATE_LOG_LEVEL="WARNING")
        try:
            container = build_container(Settings())  # the server's settings, from its env
        finally:
            os.environ.clear()
            os.environ.update(saved)
        client = create_app(container=container).test_client()
        headers = {"Authorization": f"ApiKey {key}"}
        statements: list[str] = []
        other = {"begin": 0, "checkout": 0}

        def count(*args: Any) -> None:
            statements.append(str(args[2]))  # the statement's SQL

        def begin(*_args: Any) -> None:
            other["begin"] += 1

        def checkout(*_args: Any) -> None:
            other["checkout"] += 1

        def borrow(member_id: str, book_id: str) -> None:
            fresh = {"Idempotency-Key": secrets.token_hex(16)} if keyed else {}
            answer = client.post(
                LOANS_PATH,
                json={"member_id": member_id, "book_id": book_id},
                headers={**headers, **fresh},
            )
            if answer.status_code != 201:
                raise RuntimeError(answer.get_data(as_text=True))

        try:
            for member_id, book_id in borrows[:20]:  # warm-up
                borrow(member_id, book_id)
            event.listen(Engine, "before_cursor_execute", count)
            event.listen(Engine, "begin", begin)
            event.listen(Pool, "checkout", checkout)
            try:
                borrow(*borrows[20])
                listed = list(statements)
                statements.clear()
                measured = borrows[21 : 21 + borrows_count]
                for member_id, book_id in measured:
                    borrow(member_id, book_id)
                per_borrow = len(statements) / len(measured)
                begins = (other["begin"] - 0) / (len(measured) + 1)
                checkouts = other["checkout"] / (len(measured) + 1)
            finally:
                event.remove(Engine, "before_cursor_execute", count)
                event.remove(Engine, "begin", begin)
                event.remove(Pool, "checkout", checkout)
            # Without the profiler: wall time, and this process's CPU time, which the load of
            # other processes on the machine barely moves (the wall time it does).
            timed = borrows[21 + borrows_count : 21 + 2 * borrows_count]
            wall, cpu_started = time.perf_counter(), time.process_time()
            database_before = database_cpu()
            for member_id, book_id in timed:
                borrow(member_id, book_id)
            database_ms = 1000 * database_cpu_since(database_before) / len(timed)
            wall_ms = 1000 * (time.perf_counter() - wall) / len(timed)
            cpu_ms = 1000 * (time.process_time() - cpu_started) / len(timed)
            # On CPU time, the profile shows where the Python work goes; on wall time (the
            # default), the waits for the database too.
            profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
            profiler.enable()
            for member_id, book_id in borrows[21 + 2 * borrows_count : 21 + 3 * borrows_count]:
                borrow(member_id, book_id)
            profiler.disable()
            if keep is not None:
                profiler.dump_stats(keep)

            def read(book_id: str) -> None:
                answer = client.get(f"/api/v1/books/{book_id}", headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(answer.get_data(as_text=True))

            # A working day mixes reads with the changes, on the same pooled connections.
            paired = borrows[21 + 3 * borrows_count : 21 + 4 * borrows_count]
            wall, cpu_started = time.perf_counter(), time.process_time()
            database_before = database_cpu()
            for member_id, book_id in paired:
                borrow(member_id, book_id)
                read(book_id)
            pair_database_ms = 1000 * database_cpu_since(database_before) / len(paired)
            pair_ms = 1000 * (time.perf_counter() - wall) / len(paired)
            pair_cpu_ms = 1000 * (time.process_time() - cpu_started) / len(paired)
            wall, cpu_started = time.perf_counter(), time.process_time()
            for _member_id, book_id in paired:
                read(book_id)
            read_ms = 1000 * (time.perf_counter() - wall) / len(paired)
            read_cpu_ms = 1000 * (time.process_time() - cpu_started) / len(paired)
        finally:
            dispose(container)
    print(f"\n3. one borrow in process (Flask test client, PostgreSQL; load average "
          f"{load_average()})")  # fmt: skip
    print(f"   per borrow, mean over {len(timed)}: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU of "
          "this process (Flask, Circulate, SQLAlchemy, psycopg), the database's CPU "
          f"{database_ms:.2f} ms")  # fmt: skip
    print(f"   a borrow and then a read of the book (GET), mean over {len(paired)} pairs: "
          f"{pair_ms:.2f} ms wall, {pair_cpu_ms:.2f} ms CPU, the database's CPU "
          f"{pair_database_ms:.2f} ms; the read alone {read_ms:.2f} ms wall, {read_cpu_ms:.2f} ms "
          f"CPU: the pair costs {pair_ms - wall_ms - read_ms:+.2f} ms wall more than the two "
          "apart")  # fmt: skip
    print(f"   statements sent per borrow: {per_borrow:.1f} (mean over {len(measured)} borrows); "
          f"besides them, transactions begun {begins:.1f} (each a BEGIN and a COMMIT or "
          f"ROLLBACK) and pool checkouts {checkouts:.1f} (no round trip: the pool replaces "
          "connections by age, it does not ping them)")  # fmt: skip
    print("   the statements of one borrow:")
    for statement in listed:
        print(f"     {' '.join(statement.split())[:150]}")
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    print(f"   cProfile over {borrows_count} borrows ({1000 * total / borrows_count:.1f} ms "
          "own time per borrow, profiled), top 10 by own time:")  # fmt: skip
    _top(stats, lambda _name: True, own=True)
    print("   top 10 of Circulate's own functions by cumulative time:")
    ours = tuple(str(ROOT / package) for package in ("domain", "application", "adapters"))
    _top(stats, lambda name: name.startswith(ours) or "/entrypoints/http/" in name, own=False)


def _top(stats: pstats.Stats, wanted: Callable[[str], bool], *, own: bool) -> None:
    rows = [
        (own_time if own else cumulative, calls, f"{Path(file).name}:{line}({function})", file)
        for (file, line, function), (_, calls, own_time, cumulative, _)
        in stats.stats.items()  # type: ignore[attr-defined]
        if wanted(file)
    ]  # fmt: skip
    for seconds, calls, name, file in sorted(rows, reverse=True)[:10]:
        where = file if own and "site-packages" not in file else file.split("site-packages/")[-1]
        print(f"     {seconds:7.3f} s  {calls:7d} calls  {name}  [{Path(where).parent.name}]")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--books", type=int, default=60_000, help="single-copy books (60,000)")
    parser.add_argument("--seconds", type=float, default=10, help="length of each run (10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternated runs of each (2)")
    parser.add_argument("--connections", type=int, default=8, help="HTTP connections (8)")
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="load generators, in this order each round: wrk, python, or both (wrk,python)",
    )
    parser.add_argument("--profile-borrows", type=int, default=500, help="0: no profile")
    parser.add_argument("--profile-output", type=Path, help="keep cProfile's stats file")
    parser.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="also serve the Circulate of another checkout (e.g. `git worktree add` of an "
        "older commit), in alternate runs of the same rounds",
    )
    parser.add_argument(
        "--profile-cpu", action="store_true", help="profile on CPU time instead of wall time"
    )
    parser.add_argument(
        "--idempotency-keys", action="store_true", help="an Idempotency-Key on every request"
    )
    parser.add_argument(
        "--reads-between",
        action="store_true",
        help="wrk follows each borrow with a read of its book (GET), as a working day mixes them",
    )
    parser.add_argument("--skip-http", action="store_true", help="the profile alone")
    parser.add_argument("--drop-template", action="store_true", help="remove it at the end")
    args = parser.parse_args()
    clients = [client.strip() for client in args.clients.split(",") if client.strip()]
    if not clients or any(client not in CLIENTS for client in clients):
        parser.error(f"--clients: a comma-separated list of {', '.join(CLIENTS)}")
    args.clients = clients
    if args.reads_between and clients != ["wrk"]:
        parser.error("--reads-between: with --clients wrk only")
    if not args.skip_http and shutil.which("pgbench") is None:
        raise SystemExit("error: pgbench is not installed (apt-get install postgresql-client)")
    if not args.skip_http and "wrk" in clients and shutil.which("wrk") is None:
        raise SystemExit(
            "error: wrk is not installed (apt-get install wrk), or give --clients python"
        )
    print(f"load average at start: {load_average()}", flush=True)
    name = template(args.books)
    try:
        with tempfile.TemporaryDirectory(prefix="circulate-bench-") as folder_name:
            folder = Path(folder_name)
            if not args.skip_http:
                # Per load generator, the runs of this tree and of ``--compare-with``'s.
                runs: dict[str, list[Run | WrkRun]] = {client: [] for client in clients}
                others: dict[str, list[Run | WrkRun]] = {client: [] for client in clients}
                peers: list[PeerRun] = []
                for _ in range(args.rounds):  # alternated: a change of load hits each alike
                    keyed, reads = args.idempotency_keys, args.reads_between
                    for client in clients:
                        runs[client].append(
                            http_round(
                                name, folder, args.seconds, args.connections,
                                client=client, keyed=keyed, reads=reads,
                            )
                        )  # fmt: skip
                        if args.compare_with is not None:
                            others[client].append(
                                http_round(
                                    name, folder, args.seconds, args.connections,
                                    args.compare_with, client=client, keyed=keyed, reads=reads,
                                )
                            )  # fmt: skip
                    peers.append(pgbench_round(name, folder, args.seconds, args.connections))
                report(runs, others, peers, args)
            if args.profile_borrows:
                profile(
                    name,
                    folder,
                    args.profile_borrows,
                    args.profile_output,
                    cpu=args.profile_cpu,
                    keyed=args.idempotency_keys,
                )
    finally:
        if args.drop_template:
            admin = admin_engine()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    sys.stdout.flush()


def report(
    runs: dict[str, list[Run | WrkRun]],
    others: dict[str, list[Run | WrkRun]],
    peers: list[PeerRun],
    args: argparse.Namespace,
) -> None:
    peer_rate = statistics.median(peer.rate for peer in peers)
    keyed = ", an Idempotency-Key each" if args.idempotency_keys else ""
    if args.reads_between:
        # The rate, CPU and the database's CPU are per loan, its read included; the latencies
        # are of both kinds of request.
        keyed += ", each followed by a GET of its book"
    print(f"\n1. POST {LOANS_PATH}{keyed}, circulate serve --workers 2, PostgreSQL, "
          f"{args.connections} connections, {args.seconds:g} s x{args.rounds} "
          f"(load average {load_average()})")  # fmt: skip
    for client in args.clients:
        driver = f"wrk -t{WRK_THREADS}" if client == "wrk" else "the Python client"
        served = [("circulate", runs[client])]
        if others[client]:
            served.append((f"{args.compare_with}", others[client]))
        for name, measured in served:
            rate = statistics.median(run.rate for run in measured)
            print(f"   {name}, driven by {driver}")
            print(f"     {rate:8.0f} loans/s"
                  f"  p50 {statistics.median(r.p50 for r in measured):6.1f} ms"
                  f"  p99 {statistics.median(r.p99 for r in measured):6.1f} ms"
                  f"  (runs: {', '.join(f'{r.rate:.0f}' for r in measured)});"
                  f"  ratio to pgbench {rate / peer_rate:.3f}")  # fmt: skip
            # The server's CPU per loan moves much less with the machine's load than the rate.
            per_loan = [1000 * sum(r.workers_cpu) / r.loans for r in measured if r.loans]
            shares = [
                "/".join(f"{100 * cpu / (sum(r.workers_cpu) or 1):.0f}" for cpu in r.workers_cpu)
                for r in measured
            ]
            if not per_loan:
                continue
            print(f"     server workers' CPU per loan {statistics.median(per_loan):.2f} ms"
                  f"  (runs: {', '.join(f'{ms:.2f}' for ms in per_loan)};"
                  f" split between the workers, %: {', '.join(shares)})")  # fmt: skip
            database = [1000 * r.database_cpu / r.loans for r in measured if r.database_cpu]
            if database:
                print(f"     the database's CPU per loan {statistics.median(database):.2f} ms"
                      f"  (runs: {', '.join(f'{ms:.2f}' for ms in database)})")  # fmt: skip
            for run in measured:
                if run.failures:
                    print(f"     NOT 201: {run.failures}; first: {run.first_failure}")
    print(f"\n2. pgbench -M prepared -c{args.connections}, the same logical borrow")
    peer_p50 = statistics.median(p.p50 for p in peers)
    print(f"     {peer_rate:8.0f} loans/s  p50 {peer_p50:6.1f} ms"
          f"  (runs: {', '.join(f'{p.rate:.0f}' for p in peers)}; failed "
          f"{sum(p.failed for p in peers)})")  # fmt: skip
    peer_database = [p.database_cpu_per_loan_ms for p in peers if p.database_cpu_per_loan_ms]
    if peer_database:
        print(f"     the database's CPU per loan {statistics.median(peer_database):.2f} ms"
              f"  (runs: {', '.join(f'{ms:.2f}' for ms in peer_database)})")  # fmt: skip


if __name__ == "__main__":
    main()
