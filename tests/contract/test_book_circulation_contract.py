"""A book's circulation state loads and saves as one, on every adapter."""

from __future__ import annotations

from domain.catalogue import CopyStatus
from domain.circulation import Standing
from domain.events import BookLent, HoldPlaced, HoldReady
from domain.holds import HoldStatus
from domain.rules import RuleBook
from tests.contract.builders import DAY, POLICY, T0, book, copy, hold, member, new_id, store
from tests.contract.conftest import UowFactory
from tests.unit.support import RecordingPublisher

RULES = RuleBook.from_policy(POLICY)


def test_the_state_holds_the_copies_and_the_active_queue(new_uow: UowFactory) -> None:
    b, other = book(), book()
    c2, c1, elsewhere = copy(b, "B-2"), copy(b, "B-1"), copy(other)
    m1, m2, m3 = member(), member(), member()
    second, first, closed = hold(b, m2, now=T0 + DAY), hold(b, m1, now=T0), hold(b, m3)
    closed.cancel(T0)
    store(new_uow, b, other, c2, c1, elsewhere, m1, m2, m3)
    store(new_uow, second, first, closed)

    with new_uow() as uow:
        state = uow.circulation.get(b.id)
        assert state.book_id == b.id
        assert [c.id for c in state.copies] == [c1.id, c2.id]
        assert [h.id for h in state.holds] == [first.id, second.id]
        assert state.position(second.id) == 2
        # The same rows through the other repositories are the same objects.
        assert uow.copies.get(c1.id) is state.copies[0]
        assert uow.holds.get(first.id) is state.holds[0]


def test_an_unknown_book_has_an_empty_state(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        state = uow.circulation.get(new_id())
        assert (state.copies, state.holds) == ([], [])


def test_find_reads_the_book_with_its_state_and_none_for_an_unknown_book(
    new_uow: UowFactory,
) -> None:
    b = book()
    b.item_type = "dvd"
    c2, c1 = copy(b, "F-2"), copy(b, "F-1")
    m1, m2 = member(), member()
    second, first = hold(b, m2, now=T0 + DAY), hold(b, m1, now=T0)
    store(new_uow, b, c2, c1, m1, m2)
    store(new_uow, second, first)

    with new_uow() as uow:
        assert uow.circulation.find(new_id()) is None
        state = uow.circulation.find(b.id)
        assert state is not None
        assert (state.book_id, state.item_type) == (b.id, "dvd")
        assert [c.id for c in state.copies] == [c1.id, c2.id]
        assert [h.id for h in state.holds] == [first.id, second.id]
        # Tracked as the repositories' reads are: the same objects, and changes are saved.
        assert uow.copies.get(c1.id) is state.copies[0]
        assert uow.holds.get(first.id) is state.holds[0]
        assert uow.books.get(b.id) == b
        state.copies[0].status = CopyStatus.WITHDRAWN
        uow.commit()
    with new_uow() as uow:
        again = uow.copies.get(c1.id)
        assert again is not None
        assert (again.status, again.version) == (CopyStatus.WITHDRAWN, 2)


def test_saving_writes_new_holds_and_changes_and_publishes_the_events(
    new_uow: UowFactory,
) -> None:
    b, lender, holder = book(), member(), member()
    on_shelf = copy(b)
    store(new_uow, b, on_shelf, lender, holder)
    publisher = RecordingPublisher()

    with new_uow(publisher) as uow:
        state = uow.circulation.get(b.id)
        loan = state.lend(
            loan_id=new_id(),
            standing=Standing(member=lender, open_loans=[], balance_cents=0),
            rules=RULES,
            now=T0,
        )
        uow.loans.add(loan)
        state.place_hold(
            hold_id=new_id(),
            standing=Standing(member=holder, open_loans=[], balance_cents=0),
            member_holds=[],
            rules=RULES,
            now=T0,
        )
        uow.circulation.save(state)
        assert publisher.events == []  # only after the commit
        uow.commit()
    assert [type(e) for e in publisher.events] == [BookLent, HoldPlaced]

    with new_uow(publisher) as uow:
        state = uow.circulation.get(b.id)
        assert state.copies[0].status is CopyStatus.ON_LOAN
        assert [(h.member_id, h.status) for h in state.holds] == [(holder.id, HoldStatus.WAITING)]
        stored = uow.loans.get(loan.id)
        assert stored is not None
        state.take_back(stored, lender, RULES, T0 + DAY)
        uow.circulation.save(state)
        uow.commit()
    ready = publisher.of_type(HoldReady)
    assert [(e.member_id, e.copy_id) for e in ready] == [(holder.id, on_shelf.id)]

    with new_uow() as uow:
        state = uow.circulation.get(b.id)
        assert state.copies[0].status is CopyStatus.ON_HOLD_SHELF
        assert state.holds[0].status is HoldStatus.READY


def test_leaving_without_commit_saves_nothing(new_uow: UowFactory) -> None:
    b, m = book(), member()
    on_shelf = copy(b)
    store(new_uow, b, on_shelf, m)
    with new_uow() as uow:
        state = uow.circulation.get(b.id)
        state.place_hold(
            hold_id=new_id(),
            standing=Standing(member=m, open_loans=[], balance_cents=0),
            member_holds=[],
            rules=RULES,
            now=T0,
        )
        uow.circulation.save(state)
    with new_uow() as uow:
        state = uow.circulation.get(b.id)
        assert state.holds == []
        assert state.copies[0].status is CopyStatus.AVAILABLE
