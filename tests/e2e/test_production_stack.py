"""The production stack for real: ``circulate serve --workers 3`` (gunicorn) in production mode
on PostgreSQL and Redis, driven over HTTP from several threads.

One server serves the whole module (starting it costs seconds); the test that kills a worker
runs last. Redis is a private server started for the module (tests/private_redis.py); the workers
share their rate limits and revoked tokens there. Which
worker served what is read from the workers' own metrics files.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.mmap_dict import MmapedDict
from sqlalchemy import text
from sqlalchemy.engine import Engine

from adapters.sqlalchemy.engine import create_engine_for
from tests.databases import temporary_postgres_database
from tests.private_redis import private_redis
from tests.served import CIRCULATE
from tests.services import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(60)]

WORKERS = 3
STARTUP_SECONDS = 30.0
# Sign-in attempts per account: what the rate-limit check spends. The other limits are far
# above anything the module sends, so only that check ever meets a 429.
LOGIN_LIMIT = 10
METRICS_TOKEN = "a-scraper-token-of-some-length"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
TOKEN_ROUTE = "/api/v1/auth/token"
ME_ROUTE = "/api/v1/members/me"


@dataclass
class Stack:
    base: str
    port: int
    master: subprocess.Popen[bytes]
    engine: Engine
    metrics_dir: Path
    log: Path
    api_key: str  # an admin integration's, for the requests that set up a scene

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0
    ) -> tuple[int, dict[str, str], Any]:
        """One request as the admin integration."""
        headers = {"Authorization": f"ApiKey {self.api_key}"}
        return self.call(method, path, body, headers=headers, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, dict[str, str], Any]:
        """One request with only ``headers``, on a connection of its own, so the kernel may
        give it to any worker."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            payload = None if body is None else json.dumps(body)
            sent = {"Content-Type": "application/json"} if body is not None else {}
            sent.update(headers or {})
            connection.request(method, path, body=payload, headers=sent)
            response = connection.getresponse()
            data = response.read()
            content_type = response.getheader("Content-Type", "")
            parsed: Any = json.loads(data) if "json" in content_type and data else data.decode()
            return response.status, dict(response.getheaders()), parsed
        finally:
            connection.close()

    def workers(self) -> set[int]:
        return _children(self.master.pid)


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its closing paren.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.add(int(entry.name))
    return found


def _wait_until(
    predicate: Any, seconds: float, what: str | Callable[[], str], stack: Stack | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if stack is not None and stack.master.poll() is not None:
            pytest.fail(f"gunicorn exited with {stack.master.returncode}:\n{stack.log.read_text()}")
        if time.monotonic() > deadline:
            log = stack.log.read_text()[-4000:] if stack is not None else ""
            pytest.fail(f"{what if isinstance(what, str) else what()} within {seconds} s\n{log}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CIRCULATE.exists():
        pytest.fail(f"{CIRCULATE} is missing: install the package (make install)")
    home = tmp_path_factory.mktemp("stack")
    with private_redis(home) as redis_url, temporary_postgres_database() as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
        env.update(
            CIRCULATE_ENVIRONMENT="production",
            CIRCULATE_DATABASE_URL=database_url,
            CIRCULATE_REDIS_URL=redis_url,
            CIRCULATE_REVOCATION_STORE="redis",
            CIRCULATE_RATE_LIMIT_DEFAULT="100000 per minute",
            CIRCULATE_RATE_LIMIT_AUTH_PER_IP="1000 per minute",
            CIRCULATE_RATE_LIMIT_AUTH_PER_ACCOUNT=f"{LOGIN_LIMIT} per minute",
            CIRCULATE_SIGNING_KEYS_FILE=str(home / "keys.json"),
            CIRCULATE_THREADS="4",
            CIRCULATE_TIMEOUT_SECONDS="20",
            CIRCULATE_GRACEFUL_TIMEOUT_SECONDS="5",
            CIRCULATE_LOG_FORMAT="json",
            CIRCULATE_METRICS_TOKEN=METRICS_TOKEN,
            PROMETHEUS_MULTIPROC_DIR=str(home / "metrics"),
        )
        for step in (["db", "upgrade"], ["keys", "rotate"]):
            subprocess.run([str(CIRCULATE), *step], env=env, cwd=home, check=True, timeout=60)
        scopes = ["books:read", "books:write", "loans:read", "loans:write"]
        scopes += ["members:read", "members:write", "admin"]
        created = subprocess.run(
            [str(CIRCULATE), "api-keys", "create", "--name", "e2e"]
            + [option for scope in scopes for option in ("--scope", scope)],
            env=env,
            cwd=home,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        )
        api_key = created.stdout.strip().splitlines()[-1]
        port = free_port()
        log = home / "gunicorn.log"
        with log.open("wb") as output:
            command = [str(CIRCULATE), "serve", "--workers", str(WORKERS), "--port", str(port)]
            master = subprocess.Popen(
                [*command, "--host", "127.0.0.1"],
                env=env,
                cwd=home,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        engine = create_engine_for(database_url)
        stack = Stack(
            f"http://127.0.0.1:{port}", port, master, engine, home / "metrics", log, api_key
        )
        try:
            last: list[Any] = []

            def ready() -> bool:
                try:
                    status, _, body = stack.request("GET", "/readyz", timeout=2)
                except OSError:
                    return False
                last[:] = [body]
                return status == 200

            _wait_until(
                ready, STARTUP_SECONDS, lambda: f"/readyz did not answer 200 ({last})", stack
            )
            _wait_until(lambda: len(stack.workers()) == WORKERS, 10, "workers did not start", stack)
            yield stack
        finally:
            master.send_signal(signal.SIGTERM)
            try:
                master.wait(timeout=20)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait(timeout=10)
            engine.dispose()


def _counter(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


def _isbn13(n: int) -> str:
    digits = f"978{n:09d}"
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


def _register(stack: Stack, email: str, password: str | None = None) -> str:
    fields = {"email": email, "name": email}
    if password is not None:
        fields["password"] = password
    status, _, body = stack.request("POST", "/api/v1/members", fields)
    assert status == 201, body
    member_id: str = body["id"]
    return member_id


def test_the_stack_runs_in_production_mode_and_is_ready(stack: Stack) -> None:
    status, headers, body = stack.request("GET", "/readyz")

    assert status == 200
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "migrations": "ok",
        "redis": "ok",
    }
    assert headers["X-Content-Type-Options"] == "nosniff"
    lines = [json.loads(line) for line in stack.log.read_text().splitlines() if line[:1] == "{"]
    access = [line for line in lines if line.get("logger") == "gunicorn.access"]
    assert access, "no access log line"
    assert {"request_id", "route", "status", "duration_ms"} <= set(access[-1])


def _answers_by_worker(metrics_dir: Path, route: str) -> Counter[tuple[int, int]]:
    """Answers to ``route`` by (worker pid, status), each worker's from its own multiprocess
    file: which worker served what."""
    answers: Counter[tuple[int, int]] = Counter()
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[-1])
        values = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
        for key, value, _, _ in values:
            _, sample, labels, _ = json.loads(key)
            if sample == "circulate_http_requests_total" and labels.get("route") == route:
                answers[pid, int(labels["status"])] += int(value)
    return answers


def _served_by_worker(metrics_dir: Path, route: str) -> dict[int, int]:
    """Requests to ``route`` each worker counted."""
    served: Counter[int] = Counter()
    for (pid, _), count in _answers_by_worker(metrics_dir, route).items():
        served[pid] += count
    return dict(served)


def test_metrics_add_up_every_workers_requests(stack: Stack) -> None:
    labels = {"method": "GET", "route": "/api/v1", "status": "200"}
    scraped = stack.call("GET", "/metrics", headers=SCRAPER)[2]
    before = _counter(scraped, "circulate_http_requests_total", **labels)
    sent = 0

    def get_index(_: int) -> int:
        return stack.request("GET", "/api/v1")[0]

    # Bursts of parallel requests until at least two workers have served some (bounded).
    with ThreadPoolExecutor(max_workers=12) as pool:
        while sent < 600:
            assert set(pool.map(get_index, range(30))) == {200}
            sent += 30
            if len([n for n in _served_by_worker(stack.metrics_dir, "/api/v1").values() if n]) >= 2:
                break
    assert len([n for n in _served_by_worker(stack.metrics_dir, "/api/v1").values() if n]) >= 2

    # Whichever worker answers the scrape, the total is everyone's.
    for _ in range(6):
        metrics = stack.call("GET", "/metrics", headers=SCRAPER)[2]
        assert _counter(metrics, "circulate_http_requests_total", **labels) == before + sent


def test_a_burst_of_borrows_of_one_copy_makes_exactly_one_loan(stack: Stack) -> None:
    status, _, book = stack.request(
        "POST",
        "/api/v1/books",
        {"isbn": _isbn13(1), "title": "The only copy", "authors": ["A"], "barcodes": ["ONE-1"]},
    )
    assert status == 201, book
    members = [_register(stack, f"burst{n}@example.org") for n in range(20)]
    availability = stack.request("GET", f"/api/v1/books/{book['id']}/availability")[2]
    assert availability["available"] == 1  # now cached, in Redis
    start = threading.Barrier(len(members))

    def borrow(member_id: str) -> int:
        start.wait(timeout=10)
        body = {"member_id": member_id, "book_id": book["id"]}
        status, _, answer = stack.request("POST", "/api/v1/loans", body, timeout=30)
        assert status in {201, 409}, answer
        return status

    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        statuses = list(pool.map(borrow, members))

    assert sorted(statuses) == [201] + [409] * (len(members) - 1)
    with stack.engine.connect() as connection:
        open_loans = connection.execute(
            text(
                "SELECT count(*) FROM loans JOIN copies ON copies.id = loans.copy_id "
                "WHERE copies.book_id = :book AND loans.returned_at IS NULL"
            ),
            {"book": book["id"]},
        ).scalar_one()
    assert open_loans == 1
    # No worker serves the cached availability from before the loan.
    for _ in range(6):
        availability = stack.request("GET", f"/api/v1/books/{book['id']}/availability")[2]
        assert (availability["available"], availability["on_loan"]) == (0, 1)


def test_a_rate_limit_holds_across_workers(stack: Stack) -> None:
    """Guesses at one account's password get ``LOGIN_LIMIT`` answers in all, not that many per
    worker: the workers count in Redis together."""
    email = "guessed@example.org"
    _register(stack, email, "the real passphrase 1")
    before = _answers_by_worker(stack.metrics_dir, TOKEN_ROUTE)
    answers: list[tuple[int, dict[str, str], Any]] = []

    def guess(n: int) -> tuple[int, dict[str, str], Any]:
        return stack.call("POST", TOKEN_ROUTE, {"email": email, "password": f"wrong guess {n}"})

    def by_worker() -> Counter[tuple[int, int]]:
        return _answers_by_worker(stack.metrics_dir, TOKEN_ROUTE) - before

    def refused_early() -> set[int]:
        """Workers that refused a guess before they had answered ``LOGIN_LIMIT`` themselves:
        with a limit of their own, none would have."""
        served = by_worker()
        workers = {pid for pid, _ in served}
        return {
            pid
            for pid in workers
            if served[pid, 429]
            and sum(n for (p, status), n in served.items() if p == pid and status != 429)
            < LOGIN_LIMIT
        }

    # Bursts of parallel guesses until the proof is in (bounded).
    with ThreadPoolExecutor(max_workers=12) as pool:
        while len(answers) < 150:
            answers += pool.map(guess, range(len(answers), len(answers) + 30))
            if refused_early() and len({pid for pid, _ in by_worker()}) >= 2:
                break

    let_through = [body for status, _, body in answers if status != 429]
    assert len(let_through) == LOGIN_LIMIT, Counter(status for status, _, _ in answers)
    assert {body["code"] for body in let_through} == {"INVALID_CREDENTIALS"}
    for status, headers, body in answers:
        if status != 429:
            continue
        # Within the minute's window; the limiter rounds its reset time up to the next second.
        assert 1 <= int(headers["Retry-After"]) <= 61
        assert headers["Content-Type"].startswith("application/problem+json")
        assert body["code"] == "RATE_LIMITED"
        assert {"message", "details", "request_id"} <= set(body)
    served = by_worker()
    assert sum(served.values()) == len(answers)  # every answer is in the workers' counts
    assert len({pid for pid, _ in served}) >= 2, served
    assert refused_early(), served


def test_a_revoked_token_is_refused_by_every_worker(stack: Stack) -> None:
    password = "a passphrase to sign out with"
    member_id = _register(stack, "signs-out@example.org", password)
    status, _, tokens = stack.call(
        "POST", TOKEN_ROUTE, {"email": "signs-out@example.org", "password": password}
    )
    assert status == 200, tokens
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    def me(_: int) -> tuple[int, dict[str, str], Any]:
        return stack.call("GET", ME_ROUTE, headers=bearer)

    with ThreadPoolExecutor(max_workers=12) as pool:
        accepted = list(pool.map(me, range(12)))
        assert {(status, body["id"]) for status, _, body in accepted} == {(200, member_id)}

        status, _, body = stack.call("POST", "/api/v1/auth/logout", headers=bearer)
        assert status == 204, body
        before = _answers_by_worker(stack.metrics_dir, ME_ROUTE)
        workers = stack.workers()

        def refusing() -> set[int]:
            served = _answers_by_worker(stack.metrics_dir, ME_ROUTE) - before
            return {pid for pid, status in served if status == 401}

        # At least 30 tries, and on until every worker has refused some (bounded).
        refused: list[tuple[int, dict[str, str], Any]] = []
        while len(refused) < 30 or (not workers <= refusing() and len(refused) < 300):
            refused += pool.map(me, range(30))

    assert workers <= refusing(), (workers, _answers_by_worker(stack.metrics_dir, ME_ROUTE))
    for status, headers, body in refused:
        assert (status, body["code"]) == (401, "TOKEN_REVOKED"), body
        assert headers["WWW-Authenticate"].startswith("Bearer ")
        assert 'error="invalid_token"' in headers["WWW-Authenticate"]


def test_a_worker_killed_mid_request_loses_nothing_committed(stack: Stack) -> None:
    workers = stack.workers()
    assert len(workers) == WORKERS
    victim = sorted(workers)[0]
    created: list[str] = []
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def keep_registering(thread: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                status, _, body = stack.request(
                    "POST",
                    "/api/v1/members",
                    {"email": f"k{thread}-{n}@example.org", "name": "Load"},
                    timeout=15,
                )
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    failures.append(type(error).__name__)  # the killed worker's connections
                continue
            with lock:
                if 200 <= status < 300:
                    created.append(body["id"])
                else:
                    failures.append(str(status))

    threads = [threading.Thread(target=keep_registering, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)

    assert len(created) > 20, (len(created), failures[:5])
    with stack.engine.connect() as connection:
        stored = set(
            connection.execute(
                text("SELECT id FROM members WHERE id = ANY(:ids)"), {"ids": created}
            ).scalars()
        )
    assert stored == set(created)  # every 2xx answer is in the database
    # gunicorn replaced the killed worker, and the service is whole again.
    _wait_until(
        lambda: len(stack.workers()) == WORKERS and victim not in stack.workers(),
        15,
        "the killed worker was not replaced",
        stack,
    )
    assert stack.request("GET", "/readyz")[0] == 200
