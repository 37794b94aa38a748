"""Webhooks: other systems subscribe a URL to event types and receive signed JSON deliveries.

Each committed event of a subscribed type is an outbox message (channel ``webhook``) written in
the event's own transaction; the worker posts it to every subscription for its type, signed, and
retries with backoff until every target accepted it. The event id is stable across retries, so
a receiver drops a repeat by it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from application.outbox import Channel, MessageStatus, OutboxFilter, OutboxMessage, OutboxStore
from application.ports import Clock, IdGenerator
from application.queries import Page, PageRequest
from domain.errors import DomainError, ErrorKind, InvalidValue, NotFound
from domain.events import (
    BookLent,
    BookReturned,
    ChargePosted,
    Event,
    HoldClosed,
    HoldReady,
    LoanDeclaredLost,
    LoanRenewed,
    MemberAnonymised,
    MemberRoleChanged,
    MemberStatusChanged,
    MemberUpdated,
    PaymentReceived,
)

SIGNATURE_HEADER = "Circulate-Signature"


Resource = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventType:
    """One event type other systems can subscribe to, made from one kind of domain event.

    ``describe`` gives the resource's id and the resource itself, or None when this occurrence
    of the domain event is not of this type (a hold closed by pickup is no ``hold.expired``).
    """

    name: str
    source: type[Event] | tuple[type[Event], ...]
    describe: Callable[[Any], tuple[str, Resource] | None]
    description: str


def _hold_expired(e: HoldClosed) -> tuple[str, Resource] | None:
    if e.status != "expired":
        return None
    return e.hold_id, {"hold_id": e.hold_id, "member_id": e.member_id}


def _member_changed(e: Event) -> tuple[str, Resource]:
    # Which member and what kind of change; never the values (an email or a name), which the
    # receiver reads through the API with its own credentials.
    member_id: str = getattr(e, "member_id")  # noqa: B009 (every source event has one)
    return member_id, {"member_id": member_id, "change": _snake(type(e).__name__)}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _fine_posted(e: BookReturned) -> tuple[str, Resource] | None:
    # A fine is posted to the member's account when a late copy comes back, not while it accrues.
    if e.fine_cents <= 0:
        return None
    return e.loan_id, {"loan_id": e.loan_id, "member_id": e.member_id, "amount_cents": e.fine_cents}


# The catalogue: every event type a subscription may name. A new type is one more entry (one
# domain event may make several types, as a late return makes ``loan.returned`` and
# ``fine.posted``); names, validation, the CLI's choices and the delivery all read it.
EVENT_CATALOGUE: tuple[EventType, ...] = (
    EventType(
        "loan.created",
        BookLent,
        lambda e: (
            e.loan_id,
            {"loan_id": e.loan_id, "copy_id": e.copy_id, "member_id": e.member_id},
        ),
        "a copy is lent",
    ),
    EventType(
        "loan.returned",
        BookReturned,
        lambda e: (
            e.loan_id,
            {
                "loan_id": e.loan_id,
                "copy_id": e.copy_id,
                "member_id": e.member_id,
                "fine_cents": e.fine_cents,
            },
        ),
        "a loan is returned",
    ),
    EventType(
        "loan.renewed",
        LoanRenewed,
        lambda e: (
            e.loan_id,
            {"loan_id": e.loan_id, "member_id": e.member_id, "renewals": e.renewals},
        ),
        "a loan is renewed",
    ),
    EventType(
        "hold.ready",
        HoldReady,
        lambda e: (
            e.hold_id,
            {
                "hold_id": e.hold_id,
                "copy_id": e.copy_id,
                "member_id": e.member_id,
                "pickup_by": e.pickup_by.isoformat(),
            },
        ),
        "a copy is set aside for a hold",
    ),
    EventType("hold.expired", HoldClosed, _hold_expired, "a hold was not collected in time"),
    EventType("fine.posted", BookReturned, _fine_posted, "a late return posts a fine"),
    EventType(
        "payment.received",
        PaymentReceived,
        lambda e: (e.member_id, {"member_id": e.member_id, "amount_cents": e.amount_cents}),
        "a payment is recorded",
    ),
    EventType(
        "charge.posted",
        ChargePosted,
        lambda e: (
            e.charge_id,
            {
                "charge_id": e.charge_id,
                "member_id": e.member_id,
                "loan_id": e.loan_id,
                "charge_type": str(e.charge_type),
                "amount_cents": e.amount_cents,
            },
        ),
        "a charge is posted to a member's account (overdue, lost, processing or manual)",
    ),
    EventType(
        "loan.lost",
        LoanDeclaredLost,
        lambda e: (
            e.loan_id,
            {
                "loan_id": e.loan_id,
                "copy_id": e.copy_id,
                "member_id": e.member_id,
                "aged": e.aged,
            },
        ),
        "a loan is declared lost (by staff, or aged to lost by the daily job)",
    ),
    EventType(
        "member.changed",
        (MemberUpdated, MemberRoleChanged, MemberStatusChanged, MemberAnonymised),
        _member_changed,
        "a member's details, role or status changed, or the member was anonymised",
    ),
)
EVENT_TYPES = tuple(sorted(t.name for t in EVENT_CATALOGUE))


# The catalogue's event types each kind of domain event may make, found once per kind: every
# change's commit asks, and most kinds make none.
_TYPES_OF: dict[type[Event], tuple[EventType, ...]] = {}


def _types_of(kind: type[Event]) -> tuple[EventType, ...]:
    found = _TYPES_OF.get(kind)
    if found is None:
        found = _TYPES_OF[kind] = tuple(
            event_type for event_type in EVENT_CATALOGUE if issubclass(kind, event_type.source)
        )
    return found


def webhook_events(event: Event) -> list[tuple[str, str, Resource]]:
    """The (type name, resource id, resource) of each event type ``event`` makes."""
    made = []
    for event_type in _types_of(type(event)):
        described = event_type.describe(event)
        if described is not None:
            made.append((event_type.name, *described))
    return made


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str  # signs each delivery; shown once, when the subscription is made
    created_at: datetime


class SubscriptionNotFound(NotFound):
    code = "WEBHOOK_NOT_FOUND"
    resource = "webhook subscription"


class TargetRefused(DomainError):
    """A webhook URL that is not http(s), or that points into a private network."""

    code = "WEBHOOK_TARGET_REFUSED"
    kind = ErrorKind.INVALID


class SubscriptionStore(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def remove(self, subscription_id: str) -> bool: ...

    def get(self, subscription_id: str) -> Subscription | None: ...

    def all(self) -> list[Subscription]: ...


class TargetPolicy(Protocol):
    def check(self, url: str) -> None:
        """Raise ``TargetRefused`` unless ``url`` may be called."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed request: ``body`` is the exact bytes the signature covers."""

    url: str
    body: bytes
    headers: Mapping[str, str]


class WebhookSender(Protocol):
    def post(self, delivery: Delivery) -> int:
        """POST it; returns the status code. Raises on a refused target or no answer."""
        ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def delivery_for(
    subscription: Subscription,
    event_id: str,
    event_type: str,
    occurred_at: str,
    resource: Mapping[str, Any],
    now: datetime,
) -> Delivery:
    body = json.dumps(
        {"id": event_id, "type": event_type, "occurred_at": occurred_at, "data": dict(resource)},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    timestamp = int(now.timestamp())
    return Delivery(
        url=subscription.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "Circulate-Event-Id": event_id,
            "Circulate-Event-Type": event_type,
            SIGNATURE_HEADER: sign(subscription.secret, timestamp, body),
        },
    )


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if not events or unknown:
        raise InvalidValue("events", f"choose among {', '.join(EVENT_TYPES)}; unknown: {unknown}")
    return tuple(sorted(set(events)))


class Webhooks:
    """Admins subscribe URLs to event types; the worker delivers (``NoticeDelivery``)."""

    def __init__(
        self,
        store: SubscriptionStore,
        targets: TargetPolicy,
        clock: Clock,
        ids: IdGenerator,
        outbox: OutboxStore,
    ) -> None:
        self._store, self._targets, self._clock, self._ids = store, targets, clock, ids
        self._outbox = outbox

    def subscribe(self, url: str, events: Sequence[str]) -> Subscription:
        chosen = check_events(events)
        self._targets.check(url)
        subscription = Subscription(
            id=self._ids.new_id(),
            url=url,
            events=chosen,
            secret=secrets.token_urlsafe(32),
            created_at=self._clock.now(),
        )
        self._store.add(subscription)
        return subscription

    def list(self) -> list[Subscription]:
        return self._store.all()

    def get(self, subscription_id: str) -> Subscription:
        subscription = self._store.get(subscription_id)
        if subscription is None:
            raise SubscriptionNotFound(subscription_id)
        return subscription

    def remove(self, subscription_id: str) -> None:
        if not self._store.remove(subscription_id):
            raise SubscriptionNotFound(subscription_id)

    def deliveries(
        self, status: MessageStatus | None, event: str | None, page: PageRequest
    ) -> Page[OutboxMessage]:
        """The events delivered, waiting or failed, newest first, each with the last answer of
        every target (``last_error``)."""
        if event is not None:
            check_events([event])
        return self._outbox.list(
            OutboxFilter(status=status, channel=Channel.WEBHOOK, topic=event), page
        )
