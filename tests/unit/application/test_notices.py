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
from application.losses import LostItems
from application.members import Membership
from application.notices import (
    CHECKOUT_RECEIPT,
    DUE_SOON,
    HOLD_EXPIRED,
    HOLD_EXPIRING,
    HOLD_READY,
    ITEM_LOST,
    OVERDUE,
    RETURN_RECEIPT,
    Notice,
    NoticeChoices,
    NoticeDelivery,
    NoticeRouter,
    PickupReminders,
    Reminders,
    ReminderSchedule,
)
from application.outbox import (
    Backoff,
    Channel,
    MessageStatus,
    OutboxFilter,
    OutboxHousekeeping,
    OutboxMessage,
)
from application.queries import PageRequest
from domain.errors import OverdueNoticesRequired
from domain.events import HoldReady
from domain.members import NoticePreferences
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
    ids: UuidV7Generator
    catalogue: Catalogue
    membership: Membership
    circulation: Circulation
    lost_items: LostItems
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
        ids=ids,
        catalogue=Catalogue(uow, clock, ids, policy),
        membership=Membership(uow, clock, ids, policy, FakeHasher()),
        circulation=Circulation(uow, clock, ids, policy),
        lost_items=LostItems(uow, clock, ids, policy),
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


# --- receipts, opt-outs, pickup deadlines --------------------------------------------------


def _topics(lib: Library) -> list[tuple[str, MessageStatus]]:
    return [(m.topic, m.status) for m in reversed(lib.messages())]


def test_receipts_go_only_to_members_who_opted_in() -> None:
    lib = library()
    book = lib.catalogue.add_book(BookDetails(isbn="0-13-110362-8", title="K&R"), ["C-1", "C-2"])
    ada = lib.membership.register(email="ada@example.org", name="Ada")
    grace = lib.membership.register(email="grace@example.org", name="Grace")
    choices = NoticeChoices(lambda: MemoryUnitOfWork(lib.db), lib.clock, Policy())
    choices.choose(grace.id, NoticePreferences(receipts=True))

    for member in (ada, grace):
        loan = lib.circulation.borrow(member.id, book_id=book.book.id)
        lib.clock.set(loan.due_at + DAY)  # one day late: a fine of 25 cents
        lib.circulation.return_loan(loan.id)
    lib.deliver()

    assert _topics(lib) == [
        (CHECKOUT_RECEIPT, MessageStatus.DELIVERED),
        (RETURN_RECEIPT, MessageStatus.DELIVERED),
    ]
    checkout, returned = lib.notifier.sent
    assert {checkout.to, returned.to} == {"grace@example.org"}
    assert checkout.subject.startswith('Receipt: "K&R", due ')
    assert "A fine of 0.25 was added to your account." in returned.text


def test_a_receipt_is_not_sent_once_the_member_takes_the_choice_back() -> None:
    lib = library()
    loan_id, _ = _lend(lib)
    choices = NoticeChoices(lambda: MemoryUnitOfWork(lib.db), lib.clock, Policy())
    ada = lib.circulation.get_loan(loan_id).member_id
    choices.choose(ada, NoticePreferences(receipts=True))
    lib.circulation.return_loan(loan_id)  # a receipt is written...

    choices.choose(ada, NoticePreferences(receipts=False))  # ...and unwanted before it goes
    lib.deliver()

    assert _topics(lib) == [(RETURN_RECEIPT, MessageStatus.CANCELLED)]
    assert lib.notifier.sent == []


def test_overdue_notices_cannot_be_turned_off_unless_the_library_allows_it() -> None:
    lib = library()
    loan_id, due_at = _lend(lib)
    member_id = lib.circulation.get_loan(loan_id).member_id
    strict = NoticeChoices(lambda: MemoryUnitOfWork(lib.db), lib.clock, Policy())
    with pytest.raises(OverdueNoticesRequired):
        strict.choose(member_id, NoticePreferences(overdue=False))
    assert strict.get(member_id).notices == NoticePreferences()

    lenient = NoticeChoices(
        lambda: MemoryUnitOfWork(lib.db), lib.clock, Policy(overdue_notice_opt_out=True)
    )
    lenient.choose(member_id, NoticePreferences(overdue=False))
    lib.clock.set(due_at + DAY)
    lib.reminders.run()
    lib.deliver()  # this library (Policy() above) does not allow opting out: the notice goes

    assert _topics(lib) == [(OVERDUE, MessageStatus.DELIVERED)]


def test_an_allowed_overdue_opt_out_cancels_the_notice() -> None:
    db, clock, ids = MemoryDatabase(), ManualClock(START), UuidV7Generator()
    policy = Policy(overdue_notice_opt_out=True)
    router = NoticeRouter(ids)

    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(db, records_for_events=router)

    outbox, notifier = MemoryOutboxStore(db), MemoryNotifier()
    book = Catalogue(uow, clock, ids, policy).add_book(
        BookDetails(isbn="0-13-110362-8", title="K&R"), ["C"]
    )
    ada = Membership(uow, clock, ids, policy, FakeHasher()).register(email="a@b.org", name="A")
    NoticeChoices(uow, clock, policy).choose(ada.id, NoticePreferences(overdue=False))
    loan = Circulation(uow, clock, ids, policy).borrow(ada.id, book_id=book.book.id)
    clock.set(loan.due_at + DAY)
    Reminders(uow, outbox, clock, ids, policy, ReminderSchedule()).run()

    NoticeDelivery(uow, outbox, notifier, clock, policy).deliver_due("w")

    [message] = [m for m in outbox.list(OutboxFilter(), PageRequest()).items if m.topic == OVERDUE]
    assert (message.status, message.last_error) == (
        MessageStatus.CANCELLED,
        "the member opted out of overdue notices",
    )
    assert notifier.sent == []


def _ready_hold(lib: Library) -> tuple[str, datetime]:
    loan_id, _ = _lend(lib)
    grace = lib.membership.register(email="grace@example.org", name="Grace")
    hold = lib.circulation.place_hold(grace.id, lib.circulation.get_loan(loan_id).book_id).hold
    lib.circulation.return_loan(loan_id)
    pickup_by = lib.circulation.get_hold(hold.id).hold.pickup_by
    assert pickup_by is not None
    return hold.id, pickup_by


def _pickup(lib: Library, before: timedelta = DAY) -> PickupReminders:
    def uow() -> MemoryUnitOfWork:
        return MemoryUnitOfWork(lib.db)

    # The library's own id generator: ids from two generators made in the same millisecond
    # need not sort in the order they were made, and the outbox lists by id.
    return PickupReminders(uow, lib.outbox, lib.clock, lib.ids, before)


def test_one_hold_expiring_notice_in_the_last_day_before_the_pickup_deadline() -> None:
    lib = library()
    _, pickup_by = _ready_hold(lib)
    reminders = _pickup(lib)

    lib.clock.set(pickup_by - DAY - timedelta(hours=1))
    assert reminders.run() == 0
    for hours in (23, 12, 1):
        lib.clock.set(pickup_by - timedelta(hours=hours))
        reminders.run()
    lib.deliver()

    assert _topics(lib)[-1] == (HOLD_EXPIRING, MessageStatus.DELIVERED)
    assert [t for t, _ in _topics(lib)].count(HOLD_EXPIRING) == 1
    expiring = lib.notifier.sent[-1]
    assert expiring.to == "grace@example.org"
    local = pickup_by.astimezone(ZoneInfo("Europe/Paris")).strftime("%A %d %B %Y, %H:%M")
    assert local in expiring.text


def test_a_collected_hold_gets_no_expiring_notice() -> None:
    lib = library()
    hold_id, pickup_by = _ready_hold(lib)
    lib.clock.set(pickup_by - timedelta(hours=2))
    _pickup(lib).run()

    hold = lib.circulation.get_hold(hold_id).hold
    lib.circulation.borrow(hold.member_id, book_id=hold.book_id)
    lib.deliver()

    assert (HOLD_EXPIRING, MessageStatus.CANCELLED) in _topics(lib)
    assert [n.subject for n in lib.notifier.sent if "Last chance" in n.subject] == []


def test_a_hold_not_collected_in_time_gets_a_hold_expired_notice() -> None:
    lib = library()
    _, pickup_by = _ready_hold(lib)
    lib.clock.set(pickup_by + timedelta(minutes=1))

    [expired] = lib.circulation.expire_pickups()
    lib.deliver()

    assert _topics(lib)[-1] == (HOLD_EXPIRED, MessageStatus.DELIVERED)
    sent = lib.notifier.sent[-1]
    assert (sent.to, sent.subject) == ("grace@example.org", 'Your hold on "K&R" has expired')
    assert expired.member_id == lib.messages()[0].member_id


def test_old_delivered_messages_are_purged_failed_ones_stay() -> None:
    lib = library(FlakyNotifier(failures=1), Backoff(attempts=1))
    _, pickup_by = _ready_hold(lib)
    lib.deliver()  # the hold-ready notice fails, for good
    lib.clock.set(pickup_by + timedelta(minutes=1))
    lib.circulation.expire_pickups()
    lib.deliver()  # the hold-expired notice goes
    assert set(_topics(lib)) == {
        (HOLD_READY, MessageStatus.FAILED),
        (HOLD_EXPIRED, MessageStatus.DELIVERED),
    }
    keep = timedelta(days=30)
    housekeeping = OutboxHousekeeping(lib.outbox, lib.clock, keep)

    assert housekeeping.purge() == 0  # nothing is old enough yet
    lib.clock.advance(keep + timedelta(seconds=1))
    everything = lib.outbox.list(OutboxFilter(), PageRequest(per_page=100)).total
    assert housekeeping.purge() == everything - 1  # webhook events no one subscribed to, too

    [kept] = lib.outbox.list(OutboxFilter(), PageRequest(per_page=100)).items
    assert (kept.topic, kept.status) == (HOLD_READY, MessageStatus.FAILED)


def test_a_loan_declared_lost_tells_the_member_what_was_charged() -> None:
    lib = library()
    loan_id, due_at = _lend(lib)
    lib.clock.set(due_at + 3 * DAY)
    outcome = lib.lost_items.declare_lost(loan_id)
    lib.deliver()

    assert _topics(lib)[-1] == (ITEM_LOST, MessageStatus.DELIVERED)
    sent = lib.notifier.sent[-1]
    assert (sent.to, sent.subject) == ("ada@example.org", '"K&R" is recorded as lost')
    fine = outcome.charges[0].amount_cents
    assert f"overdue fine: {fine / 100:.2f}" in sent.text
