"""The hold state machine: waiting -> ready -> fulfilled | cancelled | expired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import HoldNotActive, InvalidValue
from domain.holds import Hold, HoldStatus

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=5)
WINDOW = timedelta(days=7)
H = HoldStatus


def a_hold(status: HoldStatus = H.WAITING) -> Hold:
    hold = Hold.place(id="h1", book_id="b1", member_id="m1", now=NOW)
    if status is not H.WAITING:
        hold.make_ready("c1", NOW, WINDOW)
        if status is H.FULFILLED:
            hold.fulfil(NOW)
        elif status is H.CANCELLED:
            hold.cancel(NOW)
        elif status is H.EXPIRED:
            hold.expire(NOW)
    assert hold.status is status
    return hold


def test_place() -> None:
    hold = a_hold()
    assert hold.status is H.WAITING
    assert hold.is_active
    assert hold.placed_at == NOW
    assert (hold.copy_id, hold.ready_at, hold.pickup_by, hold.closed_at) == (None, None, None, None)


def test_place_requires_utc() -> None:
    with pytest.raises(InvalidValue):
        Hold.place(id="h1", book_id="b1", member_id="m1", now=datetime(2030, 1, 1))  # noqa: DTZ001


def test_make_ready_sets_a_pickup_deadline() -> None:
    hold = a_hold()
    hold.make_ready("c9", LATER, WINDOW)
    assert hold.status is H.READY
    assert hold.is_active
    assert (hold.copy_id, hold.ready_at, hold.pickup_by) == ("c9", LATER, LATER + WINDOW)
    assert not hold.pickup_overdue(LATER + WINDOW)
    assert hold.pickup_overdue(LATER + WINDOW + timedelta(microseconds=1))


def test_requeue_keeps_the_place_in_the_queue() -> None:
    hold = a_hold(H.READY)
    key = hold.queue_key
    hold.requeue()
    assert hold.status is H.WAITING
    assert (hold.copy_id, hold.ready_at, hold.pickup_by) == (None, None, None)
    assert hold.queue_key == key


@pytest.mark.parametrize("status", [H.FULFILLED, H.CANCELLED, H.EXPIRED])
def test_closing_records_when(status: HoldStatus) -> None:
    hold = a_hold(status)
    assert not hold.is_active
    assert hold.closed_at == NOW
    assert not hold.pickup_overdue(NOW + 100 * WINDOW)


def test_waiting_hold_is_never_pickup_overdue() -> None:
    assert not a_hold().pickup_overdue(NOW + 1000 * WINDOW)


def test_queue_order_is_placement_then_id() -> None:
    first = Hold.place(id="b", book_id="b1", member_id="m1", now=NOW)
    same_instant = Hold.place(id="c", book_id="b1", member_id="m2", now=NOW)
    earlier_id_later_time = Hold.place(id="a", book_id="b1", member_id="m3", now=LATER)
    ordered = sorted([earlier_id_later_time, same_instant, first], key=lambda h: h.queue_key)
    assert [h.id for h in ordered] == ["b", "c", "a"]


Step = Callable[[Hold], None]
STEPS: dict[str, tuple[Step, HoldStatus]] = {
    "make_ready": (lambda h: h.make_ready("c2", LATER, WINDOW), H.READY),
    "requeue": (lambda h: h.requeue(), H.WAITING),
    "fulfil": (lambda h: h.fulfil(LATER), H.FULFILLED),
    "cancel": (lambda h: h.cancel(LATER), H.CANCELLED),
    "expire": (lambda h: h.expire(LATER), H.EXPIRED),
}
ALLOWED: dict[str, set[HoldStatus]] = {
    "make_ready": {H.WAITING},
    "requeue": {H.READY},
    "fulfil": {H.WAITING, H.READY},
    "cancel": {H.WAITING, H.READY},
    "expire": {H.READY},
}


@pytest.mark.parametrize(("step", "status"), [(s, status) for s in STEPS for status in H])
def test_every_hold_transition_is_allowed_or_refused(step: str, status: HoldStatus) -> None:
    hold = a_hold(status)
    apply, target = STEPS[step]
    if status in ALLOWED[step]:
        apply(hold)
        assert hold.status is target
        if target in {H.FULFILLED, H.CANCELLED, H.EXPIRED}:
            assert hold.closed_at == LATER
        return
    before = (hold.status, hold.copy_id, hold.ready_at, hold.pickup_by, hold.closed_at)
    with pytest.raises(HoldNotActive) as refused:
        apply(hold)
    assert refused.value.code == "HOLD_NOT_ACTIVE"
    assert refused.value.details == {"hold_id": "h1", "status": str(status)}
    assert (hold.status, hold.copy_id, hold.ready_at, hold.pickup_by, hold.closed_at) == before
