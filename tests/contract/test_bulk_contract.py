"""What every ``BulkWriter`` must do, on every adapter: store whole batches, skip what is there,
keep derived data (availability, word search) exact, and leave nothing behind unless committed."""

from __future__ import annotations

from collections.abc import Sequence

from application.ports import BookAddition
from application.queries import BookFilter, MemberFilter, PageRequest
from domain.catalogue import Book
from tests.contract.builders import T0, book, copy, member, store
from tests.contract.conftest import UowFactory
from tests.contract.test_repository_contract import assert_same

EVERYTHING = PageRequest(1, 100)


def with_copies(of: Book, count: int) -> BookAddition:
    return BookAddition(of, [copy(of) for _ in range(count)])


def available(new_uow: UowFactory, query: BookFilter | None = None) -> list[str]:
    """Titles of the books with a copy on the shelf (the count kept for the filter)."""
    with new_uow() as uow:
        page = uow.books.search(query or BookFilter(available=True), EVERYTHING)
        return sorted(b.title for b in page.items)


def titles(new_uow: UowFactory, query: BookFilter) -> list[str]:
    with new_uow() as uow:
        return sorted(b.title for b in uow.books.search(query, EVERYTHING).items)


def load(new_uow: UowFactory, additions: Sequence[BookAddition]) -> None:
    with new_uow() as uow:
        uow.bulk.add_books(additions)
        uow.commit()


def test_books_and_copies_are_stored_as_given(new_uow: UowFactory) -> None:
    first, second = book("Dune"), book("Emma", authors=())
    additions = [with_copies(first, 2), BookAddition(second)]

    with new_uow() as uow:
        outcome = uow.bulk.add_books(additions)
        uow.commit()

    assert outcome.added == [first.id, second.id]
    assert (outcome.present, outcome.barcode_taken) == ([], {})
    with new_uow() as uow:
        assert_same(uow.books.get(first.id), first)
        assert_same(uow.books.get(second.id), second)
        stored = uow.copies.for_book(first.id)
        assert sorted(c.id for c in stored) == sorted(c.id for c in additions[0].copies)
        for original in additions[0].copies:
            assert_same(uow.copies.get(original.id), original)
        assert uow.copies.circulating_counts([first.id, second.id]) == {first.id: 2}


def test_awkward_values_are_stored_exactly(new_uow: UowFactory) -> None:
    # What a text format would have to escape or could lose: backslashes, quotes, the list
    # separator, non-ASCII text, absent values and empty lists.
    awkward = book(
        'C:\\Users\\N "quoted" \\N',
        authors=("O'Brien, Flann", "Brontë; Charlotte", "\\"),
        publisher=None,
        year=None,
        subjects=(),
    )
    plain = book("Emma", subjects=("novels", "Ünïcødé ∑"))
    awkward_member = member("Zoë \\ D'Arcy")

    load(new_uow, [with_copies(awkward, 1), BookAddition(plain)])
    with new_uow() as uow:
        uow.bulk.add_members([awkward_member])
        uow.commit()

    with new_uow() as uow:
        assert_same(uow.books.get(awkward.id), awkward)
        assert_same(uow.books.get(plain.id), plain)
        assert_same(uow.members.get(awkward_member.id), awkward_member)


def test_loaded_books_are_counted_for_availability_and_found_by_words(
    new_uow: UowFactory,
) -> None:
    load(
        new_uow,
        [
            with_copies(book("Riverside Tales", authors=("Ann Brook",)), 1),
            with_copies(book("Winter Garden", authors=("Colm Tide",)), 3),
            BookAddition(book("Silent Orchard", authors=("Ann Brook",))),
        ],
    )

    assert available(new_uow) == ["Riverside Tales", "Winter Garden"]
    assert available(new_uow, BookFilter(available=False)) == ["Silent Orchard"]
    assert titles(new_uow, BookFilter(q="riverside")) == ["Riverside Tales"]
    assert titles(new_uow, BookFilter(q="garden winter")) == ["Winter Garden"]
    assert titles(new_uow, BookFilter(author="brook")) == ["Riverside Tales", "Silent Orchard"]


def test_a_book_whose_isbn_is_stored_is_skipped_with_its_copies(new_uow: UowFactory) -> None:
    stored = book("Stored")
    store(new_uow, stored)
    again = book("Stored again", isbn=stored.isbn)
    fresh = book("Fresh")

    with new_uow() as uow:
        outcome = uow.bulk.add_books([with_copies(again, 2), with_copies(fresh, 1)])
        uow.commit()

    assert (outcome.added, outcome.present) == ([fresh.id], [again.id])
    with new_uow() as uow:
        assert uow.books.get(again.id) is None
        assert uow.copies.for_book(again.id) == []
        assert uow.copies.circulating_counts([stored.id]) == {}
    assert available(new_uow) == ["Fresh"]


def test_a_book_with_a_barcode_in_use_is_skipped_with_its_copies(new_uow: UowFactory) -> None:
    owner = book("Owner")
    store(new_uow, owner, copy(owner, "TAKEN-1"))
    clashing, fresh = book("Clashing"), book("Fresh")
    additions = [
        BookAddition(clashing, [copy(clashing, "FREE-1"), copy(clashing, "TAKEN-1")]),
        with_copies(fresh, 1),
    ]

    with new_uow() as uow:
        outcome = uow.bulk.add_books(additions)
        uow.commit()

    assert outcome.added == [fresh.id]
    assert outcome.barcode_taken == {clashing.id: "TAKEN-1"}
    with new_uow() as uow:
        assert uow.books.get(clashing.id) is None
        assert uow.copies.get_by_barcode("FREE-1") is None
    assert available(new_uow) == ["Fresh", "Owner"]


def test_a_load_left_without_commit_leaves_nothing(new_uow: UowFactory) -> None:
    kept = book("Kept")
    load(new_uow, [with_copies(kept, 1)])
    dropped = book("Dropped")

    with new_uow() as uow:
        uow.bulk.add_books([with_copies(dropped, 2)])
        uow.bulk.add_members([member()])
        # no commit: an interrupted batch

    with new_uow() as uow:
        assert uow.books.get(dropped.id) is None
        assert uow.copies.for_book(dropped.id) == []
        assert uow.members.list(MemberFilter(), EVERYTHING).total == 0
    assert available(new_uow) == ["Kept"]
    assert titles(new_uow, BookFilter(q="dropped")) == []
    # And the next load goes ahead as if the interrupted one never ran.
    load(new_uow, [with_copies(dropped, 2)])
    assert available(new_uow) == ["Dropped", "Kept"]


def test_single_writes_after_a_load_are_counted_as_before(new_uow: UowFactory) -> None:
    """The per-batch bookkeeping stands in for the per-row one only for the load itself: copies
    added, lost or removed afterwards, in the same transaction or later, still count."""
    loaded = book("Loaded")
    addition = with_copies(loaded, 1)
    other = book("Other")
    with new_uow() as uow:
        uow.bulk.add_books([addition, BookAddition(other)])
        uow.copies.add(copy(other))  # written on commit, after the load
        uow.commit()
    assert available(new_uow) == ["Loaded", "Other"]

    with new_uow() as uow:
        stored = uow.copies.get(addition.copies[0].id)
        assert stored is not None
        stored.mark_lost(T0)
        uow.commit()
    assert available(new_uow) == ["Other"]
    with new_uow() as uow:
        uow.copies.add(copy(loaded))
        uow.commit()
    assert available(new_uow) == ["Loaded", "Other"]


def test_members_are_stored_unless_their_email_is_registered(new_uow: UowFactory) -> None:
    registered = member(email="ada@example.org")
    store(new_uow, registered)
    same_email = member(email="ada@example.org")
    fresh = member(email="grace@example.org")

    with new_uow() as uow:
        added = uow.bulk.add_members([same_email, fresh])
        uow.commit()

    assert added == [fresh.id]
    with new_uow() as uow:
        assert_same(uow.members.get(fresh.id), fresh)
        assert uow.members.get(same_email.id) is None


def test_an_empty_load_does_nothing(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        outcome = uow.bulk.add_books([])
        assert uow.bulk.add_members([]) == []
        uow.commit()
    assert (outcome.added, outcome.present, outcome.barcode_taken) == ([], [], {})


def test_a_book_loaded_again_is_present_not_a_barcode_clash(new_uow: UowFactory) -> None:
    """A re-run offers the same ISBN with the same (derived) barcodes: that is a book already
    there, not a clash with its own copies."""
    first = book("First run")
    load(new_uow, [BookAddition(first, [copy(first, f"{first.isbn}-1")])])
    again = book("Second run", isbn=first.isbn)

    with new_uow() as uow:
        outcome = uow.bulk.add_books([BookAddition(again, [copy(again, f"{first.isbn}-1")])])
        uow.commit()

    assert (outcome.added, outcome.present, outcome.barcode_taken) == ([], [again.id], {})
