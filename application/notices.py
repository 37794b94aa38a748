"""Notices to members: which events and dates make one, and their delivery through a ``Notifier``.

Event-driven notices (a hold ready for pickup) are outbox messages made from the domain events of
the transaction that caused them (``NoticeRouter``, which the unit of work calls at commit).
Date-driven ones (due soon, overdue) are made by a scheduled run (``Reminders``). Each message's
``dedupe_key`` names its cause, so neither can make the same notice twice. ``NoticeDelivery``
hands due messages to the notifier, checking first that the notice is still true.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.common import found, rule_book
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
from application.unit_of_work import UnitOfWork
from application.webhooks import (
    SubscriptionStore,
    TargetRefused,
    WebhookSender,
    delivery_for,
    webhook_events,
)
from domain.errors import MemberNotFound
from domain.events import Event, HoldReady
from domain.holds import HoldStatus
from domain.loans import started_days_late
from domain.policy import Policy

HOLD_READY = "hold_ready"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
# Reminders about a loan: cancelled, not sent, once the loan is returned.
LOAN_REMINDERS = frozenset({DUE_SOON, OVERDUE})
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
# One entry per event that makes a notice: (topic, what the notice is about, its payload).
# A new notice for a new event (a lost-item charge, say) is one more entry.
EventNotice = tuple[str, str, Payload]
NOTICE_FOR: dict[type[Event], Callable[[Any], EventNotice]] = {
    HoldReady: lambda e: (
        HOLD_READY,
        e.hold_id,
        {"hold_id": e.hold_id, "copy_id": e.copy_id, "pickup_by": e.pickup_by.isoformat()},
    ),
}


class NoticeRouter:
    """The outbox messages a transaction's events make; the unit of work writes them with it."""

    def __init__(self, ids: IdGenerator) -> None:
        self._ids = ids

    def __call__(self, events: Sequence[Event]) -> list[OutboxMessage]:
        messages = []
        for event in events:
            for kind, resource_id, resource in webhook_events(event):
                messages.append(
                    OutboxMessage(
                        id=self._ids.new_id(),
                        channel=Channel.WEBHOOK,
                        topic=kind,
                        dedupe_key=f"{kind}:{resource_id}:{event.occurred_at.isoformat()}",
                        member_id=getattr(event, "member_id", None),
                        subject_id=resource_id,
                        payload={**resource, "occurred_at": event.occurred_at.isoformat()},
                        created_at=event.occurred_at,
                    )
                )
            make = NOTICE_FOR.get(type(event))
            if make is None:
                continue
            topic, subject_id, payload = make(event)
            messages.append(
                OutboxMessage(
                    id=self._ids.new_id(),
                    channel=Channel.EMAIL,
                    topic=topic,
                    # The event's own instant tells two readies of one hold apart.
                    dedupe_key=f"{topic}:{subject_id}:{event.occurred_at.isoformat()}",
                    member_id=getattr(event, "member_id", None),
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
        # Asked outside the transaction above (SQLite allows one at a time); the unique
        # dedupe key still drops a message another run wrote meanwhile.
        known = self._outbox.known_keys([m.dedupe_key for m in candidates])
        fresh = [m for m in candidates if m.dedupe_key not in known]
        if fresh:
            with self._uow() as uow:
                uow.also_write(*fresh)
                uow.commit()
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
    if message.topic in LOAN_REMINDERS and message.subject_id is not None:
        loan = uow.loans.get(message.subject_id)
        if loan is None or not loan.is_open:
            return "the loan was returned", context
        if loan.due_at.isoformat() != message.payload.get("due_at"):
            return "the loan's due date changed", context
    if message.topic == HOLD_READY and message.subject_id is not None:
        hold = uow.holds.get(message.subject_id)
        if hold is None or hold.status is not HoldStatus.READY:
            return "the hold is no longer ready", context
        book = uow.books.get(hold.book_id)
        context.setdefault("title", book.title if book is not None else "")
    return None, context


class NoticeLog:
    """What was sent, is waiting or failed: the outbox as staff and members see it."""

    def __init__(self, uow: UnitOfWorkFactory, outbox: OutboxStore) -> None:
        self._uow, self._outbox = uow, outbox

    def list(self, query: OutboxFilter, page: PageRequest) -> Page[OutboxMessage]:
        if query.member_id is not None:
            with self._uow() as uow:
                found(uow.members.get(query.member_id), MemberNotFound, query.member_id)
        return self._outbox.list(query, page)
