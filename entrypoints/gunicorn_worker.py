"""gunicorn's threaded worker, accepting a connection only while one of its threads is free.

Every worker listens on the one socket the master opened, and gunicorn's ``gthread`` worker
accepts whatever arrives as long as it holds fewer than ``worker_connections`` (1,000). Clients
that open several keep-alive connections at once (a browser, a connection pool, a load tester)
may then all land on the one worker that woke first: it serves them with its threads, behind
one interpreter lock, while the other workers sit idle, for as long as the connections live.

``BalancedThreadWorker`` leaves the listening socket to the other workers while each of its
threads already has a connection to serve (a request in progress, or a new connection whose
first request is awaited). The connection stays in the kernel's queue until a worker with a
free thread takes it, which is where gunicorn would have queued it anyway (in the thread pool's
queue, behind the busy threads), except that now any worker can take it. Idle keep-alive
connections wait in the worker's poller, not in a thread, and do not count: a worker whose
clients are idle keeps accepting, so no new client waits for an idle one to time out.

A kept-alive connection whose client sends its next request at once (a connection pool or a
script working through a list keeps its connections that busy) is served on by the thread that
answered the last one, when the request arrives within ``NEXT_REQUEST_WAIT`` and no other
connection is waiting for a thread, for up to ``FOLLOW_UPS`` requests in a row. Handing the
connection back to the poller and out to a thread again costs some thirty system calls (the
poller's registrations, the wake-up pipe, the thread pool's and the interpreter's locks) and
two thread switches: about 60 microseconds of a worker's CPU per request. A client that pauses
longer finds its connection back in the poller, as before; so does a busy one after
``FOLLOW_UPS`` requests, which lets the poller hear of new clients (a worker whose threads are
all busy does not accept) and of the others.

Built on ``ThreadWorker``'s ``enqueue_req``, ``finish_request``, ``set_accept_enabled`` and
``handle`` (gunicorn is pinned to its major release for it); every request is still parsed and
answered by gunicorn's own code.
"""

from __future__ import annotations

import select
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# How long a thread waits on its connection for the client's next request (milliseconds) before
# it hands the connection back to the poller.
NEXT_REQUEST_WAIT = 2
# Requests of one connection a thread serves in a row before handing it back to the poller.
FOLLOW_UPS = 8


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """A ``gthread`` worker that accepts only while a thread is free (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Connections handed to the thread pool and not yet back: only the main thread (the
        # poller's) changes it, so it needs no lock.
        self.busy_threads = 0
        self.threads: int = self.cfg.threads

    def has_free_thread(self) -> bool:
        return self.busy_threads < self.threads

    def set_accept_enabled(self, enabled: bool) -> None:
        # The run loop asks again after every event (a request done wakes it), so a worker
        # starts accepting again as soon as one of its threads is free.
        super().set_accept_enabled(enabled and self.has_free_thread())

    def enqueue_req(self, conn: Any) -> None:
        self.busy_threads += 1
        super().enqueue_req(conn)
        if not self.has_free_thread():
            # Before the next poll: a burst of connections already queued must find the
            # listening socket closed to this worker, not take one more connection each turn.
            self.set_accept_enabled(False)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.busy_threads -= 1
        super().finish_request(conn, fs)

    def handle(self, conn: Any) -> Any:
        keepalive = super().handle(conn)
        for _ in range(FOLLOW_UPS):
            if keepalive is not True or not self._next_request_comes(conn):
                break
            keepalive = super().handle(conn)
        return keepalive

    def _next_request_comes(self, conn: Any) -> bool:
        """Whether ``conn``'s next request is here, or arrives within ``NEXT_REQUEST_WAIT``, on
        a worker still serving whose other connections are not waiting for this thread."""
        if not self.alive or conn.is_http2 or self.busy_threads > self.threads:
            return False
        if conn.parser.unreader.buf.getvalue():
            return True  # read ahead with the last request's body
        waiting = select.poll()
        waiting.register(conn.sock, select.POLLIN)
        return bool(waiting.poll(NEXT_REQUEST_WAIT))
