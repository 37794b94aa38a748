"""Benchmark: the read path as served, against a bare Flask peer measured in the same run.

    .venv/bin/python bench/read_path.py --help
    .venv/bin/python bench/read_path.py                       # all three rows, 1M books
    .venv/bin/python bench/read_path.py --skip-postgres       # throughput and memory only
    .venv/bin/python bench/read_path.py --large 100000 --keep-databases

Prints three rows, each as a ratio against a peer measured in the same run (the machine may be
shared: absolute figures move with its load, ratios much less):

1. Throughput: authenticated ``GET /api/v1/books?per_page=20`` (an API key) on SQLite, served by
   ``circulate serve --workers 2`` in production settings, under ``wrk -c8``; the peer is a bare
   Flask app answering a 20-item JSON page under ``gunicorn -w2 -k gthread``. Also the CPU time
   the workers spend per request (user and system, from ``/proc``), whose ratio moves little
   with the load of other jobs on a shared machine, unlike requests per second.
2. Memory: resident set size of each worker after 500 reads, against the bare Flask worker's.
3. Latency at scale: p50 of list requests on PostgreSQL with ``--large`` books (default 1,000,000)
   against the same requests with ``--small`` books (default 1,000), each through a real server;
   both are served at once and asked in turns, so that the machine's load weighs on both alike.

Then the per-request profile of a worker under ``wrk`` (py-spy, sampled), top 10 functions by
time spent in them or below (``--profile-seconds 0`` skips it).

``--in-process N`` measures the same request without a server: the app built in this process
in the same production settings, ``N`` requests through Flask's test client, timed (ms per
request) and then profiled with cProfile (top functions by own and cumulative time). No network,
no worker scheduling: the figure to compare when a change shaves the Python path (the CPU
time per request moves least with the load of other jobs on the machine).

Needs ``wrk`` on the PATH and, for the profile, ``py-spy`` (``pip install py-spy``; sampling
another process may need root or ``CAP_SYS_PTRACE``). PostgreSQL is the server in
CIRCULATE_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test); its
databases are ``circulate_bench_reads_<rows><suffix>`` (``--database-suffix``, empty by default:
a suffix of one's own keeps runs of different checkouts, whose migrations may differ, apart),
loaded once and reused with ``--keep-databases`` (otherwise dropped at the end). Rate limits
stay on, with a ceiling wrk cannot reach. Prints the load average next to the figures.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BIN = Path(sys.executable).parent
LIST_PATH = "/api/v1/books?per_page=20"

# A bare Flask app: the floor any Flask JSON API stands on.
PEER_APP = """
from flask import Flask, jsonify
app = Flask(__name__)
ITEMS = [{"id": f"book-{n}", "isbn": "9780000000000", "title": f"A Title {n}",
          "authors": ["An Author"], "publisher": "A Publisher", "year": 2000,
          "subjects": [], "version": 1} for n in range(20)]
@app.get("/api/v1/books")
def books():
    return jsonify({"items": ITEMS, "page": 1, "per_page": 20, "total": 1000})
"""


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


@contextmanager
def running(
    command: list[str], env: dict[str, str], port: int, probe: str, cwd: Path | None = None
) -> Iterator[int]:
    """Start a server (its own process group; in ``cwd`` if given), wait for it, yield the
    master's pid."""
    log = tempfile.NamedTemporaryFile(prefix="circulate-bench-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until_up(port, probe)
        yield process.pid
    except Exception:
        print(Path(log.name).read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(20)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        Path(log.name).unlink()


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def gunicorn_workers(pid: int) -> list[int]:
    """The worker pids below a master started as ``pid`` (possibly through an exec)."""
    for _ in range(50):
        workers = children(pid)
        if workers:
            return workers
        time.sleep(0.1)
    raise RuntimeError("no gunicorn workers")


@dataclass(frozen=True)
class Memory:
    """A worker's memory in MB. RSS counts every page it maps, also those shared with the master
    and the other workers; PSS divides each shared page among its sharers (the workers' PSS
    adds up to what they cost together); USS is what only this worker holds (what stopping it
    would free)."""

    rss: float
    pss: float
    uss: float

    def __str__(self) -> str:
        return f"RSS {self.rss:.1f} / PSS {self.pss:.1f} / USS {self.uss:.1f}"


def memory_mb(pid: int) -> Memory:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(fields["Rss"] / 1024, fields["Pss"] / 1024, uss / 1024)


def connections_per_worker(port: int, workers: list[int]) -> list[int]:
    """How many established connections to ``port`` each of ``workers`` holds.

    gunicorn's workers share one listening socket and a keep-alive connection stays with the
    worker that accepted it: wrk's eight may all land on one worker, which then serves alone.
    A run's figure means little without it."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    counts = []
    for worker in workers:
        inodes = set()
        with suppress(FileNotFoundError):  # a worker that has just exited holds none
            for fd in Path(f"/proc/{worker}/fd").iterdir():
                with suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        counts.append(len(inodes & established))
    return counts


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) the processes have used so far."""
    spent = 0.0
    for pid in pids:
        with suppress(FileNotFoundError):
            spent += process_cpu_seconds(pid)
    return spent


def process_cpu_seconds(pid: int | str, *, children: bool = False) -> float:
    """The CPU time (user and system) process ``pid`` has used so far, with that of its ended
    children when ``children``."""
    # The fields after the command name (which may hold spaces): utime, stime, cutime and cstime
    # are 14 to 17.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(field) for field in fields[11 : 15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    placement: list[int]  # wrk's connections per worker, sampled a second into the run
    # CPU time the workers spent per request (ms): what other jobs on the machine move least.
    cpu_ms: float | None = None

    def __str__(self) -> str:
        return f"{self.rate:.0f} ({'+'.join(map(str, self.placement))})"

    @property
    def every_worker_serves(self) -> bool:
        return bool(self.placement) and min(self.placement) > 0


def wrk(
    port: int, path: str, seconds: int, headers: dict[str, str], master: int | None = None
) -> Run:
    """One wrk run; with ``master`` (a gunicorn's pid), where its workers held the connections."""
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    process = subprocess.Popen(  # noqa: S603
        [*command, f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE, text=True
    )
    placement: list[int] = []
    workers = gunicorn_workers(master) if master else []
    cpu_before = cpu_seconds(workers)
    if master:
        time.sleep(min(1.0, seconds / 2))
        placement = connections_per_worker(port, workers)
    output, _ = process.communicate()
    cpu = cpu_seconds(workers) - cpu_before
    if process.returncode:
        raise RuntimeError(f"wrk failed:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed responses:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    served = re.search(r"(\d+) requests in", output)
    if match is None or served is None:
        raise RuntimeError(output)
    cpu_ms = 1000 * cpu / int(served.group(1)) if workers and int(served.group(1)) else None
    return Run(float(match.group(1)), placement, cpu_ms)


def get_many(port: int, path: str, count: int, headers: dict[str, str]) -> list[float]:
    """``count`` requests on one keep-alive connection; the latency of each in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    timings = timed(connection, path, count, headers)
    connection.close()
    return timings


def timed(
    connection: http.client.HTTPConnection, path: str, count: int, headers: dict[str, str]
) -> list[float]:
    """``count`` requests on ``connection``; the latency of each in ms."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:300]!r}")
    return timings


# ---------------------------------------------------------------- the service under test


def circulate_env(folder: Path, database_url: str, port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CIRCULATE_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        CIRCULATE_ENVIRONMENT="production",
        CIRCULATE_DATABASE_URL=database_url,
        CIRCULATE_SIGNING_KEYS_FILE=str(folder / "signing-keys.json"),
        CIRCULATE_PORT=str(port),
        CIRCULATE_WORKERS="2",
        # Limits stay on (their cost is part of the path) with a ceiling wrk cannot reach.
        CIRCULATE_RATE_LIMIT_DEFAULT="100000000 per minute",
        # No worker is recycled during the runs (production replaces one after ~10,000
        # requests, which wrk reaches in seconds): the memory row would then read a fresh
        # worker, and a run could lose a worker it was counting connections on.
        GUNICORN_CMD_ARGS="--max-requests 0",
    )
    return env


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(  # noqa: S603
        [str(BIN / "circulate"), *args], env=env, capture_output=True, text=True, check=True
    ).stdout


def api_key(env: dict[str, str]) -> str:
    if not Path(env["CIRCULATE_SIGNING_KEYS_FILE"]).exists():
        cli(env, "keys", "rotate")
    created = json.loads(
        cli(env, "api-keys", "create", "--name", "bench", "--scope", "books:read", "--json")
    )
    return str(created["key"])


@contextmanager
def circulate_server(folder: Path, database_url: str) -> Iterator[tuple[int, int, str]]:
    """``circulate serve --workers 2`` on ``database_url``: (port, master pid, API key)."""
    port = free_port()
    env = circulate_env(folder, database_url, port)
    key = api_key(env)
    command = [str(BIN / "circulate"), "serve", "--workers", "2"]
    with running(command, env, port, "/healthz") as pid:
        yield port, pid, key


@contextmanager
def peer_server(folder: Path) -> Iterator[tuple[int, int]]:
    (folder / "bare_peer.py").write_text(PEER_APP)
    (folder / "bare_peer_conf.py").write_text("")  # not the gunicorn.conf.py of a checkout
    port = free_port()
    command = [
        str(BIN / "gunicorn"), "-c", str(folder / "bare_peer_conf.py"),
        "-w2", "-k", "gthread", "--threads", "4",
        "-b", f"127.0.0.1:{port}", "--chdir", str(folder), "bare_peer:app",
    ]  # fmt: skip
    with running(command, dict(os.environ), port, "/api/v1/books") as pid:
        yield port, pid


# ---------------------------------------------------------------- databases


def sqlite_catalogue(folder: Path, rows: int) -> str:
    from list_books import load

    from adapters.sqlalchemy import migrate

    url = f"sqlite:///{folder / 'catalogue.db'}"
    migrate.upgrade(url)
    load(url, rows)
    return url


def postgres_catalogue(rows: int) -> str:
    """``circulate_bench_reads_<rows><suffix>``, made and loaded unless it already holds
    ``rows`` books; brought to the migration head either way, and vacuumed after a migration
    that found it loaded: a table a migration fills has no visibility map until a VACUUM
    (autovacuum may be off, or not have come yet), and its index-only scans would read a
    heap row per entry, which a catalogue loaded here (``list_books.load`` vacuums) does not."""
    from list_books import load
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from adapters.sqlalchemy import migrate
    from adapters.sqlalchemy.engine import normalise_url

    server = normalise_url(os.environ.get("CIRCULATE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    name = database_name(rows)
    url = server.set(database=name).render_as_string(hide_password=False)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    before = migrate.current(url)
    migrate.upgrade(url)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        loaded = connection.execute(text("SELECT count(*) FROM books")).scalar_one()
        if loaded and before != migrate.current(url):
            print(f"  vacuuming {name} after its migration ...", flush=True)
            connection.execute(text("VACUUM (ANALYZE)"))
    engine.dispose()
    if loaded != rows:
        if loaded:
            raise RuntimeError(f"{name} holds {loaded} books, not {rows}: drop it first")
        print(f"  loading {rows:,} books into {name} ...", flush=True)
        load(url, rows)
    return url


# Appended to the databases' names (``--database-suffix``).
DATABASE_SUFFIX: list[str] = [""]


def database_name(rows: int) -> str:
    return f"circulate_bench_reads_{rows}{DATABASE_SUFFIX[0]}"


def drop_postgres(rows: int) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from adapters.sqlalchemy.engine import normalise_url

    server = normalise_url(os.environ.get("CIRCULATE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database_name(rows)}"'))
    admin.dispose()


# ---------------------------------------------------------------- the three rows


def throughput_and_memory(folder: Path, seconds: int, rounds: int) -> None:
    url = sqlite_catalogue(folder, 1000)
    peer_runs: list[Run] = []
    runs: list[Run] = []
    with (
        peer_server(folder) as (peer_port, peer_pid),
        circulate_server(folder, url) as (
            port,
            pid,
            key,
        ),
    ):
        auth = {"Authorization": f"ApiKey {key}"}
        get_many(port, LIST_PATH, 20, auth)  # warm-up
        wrk(peer_port, "/api/v1/books", 2, {})
        wrk(port, LIST_PATH, 2, auth)
        for _ in range(rounds):  # alternated, so a change in the machine's load hits both
            peer_runs.append(wrk(peer_port, "/api/v1/books", seconds, {}, peer_pid))
            runs.append(wrk(port, LIST_PATH, seconds, auth, pid))
        # 500 reads more per worker (wrk has already made thousands), then the memory.
        for _ in range(2):
            get_many(port, LIST_PATH, 500, auth)
            get_many(peer_port, "/api/v1/books", 500, {})
        memory = [memory_mb(worker) for worker in gunicorn_workers(pid)]
        peer_memory = [memory_mb(worker) for worker in gunicorn_workers(peer_pid)]
    rate = statistics.median(run.rate for run in runs)
    peer_rate = statistics.median(run.rate for run in peer_runs)
    print(f"\n1. authenticated GET {LIST_PATH}, SQLite, wrk -c8 {seconds}s x{rounds} "
          f"(load average {load_average()})")  # fmt: skip
    print("   each run: requests/s (wrk's connections held by each worker)")
    print(f"   circulate    {rate:8.0f} req/s   (runs: {', '.join(map(str, runs))})")
    print(f"   bare Flask   {peer_rate:8.0f} req/s   (runs: {', '.join(map(str, peer_runs))})")
    print(f"   ratio        {rate / peer_rate:8.2f}       (target >= 0.5, goal 0.75)")
    cpu, peer_cpu = (
        [run.cpu_ms for run in group if run.cpu_ms is not None] for group in (runs, peer_runs)
    )
    if cpu and peer_cpu:
        mine, theirs = statistics.median(cpu), statistics.median(peer_cpu)
        print(f"   workers' CPU per request: circulate {mine:.3f} ms, bare Flask {theirs:.3f} ms; "
              f"ratio {theirs / mine:.2f} (the throughput ratio the CPU allows, whatever the "
              "load)")  # fmt: skip
    spread, peer_spread = (
        [run.rate for run in group if run.every_worker_serves] for group in (runs, peer_runs)
    )
    if spread and peer_spread:
        balanced = statistics.median(spread) / statistics.median(peer_spread)
        print(f"   ratio of the runs in which every worker held connections: {balanced:.2f} "
              f"({len(spread)} and {len(peer_spread)} runs)")  # fmt: skip
    worst = max(m.pss for m in memory)
    peer_worst = max(m.pss for m in peer_memory)
    print(f"\n2. memory per worker after the reads, MB (load average {load_average()})")
    for name, figures in (("circulate", memory), ("bare Flask", peer_memory)):
        print(f"   {name:12} {'; '.join(str(m) for m in figures)}")
    print(f"   ratio        {worst / peer_worst:8.2f}       "
          f"(PSS; target <= 60 MB, goal 48: worst worker {worst:.1f} MB)")  # fmt: skip


def latency_requests(rows: int) -> list[tuple[str, str]]:
    """The requests of row 3. The rare word is the number in one title (a third of the way
    through the catalogue: ``333`` of 1,000 books, ``333333`` of a million), so it matches one
    book at either size; the common word is in about one title of thirteen, and so is the
    other of the two words, which meet in about one title of 300, half-way down the order.

    ``page 2000`` (``PAGE_BY_NUMBER``) starts 39,980 books into the title order: found from
    the counted block it lies in (``adapters.sqlalchemy.title_blocks``) on the large
    catalogue, past the end on the small one."""
    return [
        ("first page", "/api/v1/books"),
        (PAGE_BY_NUMBER, "/api/v1/books?page=2000"),
        ("sort=-year", "/api/v1/books?sort=-year"),
        ("available=true", "/api/v1/books?available=true"),
        ("author=Name", "/api/v1/books?author=haddad+42"),
        ("q=common word", "/api/v1/books?q=lighthouse"),
        ("q=two words", "/api/v1/books?q=lighthouse+winter"),
        ("q=rare word", f"/api/v1/books?q={rows // 3}"),
    ]


# A deep page by number of the whole catalogue in title order: the ratio row says how deep.
PAGE_BY_NUMBER = "page 2000"


# The page in the middle of the catalogue, by cursor: as deep as the catalogue is large, and
# meant to cost what the first page costs at any size.
MIDDLE_BY_CURSOR = "after=middle cursor"


def middle_cursor(port: int, rows: int, auth: dict[str, str]) -> str:
    """The cursor that starts the page in the middle of the book list (got once, by number)."""
    middle = max(1, rows // 2 // 20)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", f"/api/v1/books?per_page=20&page={middle}", headers=auth)
    cursor = json.loads(connection.getresponse().read())["next_cursor"]
    connection.close()
    return str(cursor)


# Requests asked of one catalogue's server before the other's, in turns, for row 3.
TURN = 5


def p50s(
    folder: Path, small_url: str, large_url: str, sizes: tuple[int, int], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """The p50 of each request of row 3, of the small and the large catalogue. Both are served
    at once and each request is asked of one server, then of the other, ``TURN`` times a turn:
    a change in the machine's load (another job starting, say) then falls on both sides of a
    ratio, not on one catalogue's requests and not the other's."""
    with (
        circulate_server(folder, small_url) as (small_port, _small_pid, small_key),
        circulate_server(folder, large_url) as (large_port, _large_pid, large_key),
    ):
        sides = []
        for port, key, rows in (
            (small_port, small_key, sizes[0]),
            (large_port, large_key, sizes[1]),
        ):
            auth = {"Authorization": f"ApiKey {key}"}
            requests = dict(latency_requests(rows))
            requests[MIDDLE_BY_CURSOR] = f"/api/v1/books?after={middle_cursor(port, rows, auth)}"
            # One client's keep-alive connection per server, as before the turns: its requests
            # stay with one worker, whose pooled connection has the statements prepared.
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            sides.append((connection, auth, requests))
        found: tuple[dict[str, float], dict[str, float]] = ({}, {})
        for name in sides[0][2]:
            timings: tuple[list[float], list[float]] = ([], [])
            for connection, auth, requests in sides:
                timed(connection, requests[name], 2, auth)  # warm-up
            while len(timings[1]) < repeat:
                for (connection, auth, requests), side in zip(sides, timings, strict=True):
                    side += timed(connection, requests[name], min(TURN, repeat - len(side)), auth)
            for figures, side in zip(found, timings, strict=True):
                figures[name] = statistics.median(side)
        for connection, _auth, _requests in sides:
            connection.close()
    return found


def latency_at_scale(folder: Path, small: int, large: int, repeat: int, keep: bool) -> None:
    try:
        small_url, large_url = postgres_catalogue(small), postgres_catalogue(large)
        small_ms, large_ms = p50s(folder, small_url, large_url, (small, large), repeat)
    finally:
        if not keep:
            drop_postgres(small)
            drop_postgres(large)
    print(f"\n3. p50 of list requests on PostgreSQL, {large:,} vs {small:,} books, {repeat} each "
          f"(load average {load_average()})")  # fmt: skip
    print(f"   {'request':16} {'large ms':>9} {'small ms':>9} {'ratio':>6}   (target <= 1.5 and "
          "< 15 ms; goal 1.3)")  # fmt: skip
    for name in large_ms:
        ratio = large_ms[name] / small_ms[name]
        note = "   (39,980 books in; past the end when small)"
        print(f"   {name:16} {large_ms[name]:9.1f} {small_ms[name]:9.1f} {ratio:6.2f}"
              f"{note if name == PAGE_BY_NUMBER else ''}")  # fmt: skip


# ---------------------------------------------------------------- the profile


def profile(folder: Path, seconds: int, keep: Path | None) -> None:
    py_spy = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(py_spy).exists():
        print("\nprofile: py-spy is not installed (pip install py-spy)")
        return
    url = f"sqlite:///{folder / 'catalogue.db'}"
    if not Path(url.removeprefix("sqlite:///")).exists():
        url = sqlite_catalogue(folder, 1000)
    with circulate_server(folder, url) as (port, pid, key):
        auth = {"Authorization": f"ApiKey {key}"}
        get_many(port, LIST_PATH, 20, auth)
        worker = gunicorn_workers(pid)[0]
        raw = folder / "profile.txt"
        load = subprocess.Popen(  # noqa: S603
            ["wrk", "-t2", "-c8", f"-d{seconds + 2}s", "-H", f"Authorization: ApiKey {key}",  # noqa: S607
             f"http://127.0.0.1:{port}{LIST_PATH}"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        subprocess.run(  # noqa: S603
            [py_spy, "record", "--pid", str(worker), "--duration", str(seconds), "--rate", "250",
             "--format", "raw", "--output", str(raw), "--nonblocking", "--gil"],
            capture_output=True, check=True,
        )  # fmt: skip
        load.wait()
    if keep is not None:
        shutil.copy(raw, keep)
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    request_samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.rpartition(" (")[0] or frame for frame in stack.split(";")]
        # Only samples inside a request: idle threads waiting for sockets say nothing.
        if not any(frame.startswith("wsgi_app") or "handle_request" in frame for frame in frames):
            continue
        samples = int(count)
        request_samples += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    print(f"\nprofile of one worker under wrk -c8, {seconds}s, {request_samples} samples inside "
          f"requests (load average {load_average()})")  # fmt: skip
    print("   top 10 by own time (the function itself, not its callees):")
    for frame, samples in own.most_common(10):
        print(f"   {100 * samples / request_samples:5.1f}%  {frame}")
    print("   top 10 by inclusive time, below the request handler:")
    skip = ("wsgi_app", "handle_request", "handle", "run", "_bootstrap", "__call__", "accept")
    shown = 0
    for frame, samples in inclusive.most_common():
        if frame.split(" ")[0] in skip or samples == request_samples:
            continue
        print(f"   {100 * samples / request_samples:5.1f}%  {frame}")
        shown += 1
        if shown == 10:
            break


def in_process(folder: Path, requests: int) -> None:
    """Time and profile ``requests`` list reads through the test client, in this process."""
    import cProfile
    import pstats

    url = sqlite_catalogue(folder, 1000)
    env = circulate_env(folder, url, free_port())
    key = api_key(env)
    os.environ.update({name: value for name, value in env.items() if name.startswith("CIRCULATE_")})
    from entrypoints.http import create_app

    # The request log is written as in production (its cost is part of the path), to stderr.
    client = create_app().test_client()
    auth = {"Authorization": f"ApiKey {key}"}

    def read(count: int) -> None:
        for _ in range(count):
            response = client.get(LIST_PATH, headers=auth)
            if response.status_code != 200:
                raise RuntimeError(f"{LIST_PATH}: {response.status_code} {response.data[:300]!r}")

    read(50)  # warm-up: statement caches, first-request work
    started, cpu_started = time.perf_counter(), time.process_time()
    read(requests)
    per_request = (time.perf_counter() - started) * 1000 / requests
    # The process's own CPU time: what other jobs on a shared machine change least.
    cpu_per_request = (time.process_time() - cpu_started) * 1000 / requests
    profiler = cProfile.Profile()
    profiler.runcall(read, requests)
    print(f"\nin process: authenticated GET {LIST_PATH}, SQLite, test client, {requests} "
          f"requests: {per_request:.2f} ms/request, {cpu_per_request:.2f} ms of CPU/request "
          f"(load average {load_average()})")  # fmt: skip
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(12)
    stats.sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = __doc__.split("\n\n", 1)[1]
    parser.add_argument("--seconds", type=int, default=10, help="wrk run length (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="alternated wrk runs each (2)")
    parser.add_argument("--small", type=int, default=1_000, help="books, small catalogue")
    parser.add_argument("--large", type=int, default=1_000_000, help="books, large catalogue")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests each (30)")
    parser.add_argument("--skip-postgres", action="store_true", help="rows 1 and 2 only")
    parser.add_argument("--skip-throughput", action="store_true", help="row 3 only")
    parser.add_argument("--keep-databases", action="store_true", help="reuse them next time")
    parser.add_argument(
        "--database-suffix", default="", help="appended to the PostgreSQL databases' names"
    )
    parser.add_argument("--profile-seconds", type=int, default=10, help="0: no profile")
    parser.add_argument(
        "--profile-output", type=Path, help="keep the raw profile (py-spy's collapsed stacks)"
    )
    parser.add_argument(
        "--in-process", type=int, default=0, metavar="N",
        help="only time and profile N requests through the test client, in this process",
    )  # fmt: skip
    args = parser.parse_args()
    DATABASE_SUFFIX[0] = args.database_suffix
    if args.in_process:
        with tempfile.TemporaryDirectory(prefix="circulate-bench-") as name:
            in_process(Path(name), args.in_process)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("error: wrk is not installed (apt-get install wrk)")
    print(f"load average at start: {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="circulate-bench-") as name:
        folder = Path(name)
        if not args.skip_throughput:
            throughput_and_memory(folder, args.seconds, args.rounds)
        if not args.skip_postgres:
            latency_at_scale(folder, args.small, args.large, args.repeat, args.keep_databases)
        if args.profile_seconds:
            profile(folder, args.profile_seconds, args.profile_output)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
