"""Notices: written with their cause, delivered once, never for a loan already returned."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.clock import ManualClock
from adapters.ids import UuidV7Generator
from adapters.memory import MemoryDatabase, MemoryUnitOfWork
from adapters.memory.outbox import MemoryOutboxStore
from adapters.notices.memory import MemoryNotifier
from application.catalogue import BookDetails, Catalogue
from application.circulation import Circulation
from application.members import Membership
from application.notices import (
    DUE_SOON,
    HOLD_READY,
    OVERDUE,
    Notice,
    NoticeDelivery,
    NoticeRouter,
    Reminders,
    ReminderSchedule,
)
from application.outbox import Backoff, Channel, MessageStatus, OutboxFilter, OutboxMessage
from application.queries import PageRequest
from domain.events import HoldReady
from domain.policy import Policy
from tests.unit.support import START, FakeHasher

DAY = timedelta(days=1)


class FlakyNotifier(MemoryNotifier):
    """Fails the first ``failures`` sends, then works."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, notice: Notice) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionRefusedError("the mail server is down")
        super().send(notice)


@dataclass
class Library:
    db: MemoryDatabase
    clock: ManualClock
    catalogue: Catalogue
    membership: Membership
    circulation: Circulation
    reminders: Reminders
    outbox: MemoryOutboxStore
    notifier: MemoryNotifier
    delivery: NoticeDelivery

    def messages(self) -> list[OutboxMessage]:
        """The email notices (events for webhooks are outbox messages too)."""
        found = self.outbox.list(OutboxFilter(), PageRequest(per_page=100)).items
        return [m for m in found if m.channel is Channel.EMAIL]

    def deliver(self) -> None:
        self.delivery.deliver_due("worker-1")


def library(notifier: MemoryNotifier | None = None, backoff: Backoff | None = None) -> Library:
    db, clock, ids = MemoryDatabase(), ManualClock(START), UuidV7Generator()
    policy = Policy(time_zone="Europe/Paris")
    router = NoticeRouter(ids)

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, records_for_events=router)

    outbox = MemoryOutboxStore(db)
    notifier = notifier or MemoryNotifier()
    return Library(
        db=db,
        clock=clock,
        catalogue=Catalogue(uow, clock, ids, policy),
        membership=Membership(uow, clock, ids, policy, FakeHasher()),
        circulation=Circulation(uow, clock, ids, policy),
        reminders=Reminders(uow, outbox, clock, ids, policy, ReminderSchedule()),
        outbox=outbox,
        notifier=notifier,
        delivery=NoticeDelivery(
            uow, outbox, notifier, clock, policy, backoff=backoff or Backoff(attempts=2)
        ),
    )


def _lend(lib: Library) -> tuple[str, datetime]:
    book = lib.catalogue.add_book(BookDetails(isbn="0-13-110362-8", title="K&R"), ["C-1"]).book
    ada = lib.membership.register(email="ada@example.org", name="Ada")
    loan = lib.circulation.borrow(ada.id, book_id=book.id)
    return loan.id, loan.due_at


def test_one_due_soon_and_one_overdue_notice_however_often_the_run_goes() -> None:
    lib = library()
    _, due_at = _lend(lib)

    for moment in [due_at - 10 * DAY, due_at - 3 * DAY, due_at - 2 * DAY, due_at - DAY]:
        lib.clock.set(moment)
        lib.reminders.run()
        lib.deliver()
    for moment in [due_at + DAY, due_at + 2 * DAY, due_at + 3 * DAY]:
        lib.clock.set(moment)
        lib.reminders.run()
        lib.deliver()

    assert [m.topic for m in reversed(lib.messages())] == [DUE_SOON, OVERDUE]
    due_soon, overdue = lib.notifier.sent
    assert due_soon.to == "ada@example.org"
    local_due = due_at.astimezone(ZoneInfo("Europe/Paris"))
    assert local_due.strftime("%d %B %Y") in due_soon.subject
    assert "0.25" in overdue.text  # one day late at 25 cents a day, at the first overdue run
    assert "K&amp;R" in overdue.html
    assert "K&R" in overdue.text


def test_the_overdue_notice_repeats_once_per_interval() -> None:
    lib = library()
    _, due_at = _lend(lib)

    for days in range(1, 16):
        lib.clock.set(due_at + days * DAY)
        lib.reminders.run()

    assert [m.topic for m in lib.messages()] == [OVERDUE] * 3  # days 1, 8 and 15


def test_a_return_cancels_the_reminders_still_pending() -> None:
    lib = library()
    loan_id, due_at = _lend(lib)
    lib.clock.set(due_at - DAY)
    lib.reminders.run()

    lib.circulation.return_loan(loan_id)
    lib.deliver()

    [message] = lib.messages()
    assert message.status is MessageStatus.CANCELLED
    assert lib.notifier.sent == []


def test_a_copy_returned_to_a_waiting_hold_makes_one_hold_ready_notice() -> None:
    lib = library()
    loan_id, _ = _lend(lib)
    grace = lib.membership.register(email="grace@example.org", name="Grace")
    book_id = lib.circulation.get_loan(loan_id).book_id
    lib.circulation.place_hold(grace.id, book_id)

    lib.circulation.return_loan(loan_id)
    lib.deliver()
    lib.deliver()

    [message] = lib.messages()
    assert (message.topic, message.status) == (HOLD_READY, MessageStatus.DELIVERED)
    [sent] = lib.notifier.sent
    assert sent.to == "grace@example.org"
    assert "K&R" in sent.subject


def test_a_notice_commits_with_its_cause_or_not_at_all() -> None:
    lib = library()
    router = NoticeRouter(UuidV7Generator())
    ready = HoldReady(START, hold_id="h1", copy_id="c1", member_id="m1", pickup_by=START + DAY)

    with MemoryUnitOfWork(lib.db, records_for_events=router) as uow:
        uow.emit(ready)  # and leaves without committing
    assert lib.messages() == []

    for _ in range(2):  # the same event twice still makes one notice
        with MemoryUnitOfWork(lib.db, records_for_events=router) as uow:
            uow.emit(ready)
            uow.commit()
    [message] = lib.messages()
    assert (message.topic, message.member_id, message.subject_id) == (HOLD_READY, "m1", "h1")


def test_a_failing_server_is_retried_with_backoff_then_recorded() -> None:
    notifier = FlakyNotifier(failures=5)
    lib = library(notifier, Backoff(attempts=3, first=timedelta(minutes=1)))
    _, due_at = _lend(lib)
    lib.clock.set(due_at - DAY)
    lib.reminders.run()

    lib.deliver()
    [message] = lib.messages()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    lib.deliver()  # not due again yet
    assert lib.messages()[0].attempts == 1
    for wait in (1, 2):
        lib.clock.advance(timedelta(minutes=wait))
        lib.deliver()

    [message] = lib.messages()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 3)
    assert message.last_error is not None
    assert "mail server is down" in message.last_error


@pytest.mark.parametrize("holder", ["worker-1", "worker-2"])
def test_a_leased_message_goes_to_one_worker_until_its_lease_runs_out(holder: str) -> None:
    lib = library()
    _, due_at = _lend(lib)
    lib.clock.set(due_at - DAY)
    lib.reminders.run()
    now = lib.clock.now()

    first = lib.outbox.claim(now=now, lease=timedelta(minutes=5), worker=holder, limit=10)
    second = lib.outbox.claim(now=now, lease=timedelta(minutes=5), worker="other", limit=10)
    later = lib.outbox.claim(now=now + timedelta(minutes=5), lease=DAY, worker="other", limit=10)

    first, second, later = (
        [m for m in claimed if m.channel is Channel.EMAIL] for claimed in (first, second, later)
    )
    assert [len(first), len(second), len(later)] == [1, 0, 1]
    assert first[0].id == later[0].id  # redelivered under the same id
    assert not lib.outbox.record(
        first[0].id, worker=holder, status=MessageStatus.DELIVERED, now=now
    )
