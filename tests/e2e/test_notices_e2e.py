"""Notices end to end: a real SMTP server (aiosmtpd) on loopback, a SQLite file, the real worker.

The library's clock is moved by hand in-process; the tests about crashes and concurrency run the
installed ``circulate worker`` as separate processes against the same database file.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from dependency_injector import providers

from adapters.clock import ManualClock
from adapters.sqlalchemy import migrate
from application.catalogue import BookDetails
from application.outbox import Channel, MessageStatus, OutboxFilter
from application.queries import PageRequest
from domain.members import NoticePreferences
from entrypoints.container import Container, build_container, dispose
from entrypoints.settings import Settings
from tests.services import free_port, wait_until

pytestmark = pytest.mark.e2e

CIRCULATE = Path(sys.executable).parent / "circulate"
DAY = timedelta(days=1)
ZONE = "Europe/Paris"


@dataclass
class Mailbox:
    """What the SMTP server received. ``hold_first`` makes it take the first message and then
    never answer, as a server would while the sending worker is killed."""

    messages: list[Message] = field(default_factory=list)
    hold_first: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        del server, session
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            hold = self.hold_first and not self.holding.is_set()
            if hold:
                self.holding.set()
        if hold:
            await asyncio.sleep(3600)
        return "250 OK"

    def subjects(self) -> list[str]:
        with self.lock:
            # Python folds a long subject onto the next line; readers drop the leading space.
            return [str(m["Subject"]).strip() for m in self.messages]

    def ids(self) -> list[str]:
        with self.lock:
            return [str(m["Message-ID"]) for m in self.messages]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()  # fails the test if the server cannot start: never a skip
    try:
        yield box, port
    finally:
        controller.stop(no_assert=True)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'library.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def library(
    database: str, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> Iterator[tuple[Container, ManualClock]]:
    _, port = mailbox
    settings = Settings(
        database_url=database,
        environment="test",
        timezone=ZONE,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="desk@library.example",
        signing_keys_file=str(tmp_path / "keys.json"),
        webhook_allow_private=True,  # the receiver below listens on loopback
    )
    container = build_container(settings, wire=False)
    clock = ManualClock()
    container.clock.override(providers.Object(clock))
    yield container, clock
    dispose(container)


def _lend(container: Container, title: str = "The C Programming Language") -> tuple[str, Any]:
    book = container.library.catalogue().add_book(
        BookDetails(isbn="0-13-110362-8", title=title), ["C-1"]
    )
    ada = container.library.membership().register(email="ada@example.org", name="Ada Lovelace")
    loan = container.library.circulation().borrow(ada.id, book_id=book.book.id)
    return loan.id, loan.due_at


def test_a_loan_makes_exactly_one_due_soon_and_one_overdue_email(
    library: tuple[Container, ManualClock], mailbox: tuple[Mailbox, int]
) -> None:
    container, clock = library
    box, _ = mailbox
    _, due_at = _lend(container)
    worker = container.worker()

    for moment in [-10 * DAY, -3 * DAY + timedelta(hours=1), -2 * DAY, -DAY, DAY, 2 * DAY, 3 * DAY]:
        clock.set(due_at + moment)
        worker.tick()

    local_due = due_at.astimezone(ZoneInfo(ZONE)).strftime("%A %d %B %Y")
    assert box.subjects() == [
        f'"The C Programming Language" is due on {local_due}',
        f'Overdue: "The C Programming Language" was due on {local_due}',
    ]
    overdue = box.messages[1]
    text = next(p for p in overdue.walk() if p.get_content_type() == "text/plain")
    assert "The fine so far is 0.25." in str(text.get_content())  # type: ignore[attr-defined]
    assert {m["To"] for m in box.messages} == {"ada@example.org"}
    assert {p.get_content_type() for p in overdue.walk()} >= {"text/plain", "text/html"}


def test_a_return_cancels_the_reminders_still_pending(
    library: tuple[Container, ManualClock], mailbox: tuple[Mailbox, int]
) -> None:
    container, clock = library
    box, _ = mailbox
    loan_id, due_at = _lend(container)
    clock.set(due_at - DAY)
    assert container.reminders().run() == 1  # written, not yet delivered

    container.library.circulation().return_loan(loan_id)
    container.worker().tick()

    assert box.messages == []
    [message] = [
        m
        for m in container.notices().list(OutboxFilter(), PageRequest()).items
        if m.channel is Channel.EMAIL
    ]
    assert (message.topic, message.status) == ("due_soon", MessageStatus.CANCELLED)


@dataclass
class Receiver:
    """A webhook receiver on loopback: keeps each request's headers and body."""

    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    received.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """The verification snippet of docs/notices.md, as a receiver would run it."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    signed = fields["t"].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(now - int(fields["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected, fields["v1"])


def test_a_returned_copy_a_hold_waits_for_makes_one_hold_ready_email_and_one_signed_webhook(
    library: tuple[Container, ManualClock], mailbox: tuple[Mailbox, int], receiver: Receiver
) -> None:
    container, clock = library
    box, _ = mailbox
    hook = container.webhooks().subscribe(receiver.url, ["hold.ready", "hold.expired"])
    loan_id, _ = _lend(container, title="SICP")
    grace = container.library.membership().register(email="grace@example.org", name="Grace Hopper")
    book_id = container.library.circulation().get_loan(loan_id).book_id
    container.library.circulation().place_hold(grace.id, book_id)

    container.library.circulation().return_loan(loan_id)
    container.worker().tick()
    container.worker().tick()

    [email] = box.messages
    assert email["To"] == "grace@example.org"
    assert str(email["Subject"]).strip().startswith('"SICP" is waiting for you until ')
    [(headers, body)] = receiver.requests
    assert headers["Circulate-Event-Type"] == "hold.ready"
    assert verify(hook.secret, headers["Circulate-Signature"], body, clock.now().timestamp())
    assert not verify(
        "another secret", headers["Circulate-Signature"], body, clock.now().timestamp()
    )
    event = json.loads(body)
    assert event["id"] == headers["Circulate-Event-Id"]
    assert (event["type"], event["data"]["member_id"]) == ("hold.ready", grace.id)


# --- separate worker processes ----------------------------------------------------------------


def _env(database: str, smtp_port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIRCULATE_")}
    env.update(
        CIRCULATE_DATABASE_URL=database,
        CIRCULATE_ENVIRONMENT="test",
        CIRCULATE_SMTP_HOST="127.0.0.1",
        CIRCULATE_SMTP_PORT=str(smtp_port),
        CIRCULATE_MAIL_FROM="desk@library.example",
        CIRCULATE_WORKER_LEASE_SECONDS="1",
        CIRCULATE_WORKER_POLL_SECONDS="0.2",
        CIRCULATE_SIGNING_KEYS_FILE=str(workdir / "keys.json"),
        CIRCULATE_LOG_LEVEL="WARNING",
    )
    return env


def _outbox(database: str) -> list[tuple[str, str, int]]:
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        return connection.execute(
            "SELECT id, status, attempts FROM outbox_messages WHERE channel = 'email' ORDER BY id"
        ).fetchall()


def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_only_by_id(
    library: tuple[Container, ManualClock],
    mailbox: tuple[Mailbox, int],
    database: str,
    tmp_path: Path,
) -> None:
    container, clock = library
    box, port = mailbox
    for n in range(3):
        book = container.library.catalogue().add_book(
            BookDetails(isbn=["9780131103627", "9780262510875", "9780201633610"][n], title=f"B{n}"),
            [f"C-{n}"],
        )
        member = container.library.membership().register(email=f"m{n}@example.org", name=f"M{n}")
        loan = container.library.circulation().borrow(member.id, book_id=book.book.id)
    clock.set(loan.due_at - DAY)
    assert container.reminders().run() == 3
    box.hold_first = True

    env = _env(database, port, tmp_path)
    first = subprocess.Popen([str(CIRCULATE), "worker"], env=env, cwd=tmp_path)
    try:
        wait_until(box.holding.is_set, "the first worker to be mid-delivery")
    finally:
        first.kill()  # SIGKILL: no chance to record anything
        first.wait(timeout=30)

    def all_delivered() -> bool:
        subprocess.run(
            [str(CIRCULATE), "worker", "--once"], env=env, cwd=tmp_path, check=True, timeout=120
        )
        return all(status == "delivered" for _, status, _ in _outbox(database))

    wait_until(all_delivered, "another worker to deliver every message")

    ids = box.ids()
    stored = {f"<{message_id}@library.example>" for message_id, _, _ in _outbox(database)}
    assert set(ids) == stored  # nothing lost
    assert len(ids) - len(set(ids)) == 1  # the one in flight was resent, under its Message-ID


def test_two_workers_at_once_run_each_scheduled_job_once(
    database: str, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    _, port = mailbox
    env = _env(database, port, tmp_path)
    workers = [
        subprocess.Popen(
            [str(CIRCULATE), "worker", "--once"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0]

    ran = [name for out in outputs for name in out.split(";")[0].removeprefix("ran ").split(", ")]
    ran = [name for name in ran if name != "no job"]
    jobs = [
        "catalogue-title-blocks",
        "holds-expire",
        "loans-age-to-lost",
        "loans-anonymise",
        "notices-pickup",
        "notices-reminders",
        "outbox-purge",
        "sessions-purge",
    ]
    assert sorted(ran) == jobs
    with sqlite3.connect(database.removeprefix("sqlite:///")) as connection:
        rows = connection.execute("SELECT job, outcome FROM job_runs ORDER BY job").fetchall()
    assert rows == [(job, "done") for job in jobs]


def test_a_late_return_makes_receipts_for_a_member_who_asked_and_a_signed_fine_posted(
    library: tuple[Container, ManualClock], mailbox: tuple[Mailbox, int], receiver: Receiver
) -> None:
    container, clock = library
    box, _ = mailbox
    hook = container.webhooks().subscribe(receiver.url, ["fine.posted"])
    book = container.library.catalogue().add_book(
        BookDetails(isbn="0-13-110362-8", title="K&R"), ["C"]
    )
    ada = container.library.membership().register(email="ada@example.org", name="Ada Lovelace")
    container.notice_choices().choose(ada.id, NoticePreferences(receipts=True))
    loan = container.library.circulation().borrow(ada.id, book_id=book.book.id)
    container.worker().tick()

    clock.set(loan.due_at + 2 * DAY)
    container.library.circulation().return_loan(loan.id)
    container.worker().tick()

    assert [s.split(":")[0] for s in box.subjects()] == ["Receipt", "Receipt"]
    returned = next(p for p in box.messages[1].walk() if p.get_content_type() == "text/plain")
    assert "A fine of 0.50 was added to your account." in str(returned.get_content())  # type: ignore[attr-defined]
    [(headers, body)] = receiver.requests
    assert verify(hook.secret, headers["Circulate-Signature"], body, clock.now().timestamp())
    event = json.loads(body)
    assert (event["type"], event["data"]) == (
        "fine.posted",
        {"loan_id": loan.id, "member_id": ada.id, "amount_cents": 50},
    )
