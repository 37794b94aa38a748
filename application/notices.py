"""Notices to members: which events and dates make one, and their delivery through a ``Notifier``.

Event-driven notices (a hold ready or expired, receipts) are outbox messages made from the
domain events of the transaction that caused them (``NoticeRouter``, which the unit of work calls
at commit). Date-driven ones are made by scheduled runs: due soon and overdue (``Reminders``),
hold about to expire (``PickupReminders``). Each message's ``dedupe_key`` names its cause, so
none can make the same notice twice. ``NoticeDelivery`` hands due messages to the notifier,
checking first that the notice is still true and still wanted (``NoticeChoices``: what the
member chose, within what the library allows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.common import check_version, found, rule_book
from application.outbox import (
    Backoff,
    Channel,
    MessageStatus,
    OutboxFilter,
    OutboxMessage,
    OutboxStore,
    Payload,
)
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.queries import Page, PageRequest
from application.unit_of_work import BaseUnitOfWork, UnitOfWork
from application.webhooks import (
    SubscriptionStore,
    TargetRefused,
    WebhookSender,
    delivery_for,
    webhook_events,
)
from domain.errors import MemberNotFound
from domain.events import BookLent, BookReturned, Event, HoldClosed, HoldReady, LoanDeclaredLost
from domain.holds import HoldStatus
from domain.loans import started_days_late
from domain.members import Member, NoticePreferences
from domain.policy import Policy

HOLD_READY = "hold_ready"
HOLD_EXPIRING = "hold_expiring"
HOLD_EXPIRED = "hold_expired"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
CHECKOUT_RECEIPT = "checkout_receipt"
RETURN_RECEIPT = "return_receipt"
ITEM_LOST = "item_lost"
# Reminders about a loan: cancelled, not sent, once the loan is returned.
LOAN_REMINDERS = frozenset({DUE_SOON, OVERDUE})
# About a hold waiting on the shelf: cancelled once it is collected, cancelled or expired.
PICKUP_NOTICES = frozenset({HOLD_READY, HOLD_EXPIRING})
RECEIPTS = frozenset({CHECKOUT_RECEIPT, RETURN_RECEIPT})
DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True, slots=True)
class Notice:
    """What a notifier renders and sends: ``topic`` picks the templates, ``context`` fills them."""

    message_id: str  # stable across retries: receivers drop duplicates by it
    topic: str
    to: str
    name: str
    context: Payload
    time_zone: str  # dates are shown in the library's time zone


class Notifier(Protocol):
    def send(self, notice: Notice) -> None:
        """Deliver ``notice``; any exception means it was not (and will be retried)."""
        ...


# --- events -> messages ---------------------------------------------------------------------
# One entry per event that makes a notice: (topic, what the notice is about, its payload), or
# None when this occurrence makes none. A new notice for a new event (a lost-item charge, say)
# is one more entry, plus its three templates.
EventNotice = tuple[str, str, Payload]


def _hold_expired(e: HoldClosed) -> EventNotice | None:
    if e.status != HoldStatus.EXPIRED:
        return None  # collected or cancelled: the member knows
    return HOLD_EXPIRED, e.hold_id, {"hold_id": e.hold_id}


NOTICE_FOR: dict[type[Event], Callable[[Any], EventNotice | None]] = {
    HoldReady: lambda e: (
        HOLD_READY,
        e.hold_id,
        {"hold_id": e.hold_id, "copy_id": e.copy_id, "pickup_by": e.pickup_by.isoformat()},
    ),
    HoldClosed: _hold_expired,
    BookLent: lambda e: (CHECKOUT_RECEIPT, e.loan_id, {"loan_id": e.loan_id}),
    LoanDeclaredLost: lambda e: (
        ITEM_LOST,
        e.loan_id,
        {
            "loan_id": e.loan_id,
            "fine_cents": e.fine_cents,
            "replacement_fee_cents": e.replacement_fee_cents,
            "processing_fee_cents": e.processing_fee_cents,
        },
    ),
    BookReturned: lambda e: (
        RETURN_RECEIPT,
        e.loan_id,
        {
            "loan_id": e.loan_id,
            "fine_cents": e.fine_cents,
            "returned_at": e.occurred_at.isoformat(),
        },
    ),
}


class NoticeRouter:
    """The outbox messages a transaction's events make; the unit of work writes them with it."""

    def __init__(self, ids: IdGenerator) -> None:
        self._ids = ids

    def __call__(self, events: Sequence[Event], uow: BaseUnitOfWork) -> list[OutboxMessage]:
        messages = []
        for event in events:
            occurred_at = event.occurred_at.isoformat()
            member_id = getattr(event, "member_id", None)
            for kind, resource_id, resource in webhook_events(event):
                messages.append(
                    OutboxMessage(
                        id=self._ids.new_id(),
                        channel=Channel.WEBHOOK,
                        topic=kind,
                        dedupe_key=f"{kind}:{resource_id}:{occurred_at}",
                        member_id=member_id,
                        subject_id=resource_id,
                        payload={**resource, "occurred_at": occurred_at},
                        created_at=event.occurred_at,
                    )
                )
            make = NOTICE_FOR.get(type(event))
            notice = make(event) if make is not None else None
            if notice is None:
                continue
            topic, subject_id, payload = notice
            if topic in RECEIPTS and not _wants_receipts(uow, member_id):
                continue  # receipts are opt-in: most members never get one, so none is written
            messages.append(
                OutboxMessage(
                    id=self._ids.new_id(),
                    channel=Channel.EMAIL,
                    topic=topic,
                    # The event's own instant tells two readies of one hold apart.
                    dedupe_key=f"{topic}:{subject_id}:{occurred_at}",
                    member_id=member_id,
                    subject_id=subject_id,
                    payload=payload,
                    created_at=event.occurred_at,
                )
            )
        return messages


# --- date-driven reminders ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    due_soon: timedelta = timedelta(days=3)  # how long before the due date
    overdue_every: timedelta = timedelta(days=7)  # between repeated overdue notices


class Reminders:
    """The due-soon and overdue run: one message per loan per due date (due soon) and per
    interval late (overdue), however often it runs."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        outbox: OutboxStore,
        clock: Clock,
        ids: IdGenerator,
        policy: Policy,
        schedule: ReminderSchedule,
    ) -> None:
        self._uow, self._outbox, self._clock, self._ids = uow, outbox, clock, ids
        self._policy, self._schedule = policy, schedule

    def run(self) -> int:
        """Write the reminders due now; returns how many."""
        now = self._clock.now()
        with self._uow() as uow:
            rules = rule_book(uow, self._policy)
            candidates: list[OutboxMessage] = []
            for loan in uow.loans.overdue(now + self._schedule.due_soon):
                book = uow.books.get(loan.book_id)
                payload: dict[str, str | int | None] = {
                    "loan_id": loan.id,
                    "title": book.title if book is not None else "",
                    "due_at": loan.due_at.isoformat(),
                }
                if loan.due_at >= now:
                    topic, key = DUE_SOON, f"{DUE_SOON}:{loan.id}:{loan.due_at.isoformat()}"
                else:
                    member = uow.members.get(loan.member_id)
                    category = member.category if member is not None else ""
                    payload["fine_cents"] = loan.fine_at(now, rules.terms(category, loan.item_type))
                    days = started_days_late(loan.due_at, now)
                    round_ = (days - 1) // max(1, self._schedule.overdue_every.days)
                    topic, key = OVERDUE, f"{OVERDUE}:{loan.id}:{loan.due_at.isoformat()}:{round_}"
                candidates.append(
                    OutboxMessage(
                        id=self._ids.new_id(),
                        channel=Channel.EMAIL,
                        topic=topic,
                        dedupe_key=key,
                        member_id=loan.member_id,
                        subject_id=loan.id,
                        payload=payload,
                        created_at=now,
                    )
                )
        return _write_new(self._uow, self._outbox, candidates)


class PickupReminders:
    """The hold-expiring run: one notice per ready hold and pickup deadline, ``before`` the
    deadline passes, however often it runs."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        outbox: OutboxStore,
        clock: Clock,
        ids: IdGenerator,
        before: timedelta,
    ) -> None:
        self._uow, self._outbox, self._clock, self._ids = uow, outbox, clock, ids
        self._before = before

    def run(self) -> int:
        """Write the hold-expiring notices due now; returns how many."""
        now = self._clock.now()
        with self._uow() as uow:
            # Ready holds whose deadline falls within ``before``; those already past it are the
            # expiry job's (and earn a hold-expired notice instead).
            closing = [
                h
                for h in uow.holds.ready_past_pickup(now + self._before)
                if h.pickup_by is not None and h.pickup_by >= now
            ]
        candidates = [
            OutboxMessage(
                id=self._ids.new_id(),
                channel=Channel.EMAIL,
                topic=HOLD_EXPIRING,
                dedupe_key=f"{HOLD_EXPIRING}:{hold.id}:{hold.pickup_by.isoformat()}",
                member_id=hold.member_id,
                subject_id=hold.id,
                payload={"hold_id": hold.id, "pickup_by": hold.pickup_by.isoformat()},
                created_at=now,
            )
            for hold in closing
            if hold.pickup_by is not None
        ]
        return _write_new(self._uow, self._outbox, candidates)


def _write_new(uow: UnitOfWorkFactory, outbox: OutboxStore, candidates: list[OutboxMessage]) -> int:
    """Write the candidates no earlier run wrote; returns how many."""
    # Asked outside the reading transaction (SQLite allows one at a time); the unique dedupe
    # key still drops a message another run wrote meanwhile.
    known = outbox.known_keys([m.dedupe_key for m in candidates])
    fresh = [m for m in candidates if m.dedupe_key not in known]
    if fresh:
        with uow() as writing:
            writing.also_write(*fresh)
            writing.commit()
    return len(fresh)


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0


class NoticeDelivery:
    """Delivers the due outbox messages, one lease-holding worker at a time per message."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        outbox: OutboxStore,
        notifier: Notifier | None,
        clock: Clock,
        policy: Policy,
        backoff: Backoff = DEFAULT_BACKOFF,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 50,
        subscriptions: SubscriptionStore | None = None,
        sender: WebhookSender | None = None,
    ) -> None:
        self._subscriptions, self._sender = subscriptions, sender
        self._uow, self._outbox, self._notifier, self._clock = uow, outbox, notifier, clock
        self._policy, self._backoff, self._lease, self._batch = policy, backoff, lease, batch

    @property
    def enabled(self) -> bool:
        """False when no notifier is configured: messages then wait in the outbox."""
        return self._notifier is not None

    def deliver_due(self, worker: str) -> DeliveryReport:
        if self._notifier is None:
            return DeliveryReport()
        counts = dict.fromkeys(MessageStatus, 0)
        retried = 0
        claimed = self._outbox.claim(
            now=self._clock.now(), lease=self._lease, worker=worker, limit=self._batch
        )
        for message in claimed:
            status, error, retry_at = self._attempt(message)
            self._outbox.record(
                message.id,
                worker=worker,
                status=status,
                now=self._clock.now(),
                error=error,
                retry_at=retry_at,
            )
            counts[status] += 1
            retried += status is MessageStatus.PENDING
        return DeliveryReport(
            delivered=counts[MessageStatus.DELIVERED],
            retried=retried,
            failed=counts[MessageStatus.FAILED],
            cancelled=counts[MessageStatus.CANCELLED],
        )

    def _attempt(self, message: OutboxMessage) -> tuple[MessageStatus, str | None, datetime | None]:
        if message.channel is Channel.WEBHOOK:
            return self._post(message)
        with self._uow() as uow:
            reason, context = _still_true(uow, message)
            member = uow.members.get(message.member_id) if message.member_id else None
        if reason is not None:
            return MessageStatus.CANCELLED, reason, None
        if member is None:
            return MessageStatus.FAILED, "the member no longer exists", None
        unwanted = _unwanted(member, message.topic, self._policy)
        if unwanted is not None:
            return MessageStatus.CANCELLED, unwanted, None
        notice = Notice(
            message_id=message.id,
            topic=message.topic,
            to=member.email,
            name=member.name,
            context=context,
            time_zone=self._policy.time_zone,
        )
        if self._notifier is None:  # deliver_due claims nothing then; kept for the type checker
            return MessageStatus.PENDING, None, None
        try:
            self._notifier.send(notice)
        except Exception as error:  # any failure of the channel is retried, then recorded
            text = f"{type(error).__name__}: {error}"[:500]
            retry_at = self._backoff.retry_at(self._clock.now(), message.attempts + 1)
            if retry_at is None:
                return MessageStatus.FAILED, text, None
            return MessageStatus.PENDING, text, retry_at
        return MessageStatus.DELIVERED, None, None

    def _post(self, message: OutboxMessage) -> tuple[MessageStatus, str | None, datetime | None]:
        """Post the event to every subscription for its type; all must accept it (2xx)."""
        targets = [
            s
            for s in (self._subscriptions.all() if self._subscriptions else [])
            if message.topic in s.events
        ]
        if not targets or self._sender is None:
            return MessageStatus.CANCELLED, "no webhook subscribed to this event", None
        occurred_at = str(message.payload.get("occurred_at"))
        resource = {k: v for k, v in message.payload.items() if k != "occurred_at"}
        answers, failed = [], False
        for target in targets:
            delivery = delivery_for(
                target, message.id, message.topic, occurred_at, resource, self._clock.now()
            )
            try:
                status = self._sender.post(delivery)
            except TargetRefused as refusal:
                answers.append(f"{target.url}: refused: {refusal.message}")
                continue  # retrying cannot help
            except Exception as error:
                answers.append(f"{target.url}: {type(error).__name__}: {error}")
                failed = True
                continue
            answers.append(f"{target.url}: {status}")
            failed = failed or not 200 <= status < 300
        text = "; ".join(answers)[:500]
        if not failed:
            return MessageStatus.DELIVERED, text, None
        retry_at = self._backoff.retry_at(self._clock.now(), message.attempts + 1)
        if retry_at is None:
            return MessageStatus.FAILED, text, None
        return MessageStatus.PENDING, text, retry_at


def _still_true(uow: UnitOfWork, message: OutboxMessage) -> tuple[str | None, Payload]:
    """Why ``message`` should not be sent any more (None: send it), and its full context."""
    context = dict(message.payload)
    topic, subject_id = message.topic, message.subject_id
    if subject_id is None:
        return None, context
    if topic in LOAN_REMINDERS or topic in RECEIPTS or topic == ITEM_LOST:
        loan = uow.loans.get(subject_id)
        if loan is None:
            return "the loan no longer exists", context
        if topic in LOAN_REMINDERS and not loan.is_open:
            return "the loan was returned", context
        if topic in LOAN_REMINDERS and loan.due_at.isoformat() != message.payload.get("due_at"):
            return "the loan's due date changed", context
        context.setdefault("due_at", loan.due_at.isoformat())
        context.setdefault("title", _title(uow, loan.book_id))
    if topic in PICKUP_NOTICES or topic == HOLD_EXPIRED:
        hold = uow.holds.get(subject_id)
        if hold is None:
            return "the hold no longer exists", context
        if topic in PICKUP_NOTICES and hold.status is not HoldStatus.READY:
            return "the hold is no longer ready", context
        if topic == HOLD_EXPIRING and (
            hold.pickup_by is None or hold.pickup_by.isoformat() != message.payload["pickup_by"]
        ):
            return "the pickup deadline changed", context
        context.setdefault("title", _title(uow, hold.book_id))
    return None, context


def _wants_receipts(uow: BaseUnitOfWork, member_id: str | None) -> bool:
    member = uow.members.get(member_id) if member_id is not None else None
    return member is not None and member.notices.receipts


def _unwanted(member: Member, topic: str, policy: Policy) -> str | None:
    """Why the member's own choices keep ``topic`` from them (None: they get it)."""
    if topic in RECEIPTS and not member.notices.receipts:
        return "the member has not asked for receipts"
    opt_out_allowed = policy.overdue_notice_opt_out
    if topic == OVERDUE and not member.notices.wants_overdue(opt_out_allowed=opt_out_allowed):
        return "the member opted out of overdue notices"
    return None


def _title(uow: UnitOfWork, book_id: str) -> str:
    book = uow.books.get(book_id)
    return book.title if book is not None else ""


class NoticeLog:
    """What was sent, is waiting or failed: the outbox as staff and members see it."""

    def __init__(self, uow: UnitOfWorkFactory, outbox: OutboxStore) -> None:
        self._uow, self._outbox = uow, outbox

    def list(self, query: OutboxFilter, page: PageRequest) -> Page[OutboxMessage]:
        if query.member_id is not None:
            with self._uow().reading() as uow:
                found(uow.members.get(query.member_id), MemberNotFound, query.member_id)
        return self._outbox.list(query, page)


class NoticeChoices:
    """Which optional notices a member gets: the member sets their own, staff anyone's."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: Policy) -> None:
        self._uow, self._clock, self._policy = uow, clock, policy

    def get(self, member_id: str) -> Member:
        with self._uow().reading() as uow:
            return found(uow.members.get(member_id), MemberNotFound, member_id)

    def choose(
        self, member_id: str, notices: NoticePreferences, expected_version: int | None = None
    ) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            member.choose_notices(
                notices,
                now=self._clock.now(),
                overdue_opt_out=self._policy.overdue_notice_opt_out,
            )
            uow.commit()
        return member
