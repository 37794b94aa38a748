"""My holds: the titles I queue for, my place in each queue, what waits for me on the hold
shelf and until when; place a hold (from the catalogue), pause one (away for a while: it keeps
its place but is passed over) and resume it, and cancel one."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, redirect, render_template, request, url_for

from application.circulation import Circulation, HoldInQueue
from application.queries import HoldFilter, PageRequest
from domain.errors import DomainError
from domain.holds import Hold, HoldStatus
from entrypoints.container import Container
from entrypoints.web import lookups
from entrypoints.web.audience import member_required
from entrypoints.web.formatting import day
from entrypoints.web.my import me, outcome

# The hold limit keeps a member's active holds far below one page.
ACTIVE_HOLDS = PageRequest(1, 100)
MAX_FIELD = 200


def active_holds(circulation: Circulation, member_id: str) -> list[Hold]:
    """Ready holds first (something to collect), then those waiting, oldest first."""
    return [
        hold
        for status in (HoldStatus.READY, HoldStatus.WAITING)
        for hold in circulation.list_holds(
            HoldFilter(member_id=member_id, status=status), ACTIVE_HOLDS
        ).items
    ]


@member_required
@inject
def holds(circulation: Circulation = Provide[Container.library.circulation]) -> str:
    mine = active_holds(circulation, me.member_id())
    return render_template(
        "web/my/holds.html",
        holds=mine,
        positions=circulation.positions(mine),
        books=lookups.books(hold.book_id for hold in mine),
        outcome=outcome.take(),
    )


def placed_words(title: str, queued: HoldInQueue) -> str:
    hold = queued.hold
    if hold.status is HoldStatus.READY:
        return f"A copy of {title} is set aside for you: collect it by {day(hold.pickup_by)}."
    return f"Hold placed on {title}: you are number {queued.position} in the queue."


@member_required
@inject
def place(circulation: Circulation = Provide[Container.library.circulation]) -> Response:
    book_id = request.form.get("book_id", "")[:MAX_FIELD]
    words = request.form.get("q", "")[:MAX_FIELD]
    try:
        title = lookups.books([book_id])[book_id].title
        queued = circulation.place_hold(me.member_id(), book_id)
    except DomainError as refusal:
        # Back to the search the member placed it from, with the reason.
        outcome.refused(refusal)
        return redirect(url_for("web.my.catalogue", q=words or None), 303)  # type: ignore[return-value]
    outcome.done(placed_words(title, queued))
    return redirect(url_for("web.my.holds"), 303)  # type: ignore[return-value]


@member_required
@inject
def cancel(
    hold_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    hold = me.own_hold(circulation, hold_id).hold  # another member's hold: 404, nothing cancelled
    title = lookups.books([hold.book_id])[hold.book_id].title
    try:
        circulation.cancel_hold(hold.id)
    except DomainError as refusal:
        outcome.refused(refusal)
    else:
        outcome.done(f"Your hold on {title} is cancelled.")
    return redirect(url_for("web.my.holds"), 303)  # type: ignore[return-value]


def _pause_or_resume(hold_id: str, circulation: Circulation, *, pause: bool) -> Response:
    hold = me.own_hold(circulation, hold_id).hold  # another member's hold: 404, nothing changed
    title = lookups.books([hold.book_id])[hold.book_id].title
    try:
        queued = circulation.change_hold(hold.id, suspended=pause)
    except DomainError as refusal:
        outcome.refused(refusal)
    else:
        if pause:
            outcome.done(f"Your hold on {title} is paused; it keeps its place in the queue.")
        elif queued.hold.status is HoldStatus.READY:
            outcome.done(placed_words(title, queued))
        else:
            outcome.done(f"Your hold on {title} is active again: number {queued.position}.")
    return redirect(url_for("web.my.holds"), 303)  # type: ignore[return-value]


@member_required
@inject
def pause(
    hold_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    return _pause_or_resume(hold_id, circulation, pause=True)


@member_required
@inject
def resume(
    hold_id: str, circulation: Circulation = Provide[Container.library.circulation]
) -> Response:
    return _pause_or_resume(hold_id, circulation, pause=False)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/holds", "holds", holds)
    bp.add_url_rule("/holds", "place_hold", place, methods=["POST"])
    bp.add_url_rule("/holds/<hold_id>/cancel", "cancel_hold", cancel, methods=["POST"])
    bp.add_url_rule("/holds/<hold_id>/pause", "pause_hold", pause, methods=["POST"])
    bp.add_url_rule("/holds/<hold_id>/resume", "resume_hold", resume, methods=["POST"])
