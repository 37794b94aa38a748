"""Prometheus metrics of circulation, fed by the domain events a committed transaction emits.

The metric objects are made once, at import, in prometheus-client's default registry (making them
per app would register the same names twice). Under several gunicorn workers prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) keeps each worker's values in a file and the
``/metrics`` view adds them up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from prometheus_client import Counter

from application.ports import EventPublisher
from domain.events import (
    BookLent,
    BookReturned,
    Event,
    HoldClosed,
    HoldPlaced,
    HoldReady,
    LoanRenewed,
    PaymentReceived,
)

log = logging.getLogger(__name__)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def ensure_multiprocess_directory() -> None:
    """Make the multiprocess directory if the variable names one that is missing.

    Any process of the installation may run with the variable set (a ``circulate`` command
    beside the server): its counts then add to the server's instead of failing to be written.
    """
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if directory:
        os.makedirs(directory, exist_ok=True)


ensure_multiprocess_directory()

LOANS = Counter("circulate_loans", "Copies lent.")
RETURNS = Counter("circulate_returns", "Loans returned.")
RENEWALS = Counter("circulate_renewals", "Loans renewed.")
HOLDS = Counter(
    "circulate_holds",
    "Hold events: placed, ready (a copy set aside), fulfilled, cancelled, expired.",
    ["event"],
)
FINES_CENTS = Counter("circulate_fines_cents", "Fines charged on returned loans, in cents.")
PAYMENTS = Counter("circulate_payments", "Payments received.")
PAYMENTS_CENTS = Counter("circulate_payments_cents", "Payments received, in cents.")


class CirculationMetrics:
    """An ``EventPublisher`` that counts what happened."""

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            match event:
                case BookLent():
                    LOANS.inc()
                case BookReturned(fine_cents=fine):
                    RETURNS.inc()
                    if fine:
                        FINES_CENTS.inc(fine)
                case LoanRenewed():
                    RENEWALS.inc()
                case HoldPlaced():
                    HOLDS.labels(event="placed").inc()
                case HoldReady():
                    HOLDS.labels(event="ready").inc()
                case HoldClosed(status=status):
                    HOLDS.labels(event=status).inc()
                case PaymentReceived(amount_cents=amount):
                    PAYMENTS.inc()
                    PAYMENTS_CENTS.inc(amount)
                case _:
                    pass


class PublishToAll:
    """One ``EventPublisher`` that hands each batch of events to several, in order.

    The transaction has committed already, so the events happened whatever a listener makes of
    them: a listener that fails is logged and does not keep the others from hearing, nor turn
    the committed change into an error for the caller.
    """

    def __init__(self, *publishers: EventPublisher) -> None:
        self._publishers = publishers

    def publish(self, events: Sequence[Event]) -> None:
        for publisher in self._publishers:
            try:
                publisher.publish(events)
            except Exception:
                log.exception(
                    "an event listener failed", extra={"listener": type(publisher).__name__}
                )
