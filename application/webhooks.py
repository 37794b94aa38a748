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

from application.ports import Clock, IdGenerator
from domain.errors import DomainError, InvalidValue, NotFound
from domain.events import (
    BookLent,
    BookReturned,
    Event,
    HoldClosed,
    HoldReady,
    LoanRenewed,
    PaymentReceived,
)

SIGNATURE_HEADER = "Circulate-Signature"


def _hold_closed(e: HoldClosed) -> tuple[str, str, dict[str, Any]] | None:
    if e.status != "expired":
        return None
    return "hold.expired", e.hold_id, {"hold_id": e.hold_id, "member_id": e.member_id}


# Event type -> (type name, the resource's id, the resource). One entry per event that other
# systems can subscribe to; an event that returns None here (a hold fulfilled) is not sent.
EventPayload = tuple[str, str, dict[str, Any]] | None
WEBHOOK_FOR: dict[type[Event], Callable[[Any], EventPayload]] = {
    BookLent: lambda e: (
        "loan.created",
        e.loan_id,
        {"loan_id": e.loan_id, "copy_id": e.copy_id, "member_id": e.member_id},
    ),
    BookReturned: lambda e: (
        "loan.returned",
        e.loan_id,
        {
            "loan_id": e.loan_id,
            "copy_id": e.copy_id,
            "member_id": e.member_id,
            "fine_cents": e.fine_cents,
        },
    ),
    LoanRenewed: lambda e: (
        "loan.renewed",
        e.loan_id,
        {"loan_id": e.loan_id, "member_id": e.member_id, "renewals": e.renewals},
    ),
    HoldReady: lambda e: (
        "hold.ready",
        e.hold_id,
        {
            "hold_id": e.hold_id,
            "copy_id": e.copy_id,
            "member_id": e.member_id,
            "pickup_by": e.pickup_by.isoformat(),
        },
    ),
    HoldClosed: _hold_closed,
    PaymentReceived: lambda e: (
        "payment.received",
        e.member_id,
        {"member_id": e.member_id, "amount_cents": e.amount_cents},
    ),
}
EVENT_TYPES = (
    "hold.expired",
    "hold.ready",
    "loan.created",
    "loan.renewed",
    "loan.returned",
    "payment.received",
)


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


class SubscriptionStore(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def remove(self, subscription_id: str) -> bool: ...

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
        self, store: SubscriptionStore, targets: TargetPolicy, clock: Clock, ids: IdGenerator
    ) -> None:
        self._store, self._targets, self._clock, self._ids = store, targets, clock, ids

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

    def remove(self, subscription_id: str) -> None:
        if not self._store.remove(subscription_id):
            raise SubscriptionNotFound(subscription_id)
