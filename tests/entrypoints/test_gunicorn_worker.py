"""The threaded worker that accepts only while a thread is free, under a real gunicorn, and
the rule by which a thread serves a kept-alive connection on."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from entrypoints.gunicorn_worker import FOLLOW_UPS, BalancedThreadWorker
from tests.services import free_port, wait_until

pytestmark = pytest.mark.e2e

WORKERS, THREADS = 2, 2
# Named, not imported from gunicorn_conf: loading that module sets up gunicorn's metrics
# directory in this process, which would switch every later test's metrics to it.
THREADED_WORKER = f"{BalancedThreadWorker.__module__}.{BalancedThreadWorker.__qualname__}"
APP = """
import os

def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _connections_by_worker(port: int, workers: list[int]) -> dict[int, int]:
    """How many established connections to ``port`` each worker holds."""
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    counts = {}
    for worker in workers:
        inodes = set()
        for fd in Path(f"/proc/{worker}/fd").iterdir():
            with suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        counts[worker] = len(inodes & established)
    return counts


@contextmanager
def gunicorn(
    tmp_path: Path, workers: int = WORKERS, threads: int = THREADS
) -> Iterator[tuple[int, list[int]]]:
    """A gunicorn of ``workers`` balanced workers serving ``APP``: (port, worker pids)."""
    (tmp_path / "pid_app.py").write_text(APP)
    (tmp_path / "empty_conf.py").write_text("")
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(tmp_path / "empty_conf.py"),
        "-k", THREADED_WORKER, "-w", str(workers), "--threads", str(threads),
        # Long enough that no test below can be passing by waiting a keep-alive out.
        "--keep-alive", "120", "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path), "pid_app:app",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: len(_children(process.pid)) == workers, "the workers to start")
        wait_until(lambda: _answers(port) is not None, "the server to answer")
        yield port, _children(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(port: int) -> str | None:
    with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return _response(client)
    return None


def _response(client: socket.socket) -> str:
    """The body of the one response ``client`` reads (the app's answers are tiny)."""
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(_body_of(data)):
        chunk = client.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body.decode()


def _body_of(data: bytes) -> bytes:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return body if len(body) >= int(value) else b"\x00incomplete"
    return b"\x00incomplete"


def _get(client: socket.socket) -> str:
    client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
    return _response(client)


def test_clients_arriving_together_are_spread_over_the_workers(tmp_path: Path) -> None:
    with gunicorn(tmp_path) as (port, workers):
        # Connected, nothing sent yet: each accepted connection holds a thread of its worker
        # until its request arrives, so a worker takes no more than it has threads.
        clients = [
            socket.create_connection(("127.0.0.1", port), timeout=30)
            for _ in range(WORKERS * THREADS)
        ]
        try:
            wait_until(
                lambda: sum(_connections_by_worker(port, workers).values()) == len(clients),
                "every connection to be accepted",
            )
            assert sorted(_connections_by_worker(port, workers).values()) == [THREADS] * WORKERS

            # Every client is served, over and over, by the worker that accepted it.
            first = [_get(client) for client in clients]
            assert set(first) == {str(worker) for worker in workers}
            assert [_get(client) for client in clients] == first
        finally:
            for client in clients:
                client.close()


def test_idle_keep_alive_connections_leave_room_for_new_clients(tmp_path: Path) -> None:
    with gunicorn(tmp_path) as (port, workers):
        # Twice as many kept-alive connections as there are threads, all idle after a request.
        idle = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(8)]
        try:
            for client in idle:
                _get(client)

            # Served without waiting for any of them to time out (120 s): the socket gives up
            # at half that, failing the test.
            with socket.create_connection(("127.0.0.1", port), timeout=60) as newcomer:
                assert _get(newcomer) in {str(worker) for worker in workers}
        finally:
            for client in idle:
                client.close()


class _Connection:
    """What ``BalancedThreadWorker`` reads of gunicorn's connection: its socket, whether it
    speaks HTTP/2, and the bytes its parser has read ahead."""

    def __init__(self, sock: socket.socket, read_ahead: bytes = b"") -> None:
        self.sock = sock
        self.is_http2 = False
        self.parser = SimpleNamespace(unreader=SimpleNamespace(buf=io.BytesIO(read_ahead)))


def _worker(busy_threads: int = 1, threads: int = 2, alive: bool = True) -> BalancedThreadWorker:
    # Only the state the follow-up rule reads: a real worker needs a master and its sockets.
    worker = BalancedThreadWorker.__new__(BalancedThreadWorker)
    worker.alive, worker.busy_threads, worker.threads = alive, busy_threads, threads
    return worker


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    with server, client:
        yield server, client


def test_a_request_already_sent_is_served_on_by_the_same_thread(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    server, client = sockets
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert _worker()._next_request_comes(_Connection(server))


def test_a_request_read_ahead_is_served_on_by_the_same_thread(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    server, _ = sockets  # nothing on the socket: the parser holds the next request already
    assert _worker()._next_request_comes(_Connection(server, b"GET / HTTP/1.1\r\n"))


def test_a_client_that_pauses_goes_back_to_the_poller(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    server, _ = sockets
    assert not _worker()._next_request_comes(_Connection(server))


@pytest.mark.parametrize(
    "worker",
    [
        _worker(busy_threads=3, threads=2),  # another connection waits for a thread
        _worker(alive=False),  # the worker is stopping
    ],
    ids=["others-wait", "stopping"],
)
def test_the_connection_goes_back_when_others_wait_or_the_worker_stops(
    sockets: tuple[socket.socket, socket.socket], worker: BalancedThreadWorker
) -> None:
    server, client = sockets
    client.sendall(b"GET / HTTP/1.1\r\n")
    assert not worker._next_request_comes(_Connection(server))


def test_a_thread_hands_a_busy_connection_back_after_its_follow_ups(
    monkeypatch: pytest.MonkeyPatch, sockets: tuple[socket.socket, socket.socket]
) -> None:
    # The client always has its next request there: after ``FOLLOW_UPS`` of them in a row, the
    # connection still goes back to the poller, which then hears of new clients and others.
    served: list[object] = []

    def serve_one(_worker: ThreadWorker, conn: object) -> bool:
        served.append(conn)
        return True  # kept alive

    monkeypatch.setattr(ThreadWorker, "handle", serve_one)
    monkeypatch.setattr(BalancedThreadWorker, "_next_request_comes", lambda _self, _conn: True)
    connection = _Connection(sockets[0])
    assert _worker().handle(connection) is True
    assert served == [connection] * (1 + FOLLOW_UPS)


@pytest.mark.parametrize("answer", [False, "_DEFER"])
def test_a_connection_not_kept_alive_is_not_waited_on(
    monkeypatch: pytest.MonkeyPatch, sockets: tuple[socket.socket, socket.socket], answer: object
) -> None:
    served: list[object] = []

    def serve_one(_worker: ThreadWorker, conn: object) -> object:
        served.append(conn)
        return answer  # closed, or handed back to the poller before a first request

    monkeypatch.setattr(ThreadWorker, "handle", serve_one)
    monkeypatch.setattr(BalancedThreadWorker, "_next_request_comes", lambda _self, _conn: True)
    assert _worker().handle(_Connection(sockets[0])) is answer
    assert len(served) == 1
