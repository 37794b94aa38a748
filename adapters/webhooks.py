"""Webhook subscriptions (in memory or in the database) and the HTTP sender.

The sender refuses targets that are not http(s) or that resolve to a loopback, link-local,
private, reserved or multicast address unless told to allow them (server-side request forgery:
a subscriber must not make this service call its own network). It checks the resolved addresses
on every delivery, not only when subscribing (a name can be pointed elsewhere later), and never
follows a redirect: a 3xx is the receiver's answer, recorded like any other.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import urllib.error
import urllib.request
from typing import Any, cast
from urllib.parse import urlsplit

from sqlalchemy import Engine, Table, delete, insert, select

from adapters.sqlalchemy.models import WebhookSubscriptionRow
from application.webhooks import Delivery, Subscription, TargetRefused

TABLE = cast(Table, WebhookSubscriptionRow.__table__)


class MemorySubscriptionStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, Subscription] = {}

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            self._rows[subscription.id] = subscription

    def remove(self, subscription_id: str) -> bool:
        with self._lock:
            return self._rows.pop(subscription_id, None) is not None

    def all(self) -> list[Subscription]:
        with self._lock:
            return sorted(self._rows.values(), key=lambda s: s.id)

    def get(self, subscription_id: str) -> Subscription | None:
        with self._lock:
            return self._rows.get(subscription_id)


class SqlSubscriptionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, subscription: Subscription) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(TABLE).values(
                    id=subscription.id,
                    url=subscription.url,
                    events=list(subscription.events),
                    secret=subscription.secret,
                    created_at=subscription.created_at,
                )
            )

    def remove(self, subscription_id: str) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(delete(TABLE).where(TABLE.c.id == subscription_id))
        return result.rowcount == 1

    def all(self) -> list[Subscription]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(TABLE).order_by(TABLE.c.id)).all()
        return [_subscription(row) for row in rows]

    def get(self, subscription_id: str) -> Subscription | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(TABLE).where(TABLE.c.id == subscription_id)).first()
        return _subscription(row) if row is not None else None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        events=tuple(row.events),
        secret=row.secret,
        created_at=row.created_at,
    )


class TargetCheck:
    """``check(url)``: refuse what is not http(s) or reaches a non-public address."""

    def __init__(self, allow_private: bool = False) -> None:
        self._allow_private = allow_private

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise TargetRefused(f"{url!r} is not an http(s) URL", url=url)
        if self._allow_private:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError as error:
            raise TargetRefused(f"{parts.hostname} does not resolve", url=url) from error
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global or address.is_multicast:
                raise TargetRefused(
                    f"{parts.hostname} resolves to {address}, a non-public address", url=url
                )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002
        return None  # a 3xx comes back as the answer, never followed


class HttpSender:
    def __init__(self, targets: TargetCheck, timeout: float = 10.0) -> None:
        self._targets = targets
        self._opener = urllib.request.build_opener(_NoRedirects)
        self._timeout = timeout

    def post(self, delivery: Delivery) -> int:
        self._targets.check(delivery.url)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            delivery.url, data=delivery.body, headers=dict(delivery.headers), method="POST"
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as answer:
            return int(answer.code)


def subscription_json(subscription: Subscription, *, secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": subscription.id,
        "url": subscription.url,
        "events": list(subscription.events),
        "created_at": subscription.created_at.isoformat(),
    }
    if secret:
        data["secret"] = subscription.secret
    return data
