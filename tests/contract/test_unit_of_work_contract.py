"""What every unit of work must do: track, commit whole, roll back, and refuse conflicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from application.queries import BookFilter, PageRequest
from domain.catalogue import CopyStatus
from domain.errors import (
    BarcodeAlreadyExists,
    ConcurrentUpdate,
    EmailAlreadyRegistered,
    IsbnAlreadyExists,
)
from domain.events import Event, PaymentReceived
from domain.members import MemberStatus
from tests.contract.builders import (
    DAY,
    POLICY,
    T0,
    book,
    copy,
    fine,
    hold,
    loan,
    member,
    payment,
    store,
)
from tests.contract.conftest import UowFactory


def test_the_same_row_read_twice_is_the_same_object(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b, "X-1")
    m = member(email="same@example.org")
    h = hold(b, m)
    store(new_uow, b, c, m, h)

    with new_uow() as uow:
        assert uow.books.get(b.id) is uow.books.get_by_isbn(b.isbn)
        by_id = uow.copies.get(c.id)
        assert by_id is uow.copies.get_by_barcode("X-1")
        assert by_id is uow.copies.for_book(b.id)[0]
        assert uow.members.get(m.id) is uow.members.get_by_email("same@example.org")
        assert uow.members.get(m.id) is uow.members.get(m.id, for_update=True)
        assert uow.holds.get(h.id) is uow.holds.active_for_book(b.id)[0]
        # An unsaved change stays visible to the next read in the same unit of work.
        assert by_id is not None
        by_id.set_aside(T0 + DAY)
        assert uow.copies.for_book(b.id)[0].status is CopyStatus.ON_HOLD_SHELF


def test_commit_saves_changes_to_loaded_entities_and_bumps_their_version(
    new_uow: UowFactory,
) -> None:
    b = book()
    c = copy(b)
    m = member()
    store(new_uow, b, c, m)

    with new_uow() as uow:
        loaded_copy = uow.copies.get(c.id)
        loaded_member = uow.members.get(m.id, for_update=True)
        untouched = uow.books.get(b.id)
        assert loaded_copy is not None
        assert loaded_member is not None
        assert untouched is not None
        loaded_copy.set_aside(T0 + DAY)
        loaded_member.suspend(T0 + DAY)
        uow.commit()
        assert loaded_copy.version == 2
        assert untouched.version == 1

    with new_uow() as uow:
        stored_copy = uow.copies.get(c.id)
        stored_member = uow.members.get(m.id)
        stored_book = uow.books.get(b.id)
        assert stored_copy is not None
        assert stored_member is not None
        assert stored_book is not None
        assert (stored_copy.status, stored_copy.version) == (CopyStatus.ON_HOLD_SHELF, 2)
        assert stored_copy.updated_at == T0 + DAY
        assert (stored_member.status, stored_member.version) == (MemberStatus.SUSPENDED, 2)
        assert stored_book.version == 1


def test_changes_after_a_commit_are_saved_by_the_next_commit(new_uow: UowFactory) -> None:
    b = book()
    store(new_uow, b)
    with new_uow() as uow:
        loaded = uow.books.get(b.id)
        assert loaded is not None
        loaded.revise(now=T0 + DAY, title="First")
        uow.commit()
        loaded.revise(now=T0 + 2 * DAY, title="Second")
        uow.commit()
        assert loaded.version == 3
    with new_uow() as uow:
        stored = uow.books.get(b.id)
        assert stored is not None
        assert (stored.title, stored.version) == ("Second", 3)


def test_changed_search_keys_are_saved_too(new_uow: UowFactory) -> None:
    b = book("Old Title", authors=("Old Author",))
    store(new_uow, b)
    with new_uow() as uow:
        loaded = uow.books.get(b.id)
        assert loaded is not None
        loaded.revise(now=T0 + DAY, title="New Title", authors=["New Writer"])
        uow.commit()
    with new_uow() as uow:
        assert uow.books.search(BookFilter(q="old"), PageRequest()).total == 0
        assert uow.books.search(BookFilter(author="writer"), PageRequest()).total == 1
        assert uow.books.search(BookFilter(q="new title"), PageRequest()).total == 1


def test_leaving_without_commit_discards_everything(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    store(new_uow, b)

    with new_uow() as uow:
        uow.copies.add(c)
        loaded = uow.books.get(b.id)
        assert loaded is not None
        loaded.revise(now=T0 + DAY, title="Changed")
        uow.members.add(member())

    def fail_half_way() -> None:
        with new_uow() as uow:
            uow.copies.add(c)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_half_way()

    with new_uow() as uow:
        assert uow.copies.get(c.id) is None
        stored = uow.books.get(b.id)
        assert stored is not None
        assert (stored.title, stored.version) == (b.title, 1)
        assert uow.members.get_by_email("nobody@example.org") is None


def test_a_failed_commit_keeps_nothing(new_uow: UowFactory) -> None:
    taken = book()
    store(new_uow, taken)
    newcomer = member()
    with new_uow() as uow:
        uow.members.add(newcomer)
        uow.books.add(book(isbn=taken.isbn))
        with pytest.raises(IsbnAlreadyExists):
            uow.commit()
    with new_uow() as uow:
        assert uow.members.get(newcomer.id) is None


def test_a_write_based_on_a_stale_version_is_refused(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    store(new_uow, b, c)
    with new_uow() as uow:
        loaded = uow.copies.get(c.id)
        assert loaded is not None
        loaded.set_aside(T0 + DAY)
        loaded.version = 2

        def write_and_commit() -> None:
            uow.copies.write_changes(loaded, expected_version=5)  # type: ignore[attr-defined]
            uow.commit()

        # Refused by the commit at the latest: an adapter may send the write with the rest.
        with pytest.raises(ConcurrentUpdate):
            write_and_commit()
    with new_uow() as uow:
        stored = uow.copies.get(c.id)
        assert stored is not None
        assert (stored.status, stored.version) == (CopyStatus.AVAILABLE, 1)


def test_changing_a_row_that_is_gone_is_refused(new_uow: UowFactory) -> None:
    b = book()
    store(new_uow, b)
    with new_uow() as uow:
        loaded = uow.books.get(b.id)
        assert loaded is not None
        uow.books.remove(loaded)
        uow.commit()
        ghost = replace(loaded, title="Ghost", version=2)
        with pytest.raises(ConcurrentUpdate):
            uow.books.write_changes(ghost, expected_version=1)  # type: ignore[attr-defined]


def test_adding_an_id_that_exists_is_refused(new_uow: UowFactory) -> None:
    m = member()
    store(new_uow, m)
    twin = replace(m, email="twin@example.org", card_number="TWIN0001")
    with new_uow() as uow:
        uow.members.add(twin)
        with pytest.raises(ConcurrentUpdate):
            uow.commit()


def test_duplicates_raise_the_domain_errors(new_uow: UowFactory) -> None:
    b = book()
    store(new_uow, b, copy(b, "DUP-1"), member(email="dup@example.org"))

    with new_uow() as uow:
        uow.books.add(book(isbn=b.isbn))
        with pytest.raises(IsbnAlreadyExists):
            uow.commit()
    with new_uow() as uow:
        uow.copies.add(copy(b, "DUP-1"))
        with pytest.raises(BarcodeAlreadyExists):
            uow.commit()
    with new_uow() as uow:
        uow.members.add(member(email="DUP@example.org"))
        with pytest.raises(EmailAlreadyRegistered):
            uow.commit()


def test_changing_a_key_to_one_in_use_raises_the_domain_error(new_uow: UowFactory) -> None:
    first, second = book(), book()
    a, b = member(email="a@example.org"), member(email="b@example.org")
    store(new_uow, first, second, a, b)
    with new_uow() as uow:
        loaded = uow.books.get(second.id)
        assert loaded is not None
        loaded.revise(now=T0 + DAY, isbn=first.isbn)
        with pytest.raises(IsbnAlreadyExists):
            uow.commit()
    with new_uow() as uow:
        loaded_member = uow.members.get(b.id)
        assert loaded_member is not None
        loaded_member.revise(now=T0 + DAY, email="A@example.org")
        with pytest.raises(EmailAlreadyRegistered):
            uow.commit()


def test_a_copy_never_has_two_open_loans(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    first, second = member(), member()
    old = loan(c, second, now=T0 - 60 * DAY)
    old.close(T0 - 40 * DAY, POLICY)
    older = loan(c, first, now=T0 - 90 * DAY)
    older.close(T0 - 70 * DAY, POLICY)
    # Any number of returned loans, and one open loan, are fine.
    store(new_uow, b, c, first, second, old, older, loan(c, first))

    with new_uow() as uow:
        uow.loans.add(loan(c, second))
        with pytest.raises(ConcurrentUpdate):
            uow.commit()
    with new_uow() as uow:
        assert uow.loans.open_count_for_book(b.id) == 1


def test_reopening_a_returned_loan_on_a_lent_copy_is_refused(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    m = member()
    returned = loan(c, m, now=T0 - 30 * DAY)
    returned.close(T0 - 20 * DAY, POLICY)
    store(new_uow, b, c, m, returned, loan(c, m))
    with new_uow() as uow:
        loaded = uow.loans.get(returned.id)
        assert loaded is not None
        loaded.returned_at = None
        with pytest.raises(ConcurrentUpdate):
            uow.commit()


def test_remove_deletes(new_uow: UowFactory) -> None:
    b = book()
    c = copy(b)
    m = member()
    h = hold(b, m)
    done = loan(c, m, now=T0 - 30 * DAY)
    done.close(T0 - 10 * DAY, POLICY)
    entry = fine(m, 100, loan_id=done.id)
    store(new_uow, b, c, m, h, done, entry)

    with new_uow() as uow:
        for removed_hold in uow.holds.for_book(b.id):
            uow.holds.remove(removed_hold)
        for removed_loan in uow.loans.closed_for_book(b.id):
            uow.loans.remove(removed_loan)
        for removed_copy in uow.copies.for_book(b.id):
            uow.copies.remove(removed_copy)
        loaded_book = uow.books.get(b.id)
        assert loaded_book is not None
        uow.books.remove(loaded_book)
        uow.commit()

    with new_uow() as uow:
        assert uow.books.get(b.id) is None
        assert uow.copies.get(c.id) is None
        assert uow.holds.get(h.id) is None
        assert uow.loans.get(done.id) is None
        # The fine outlives the loan history.
        assert uow.ledger.balance(m.id) == 100
        for removed_entry in uow.ledger.for_member(m.id):
            uow.ledger.remove(removed_entry)
        loaded_member = uow.members.get(m.id)
        assert loaded_member is not None
        uow.members.remove(loaded_member)
        uow.commit()

    with new_uow() as uow:
        assert uow.ledger.for_member(m.id) == []
        assert uow.members.get(m.id) is None


def test_an_entity_added_and_removed_in_one_unit_of_work_is_never_written(
    new_uow: UowFactory,
) -> None:
    m = member()
    with new_uow() as uow:
        uow.members.add(m)
        uow.members.remove(m)
        uow.commit()
    with new_uow() as uow:
        assert uow.members.get(m.id) is None


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[Event]] = []

    def publish(self, events: Sequence[Event]) -> None:
        self.batches.append(list(events))


def test_events_are_published_only_after_a_successful_commit(new_uow: UowFactory) -> None:
    taken = book()
    m = member()
    store(new_uow, taken, m)
    recorder = Recorder()
    paid = PaymentReceived(occurred_at=T0, member_id=m.id, amount_cents=100)

    with new_uow(recorder) as uow:
        uow.emit(paid)
    with new_uow(recorder) as uow:
        uow.emit(paid)
        uow.books.add(book(isbn=taken.isbn))
        with pytest.raises(IsbnAlreadyExists):
            uow.commit()
    assert recorder.batches == []

    with new_uow(recorder) as uow:
        uow.emit(paid)
        uow.ledger.add(payment(m, 100))
        uow.commit()
    assert recorder.batches == [[paid]]


def test_many_new_rows_are_written_parents_first_in_one_commit(new_uow: UowFactory) -> None:
    books = [book() for _ in range(50)]
    copies = [copy(b) for b in books for _ in range(2)]
    with new_uow() as uow:
        for b in books:
            uow.books.add(b)
        for c in copies:
            uow.copies.add(c)
        uow.commit()

    with new_uow() as uow:
        counts = uow.copies.circulating_counts([b.id for b in books])
        assert counts == {b.id: 2 for b in books}
        stored = uow.books.get(books[-1].id)
        assert stored is not None
        assert stored.isbn == books[-1].isbn


def test_a_duplicate_in_a_bulk_write_keeps_nothing(new_uow: UowFactory) -> None:
    existing = book()
    store(new_uow, existing)
    fresh = [book() for _ in range(5)]

    with new_uow() as uow:
        for b in [*fresh, book(isbn=existing.isbn)]:
            uow.books.add(b)
        with pytest.raises(IsbnAlreadyExists):
            uow.commit()
    with new_uow() as uow:
        assert uow.books.existing_isbns([b.isbn for b in fresh]) == set()
