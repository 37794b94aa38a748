"""What every repository adapter must do: store, find, filter, sort and page the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime, timedelta

import pytest

from application.queries import (
    BookFilter,
    BookSort,
    HoldFilter,
    LoanFilter,
    MemberFilter,
    Page,
    PageRequest,
)
from application.unit_of_work import Entity, UnitOfWork
from domain.catalogue import Book, CopyStatus
from domain.errors import InvalidValue
from domain.holds import Hold, HoldStatus
from domain.loans import Loan, LoanState
from domain.members import Member, MemberStatus, Role
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
from tests.contract.paging import assert_walks_the_list


def assert_same(stored: Entity | None, original: Entity) -> None:
    """Equal field by field, same types, instants still timezone-aware UTC."""
    assert stored is not None
    assert stored is not original
    assert type(stored) is type(original)
    for field in fields(original):
        value, expected = getattr(stored, field.name), getattr(original, field.name)
        assert value == expected, field.name
        assert type(value) is type(expected), field.name
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), field.name


def ids_of(entities: Sequence[Entity]) -> list[str]:
    return [entity.id for entity in entities]


# --- round trips -----------------------------------------------------------------------------


def test_books_and_copies_round_trip(new_uow: UowFactory) -> None:
    full = book("Dune", authors=("Frank Herbert", "Brian Herbert"), subjects=("sf", "desert"))
    bare = book("Anonymous", authors=(), year=None, publisher=None, subjects=())
    shelved = copy(full, "DUNE-1")
    set_aside = copy(full, "DUNE-2")
    set_aside.set_aside(T0 + DAY)
    store(new_uow, full, bare, shelved, set_aside)

    with new_uow() as uow:
        assert_same(uow.books.get(full.id), full)
        assert_same(uow.books.get(bare.id), bare)
        assert_same(uow.copies.get(shelved.id), shelved)
        stored = uow.copies.get(set_aside.id)
        assert_same(stored, set_aside)
        assert stored is not None
        assert stored.status is CopyStatus.ON_HOLD_SHELF


def test_members_round_trip(new_uow: UowFactory) -> None:
    reader = member("Ann Reader", email="ann@example.org", password_hash="$argon2id$v=19$abc")
    librarian = member("Ben Keeper", role=Role.LIBRARIAN)
    librarian.suspend(T0 + DAY)
    store(new_uow, reader, librarian)

    with new_uow() as uow:
        assert_same(uow.members.get(reader.id), reader)
        stored = uow.members.get(librarian.id, for_update=True)
        assert_same(stored, librarian)
        assert stored is not None
        assert stored.role is Role.LIBRARIAN
        assert stored.status is MemberStatus.SUSPENDED


def test_loans_holds_and_ledger_entries_round_trip(new_uow: UowFactory) -> None:
    b = book()
    first, second, third = copy(b), copy(b), copy(b)
    reader, other = member(), member()
    renewed = loan(first, reader)
    renewed.extend(POLICY)
    returned = loan(second, reader)
    returned.close(T0 + 30 * DAY, POLICY)
    third.set_aside(T0)
    waiting = hold(b, other)
    ready = hold(b, reader, now=T0 + DAY)
    ready.make_ready(third.id, T0 + DAY, POLICY.pickup_window)
    charged = fine(reader, returned.fine_cents, loan_id=returned.id)
    paid = payment(reader, 100, now=T0 + 31 * DAY)
    store(new_uow, b, first, second, third, reader, other)
    store(new_uow, renewed, returned, waiting, ready, charged, paid)

    with new_uow() as uow:
        assert_same(uow.loans.get(renewed.id), renewed)
        assert_same(uow.loans.get(returned.id), returned)
        assert_same(uow.holds.get(waiting.id), waiting)
        assert_same(uow.holds.get(ready.id), ready)
        assert [e.id for e in uow.ledger.for_member(reader.id)] == [charged.id, paid.id]
        stored_fine, stored_payment = uow.ledger.for_member(reader.id)
        assert_same(stored_fine, charged)
        assert_same(stored_payment, paid)


def test_unknown_ids_are_none(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        assert uow.books.get("nope") is None
        assert uow.books.get_by_isbn("9780000000002") is None
        assert uow.copies.get("nope") is None
        assert uow.copies.get_by_barcode("nope") is None
        assert uow.members.get("nope") is None
        assert uow.members.get("nope", for_update=True) is None
        assert uow.members.get_by_email("nobody@example.org") is None
        assert uow.loans.get("nope") is None
        assert uow.loans.open_for_copy("nope") is None
        assert uow.holds.get("nope") is None
        assert uow.ledger.for_member("nope") == []
        assert uow.ledger.balance("nope") == 0


def test_a_fine_may_refer_to_a_loan_that_no_longer_exists(new_uow: UowFactory) -> None:
    reader = member()
    store(new_uow, reader)
    store(new_uow, fine(reader, 300, loan_id="0190a000-0000-7000-8000-000000000000"))
    with new_uow() as uow:
        assert uow.ledger.balance(reader.id) == 300


# --- lookups ---------------------------------------------------------------------------------


def test_lookups_by_isbn_barcode_and_email(new_uow: UowFactory) -> None:
    b = book(isbn="9780306406157")
    c = copy(b, "B-0001")
    m = member(email="Mixed.Case@Example.org")
    store(new_uow, b, c, m)

    with new_uow() as uow:
        assert ids_of([uow.books.get_by_isbn("9780306406157")]) == [b.id]  # type: ignore[list-item]
        assert ids_of([uow.copies.get_by_barcode("B-0001")]) == [c.id]  # type: ignore[list-item]
        assert uow.copies.get_by_barcode("b-0001") is None
        for spelling in ("mixed.case@example.org", "MIXED.CASE@EXAMPLE.ORG"):
            found = uow.members.get_by_email(spelling)
            assert found is not None
            assert found.id == m.id


def test_copies_of_a_book_come_ordered_by_barcode(new_uow: UowFactory) -> None:
    b, other = book(), book()
    store(new_uow, b, other, copy(b, "C-3"), copy(b, "A-1"), copy(other, "B-0"), copy(b, "B-2"))
    with new_uow() as uow:
        assert [c.barcode for c in uow.copies.for_book(b.id)] == ["A-1", "B-2", "C-3"]
        assert uow.copies.for_book("nope") == []


def test_open_and_closed_loans(new_uow: UowFactory) -> None:
    b, other_book = book(), book()
    c1, c2, c3, c4 = copy(b), copy(b), copy(b), copy(other_book)
    reader, other = member(), member()
    later = loan(c2, reader, now=T0 + DAY)
    earlier = loan(c1, reader)
    elsewhere = loan(c4, reader)
    theirs = loan(c3, other)
    done = loan(c1, reader, now=T0 - 40 * DAY)
    done.close(T0 - 10 * DAY, POLICY)
    done_other_book = loan(c4, other, now=T0 - 40 * DAY)
    done_other_book.close(T0 - 20 * DAY, POLICY)
    store(new_uow, b, other_book, c1, c2, c3, c4, reader, other)
    store(new_uow, later, earlier, elsewhere, theirs, done, done_other_book)

    with new_uow() as uow:
        # Oldest first; the same instant ordered by (time-ordered) id.
        assert ids_of(uow.loans.open_for_member(reader.id)) == [earlier.id, elsewhere.id, later.id]
        assert ids_of(uow.loans.open_for_member(other.id)) == [theirs.id]
        open_on_c1 = uow.loans.open_for_copy(c1.id)
        assert open_on_c1 is not None
        assert open_on_c1.id == earlier.id
        assert uow.loans.open_count_for_book(b.id) == 3
        assert uow.loans.open_count_for_book(other_book.id) == 1
        assert set(ids_of(uow.loans.closed_for_member(reader.id))) == {done.id}
        assert set(ids_of(uow.loans.closed_for_member(other.id))) == {done_other_book.id}
        assert set(ids_of(uow.loans.closed_for_book(b.id))) == {done.id}
        assert set(ids_of(uow.loans.closed_for_book(other_book.id))) == {done_other_book.id}


def test_hold_queues(new_uow: UowFactory) -> None:
    b, other_book = book(), book()
    shelf_copy = copy(b)
    shelf_copy.set_aside(T0)
    m1, m2, m3, m4 = member(), member(), member(), member()
    # Same placement instant: the (time-ordered) id decides.
    tie_first = hold(b, m1, now=T0 + DAY)
    tie_second = hold(b, m2, now=T0 + DAY)
    first = hold(b, m3, now=T0)
    ready = hold(b, m4, now=T0 - DAY)
    ready.make_ready(shelf_copy.id, T0, POLICY.pickup_window)
    cancelled = hold(b, m4, now=T0 - 2 * DAY)
    cancelled.cancel(T0)
    fulfilled = hold(b, m1, now=T0 - 3 * DAY)
    fulfilled.fulfil(T0)
    m1_elsewhere = hold(other_book, m1, now=T0 + 2 * DAY)
    store(new_uow, b, other_book, shelf_copy, m1, m2, m3, m4)
    # Stored out of queue order, so the order must come from the query.
    store(new_uow, tie_second, m1_elsewhere, fulfilled, first, tie_first, cancelled, ready)

    with new_uow() as uow:
        assert ids_of(uow.holds.active_for_book(b.id)) == [
            ready.id,
            first.id,
            tie_first.id,
            tie_second.id,
        ]
        assert ids_of(uow.holds.active_for_member(m1.id)) == [tie_first.id, m1_elsewhere.id]
        assert ids_of(uow.holds.active_for_member(m4.id)) == [ready.id]
        assert ids_of(uow.holds.for_member(m1.id)) == [fulfilled.id, tie_first.id, m1_elsewhere.id]
        assert ids_of(uow.holds.for_book(b.id)) == [
            fulfilled.id,
            cancelled.id,
            ready.id,
            first.id,
            tie_first.id,
            tie_second.id,
        ]
        assert ids_of(uow.holds.for_book(other_book.id)) == [m1_elsewhere.id]


def test_ready_holds_past_their_pickup_deadline(new_uow: UowFactory) -> None:
    b = book()
    c1, c2, c3 = copy(b), copy(b), copy(b)
    m1, m2, m3 = member(), member(), member()
    holds: list[Hold] = []
    for c, m, ready_at in ((c1, m1, T0 + DAY), (c2, m2, T0), (c3, m3, T0 + 3 * DAY)):
        c.set_aside(ready_at)
        h = hold(b, m)
        h.make_ready(c.id, ready_at, POLICY.pickup_window)
        holds.append(h)
    late_second, late_first, not_yet = holds
    m4 = member()
    waiting = hold(b, m4, now=T0 - 30 * DAY)
    store(new_uow, b, c1, c2, c3, m1, m2, m3, m4)
    store(new_uow, *holds, waiting)
    deadline = T0 + DAY + POLICY.pickup_window

    with new_uow() as uow:
        # Strictly before ``now``: a deadline equal to now has not passed.
        assert ids_of(uow.holds.ready_past_pickup(deadline)) == [late_first.id]
        later = deadline + timedelta(microseconds=1)
        assert ids_of(uow.holds.ready_past_pickup(later)) == [late_first.id, late_second.id]
        assert uow.holds.ready_past_pickup(T0) == []
        assert not_yet.pickup_by is not None
        assert len(uow.holds.ready_past_pickup(not_yet.pickup_by + DAY)) == 3


def test_ledger_balance_is_fines_minus_payments(new_uow: UowFactory) -> None:
    reader, other = member(), member()
    store(new_uow, reader, other)
    store(
        new_uow,
        payment(reader, 200, now=T0 + 2 * DAY),
        fine(reader, 500, now=T0),
        fine(other, 75),
        fine(reader, 250, now=T0 + DAY),
    )
    with new_uow() as uow:
        assert uow.ledger.balance(reader.id) == 550
        assert uow.ledger.balance(other.id) == 75
        assert [e.amount_cents for e in uow.ledger.for_member(reader.id)] == [500, 250, 200]


def test_open_loans_and_balance_are_what_the_two_repositories_say(new_uow: UowFactory) -> None:
    reader, other, newcomer = member(), member(), member()
    b = book()
    c1, c2, c3, c4 = copy(b), copy(b), copy(b), copy(b)
    later, earlier, returned = (
        loan(c1, reader, now=T0 + DAY),
        loan(c2, reader, now=T0),
        loan(c3, reader, now=T0 - DAY),
    )
    returned.close(T0, POLICY)
    store(new_uow, reader, other, newcomer, b, c1, c2, c3, c4)
    store(new_uow, later, earlier, returned, loan(c4, other))
    store(new_uow, fine(reader, 500), payment(reader, 120), fine(other, 75))
    with new_uow() as uow:
        open_loans, balance = uow.open_loans_and_balance(reader.id)
        assert open_loans == uow.loans.open_for_member(reader.id)
        assert [each.id for each in open_loans] == [earlier.id, later.id]  # oldest first
        alone = uow.loans.open_for_member(reader.id)
        assert all(a is b for a, b in zip(open_loans, alone, strict=True))  # tracked alike
        assert balance == uow.ledger.balance(reader.id) == 380
        assert uow.open_loans_and_balance(newcomer.id) == ([], 0)
        open_loans[0].extend(POLICY)
        uow.commit()
    with new_uow() as uow:
        renewed = uow.loans.get(earlier.id)
        assert renewed is not None
        assert (renewed.renewals, renewed.version) == (1, 2)


def test_open_loans_balance_and_holds_add_the_members_active_holds_in_queue_order(
    new_uow: UowFactory,
) -> None:
    reader, other, newcomer = member(), member(), member()
    b1, b2, b3 = book(), book(), book()
    c1 = copy(b1)
    later, earlier, cancelled = (
        hold(b2, reader, now=T0 + DAY),
        hold(b3, reader, now=T0),
        hold(b1, reader, now=T0 - DAY),
    )
    cancelled.cancel(T0)
    store(new_uow, reader, other, newcomer, b1, b2, b3, c1)
    store(new_uow, loan(c1, reader), later, earlier, cancelled, hold(b2, other))
    store(new_uow, fine(reader, 500), payment(reader, 120))
    with new_uow() as uow:
        open_loans, balance, holds = uow.open_loans_balance_and_holds(reader.id)
        assert (open_loans, balance) == uow.open_loans_and_balance(reader.id)
        assert [each.id for each in holds] == [earlier.id, later.id]
        alone = uow.holds.active_for_member(reader.id)
        assert all(a is b for a, b in zip(holds, alone, strict=True))  # tracked alike
        assert balance == 380
        assert uow.open_loans_balance_and_holds(newcomer.id) == ([], 0, [])


def test_circulation_and_rules_are_what_find_and_rules_in_force_say(new_uow: UowFactory) -> None:
    reader = member()
    b = book()
    second, first = copy(b, "B-2"), copy(b, "A-1")
    waiting = hold(b, reader)
    store(new_uow, reader, b, second, first)
    store(new_uow, waiting)
    with new_uow() as uow:
        state, in_force = uow.circulation_and_rules(b.id)
        alone = uow.circulation.find(b.id)
        assert state is not None
        assert alone is not None
        assert [each.id for each in state.copies] == [first.id, second.id]  # by barcode
        assert [each.id for each in state.holds] == [waiting.id]
        assert all(a is b for a, b in zip(state.copies, alone.copies, strict=True))
        assert all(a is b for a, b in zip(state.holds, alone.holds, strict=True))
        assert state.item_type == alone.item_type
        assert in_force == uow.rules_in_force()
        assert uow.circulation_and_rules("no-such-book") == (None, in_force)


def test_member_circulation_and_rules_are_the_member_with_circulation_and_rules(
    new_uow: UowFactory,
) -> None:
    reader, other = member(), member()
    b = book()
    shelved = copy(b, "A-1")
    waiting = hold(b, other)
    store(new_uow, reader, other, b, shelved)
    store(new_uow, waiting)
    with new_uow() as uow:
        locked, state, in_force = uow.member_circulation_and_rules(reader.id, b.id)
        assert locked == reader
        assert uow.members.get(reader.id) is locked  # tracked: its changes are written
        assert state is not None
        assert [each.id for each in state.copies] == [shelved.id]
        assert [each.id for each in state.holds] == [waiting.id]
        alone, rules_alone = uow.circulation_and_rules(b.id)
        assert alone is not None
        assert rules_alone == in_force
        assert all(a is b for a, b in zip(state.copies, alone.copies, strict=True))
        assert all(a is b for a, b in zip(state.holds, alone.holds, strict=True))
        assert state.item_type == alone.item_type
        unknown, still, _ = uow.member_circulation_and_rules("no-such-member", b.id)
        assert unknown is None
        assert still is not None
        assert uow.member_circulation_and_rules(reader.id, "no-such-book") == (
            locked,
            None,
            in_force,
        )


def test_copy_and_open_loan_are_what_the_two_repositories_say(new_uow: UowFactory) -> None:
    reader = member()
    b = book()
    lent, returned, shelved = copy(b, "LENT-1"), copy(b, "BACK-1"), copy(b, "SHELF-1")
    open_loan, closed_loan = loan(lent, reader), loan(returned, reader)
    closed_loan.close(T0 + DAY, POLICY)
    store(new_uow, reader, b, lent, returned, shelved)
    store(new_uow, open_loan, closed_loan)
    with new_uow() as uow:
        found_copy, found_loan = uow.copy_and_open_loan("LENT-1")
        assert found_copy is uow.copies.get_by_barcode("LENT-1")  # tracked alike
        assert found_loan is uow.loans.open_for_copy(lent.id)
        assert found_loan is not None
        assert found_loan.id == open_loan.id
        assert uow.copy_and_open_loan("BACK-1") == (uow.copies.get(returned.id), None)
        assert uow.copy_and_open_loan("SHELF-1") == (uow.copies.get(shelved.id), None)
        assert uow.copy_and_open_loan("NO-SUCH-1") == (None, None)


# --- book search -----------------------------------------------------------------------------


@pytest.fixture
def library(new_uow: UowFactory) -> dict[str, Book]:
    books = {
        "dune": book("Dune", authors=("Frank Herbert",), year=1965, now=T0),
        "messiah": book("Dune Messiah", authors=("Frank Herbert",), year=1969, now=T0 + DAY),
        "foundation": book("Foundation", authors=("Isaac Asimov",), year=1951, now=T0 + 2 * DAY),
        "strasse": book("Die Straße", authors=("Anna Müller", "Bob Smith"), year=None, now=T0),
        "pure": book("100% pure_fun", authors=("Zed",), year=1965, now=T0 + 3 * DAY),
        "apple": book("apple pie", authors=("Carol Smithers",), year=None, now=T0 + 4 * DAY),
    }
    dune_copy = copy(books["dune"])
    foundation_copy = copy(books["foundation"])
    foundation_copy.mark_lost(T0)
    store(new_uow, *books.values(), dune_copy, foundation_copy)
    return books


def search(
    new_uow: UowFactory, page: PageRequest | None = None, **query: object
) -> tuple[list[str], int]:
    with new_uow() as uow:
        result = uow.books.search(BookFilter(**query), page or PageRequest(1, 100))  # type: ignore[arg-type]
        return [b.title for b in result.items], result.total


def test_each_search_word_begins_a_word_of_the_title_or_an_author(
    new_uow: UowFactory, library: dict[str, Book]
) -> None:
    assert search(new_uow, q="dune")[0] == ["Dune", "Dune Messiah"]
    assert search(new_uow, q="DUNE herbert messiah") == (["Dune Messiah"], 1)
    assert search(new_uow, q="herbert dune") == (["Dune", "Dune Messiah"], 2)  # either field
    assert search(new_uow, q="dune asimov") == ([], 0)  # every word is required
    assert search(new_uow, q="  asim  ")[0] == ["Foundation"]  # the start of a word
    assert search(new_uow, q="mess") == (["Dune Messiah"], 1)
    # Inside a word is not the start of one.
    assert search(new_uow, q="oundation") == ([], 0)
    assert search(new_uow, q="une") == ([], 0)
    assert search(new_uow, q="erbert") == ([], 0)
    # A word of one letter or digit is the start of every word beginning with it.
    assert search(new_uow, q="d")[0] == ["Die Straße", "Dune", "Dune Messiah"]
    assert search(new_uow, q="1") == (["100% pure_fun"], 1)
    # Anything but letters and digits separates words, in the title and in the query.
    assert search(new_uow, q="pure_fun") == (["100% pure_fun"], 1)
    assert search(new_uow, q="fun") == (["100% pure_fun"], 1)
    assert search(new_uow, q="e_f") == ([], 0)
    # A query without a letter or digit filters nothing, as a blank one.
    assert search(new_uow, q="%")[1] == len(library)
    assert search(new_uow, q="")[1] == len(library)


def test_search_folds_case_as_the_stored_keys_do(
    new_uow: UowFactory, library: dict[str, Book]
) -> None:
    # Case-folded, not just lower-cased: "STRASSE" finds "Straße", in any script.
    assert search(new_uow, q="STRASSE müller")[0] == ["Die Straße"]
    assert search(new_uow, q="MÜLL")[0] == ["Die Straße"]
    assert search(new_uow, author="MÜLLER") == (["Die Straße"], 1)
    # Accents are letters of their own: "muller" is not "müller".
    assert search(new_uow, q="muller") == ([], 0)


def test_search_by_author_matches_a_phrase_within_one_author(
    new_uow: UowFactory, library: dict[str, Book]
) -> None:
    assert search(new_uow, author="HERB")[0] == ["Dune", "Dune Messiah"]
    assert search(new_uow, author="smith")[0] == ["apple pie", "Die Straße"]
    assert search(new_uow, author="frank herbert")[0] == ["Dune", "Dune Messiah"]
    assert search(new_uow, author="Frank  Herb")[0] == ["Dune", "Dune Messiah"]
    assert search(new_uow, author="anna mü") == (["Die Straße"], 1)
    assert search(new_uow, author="müller") == (["Die Straße"], 1)  # from any word on
    # The words in the name's order, one after the other, each whole but the last.
    assert search(new_uow, author="herbert frank") == ([], 0)
    assert search(new_uow, author="fr herbert") == ([], 0)
    assert search(new_uow, author="erbert") == ([], 0)
    assert search(new_uow, author="müller bob") == ([], 0)  # never across two authors
    assert search(new_uow, author="dune") == ([], 0)  # a title word is not an author
    assert search(new_uow, author="%") == ([], 0)  # no word names no one
    assert search(new_uow, q="dune", author="frank") == (["Dune", "Dune Messiah"], 2)
    assert search(new_uow, q="messiah", author="frank") == (["Dune Messiah"], 1)


def test_a_prefix_lists_each_book_once_in_title_order(new_uow: UowFactory) -> None:
    titles = ["Alpha 3", "The Alphabet", "Alphas and Alphabets", "Alpine", "Beta Alpha", "Alp"]
    store(new_uow, *(book(title) for title in titles))
    expected = sorted(
        (t for t in titles if any(w.startswith("alph") for w in t.casefold().split())),
        key=str.casefold,
    )
    assert search(new_uow, q="alph") == (expected, len(expected))
    query = BookFilter(q="ALPH")
    assert [b.title for p in walk_by_cursor(new_uow, query, 2) for b in p.items] == expected
    backwards = BookFilter(q="alph", sort=BookSort.TITLE_DESC)
    pages = walk_by_cursor(new_uow, backwards, 2)
    assert [b.title for p in pages for b in p.items] == expected[::-1]
    by_number = [search_page(new_uow, query, PageRequest(n, 2)) for n in (1, 2, 3)]
    assert [b.title for p in by_number for b in p.items] == expected
    assert [(p.total, p.total_exact) for p in by_number] == [(len(expected), True)] * 3


def test_a_prefix_of_many_words_is_found_in_title_order(new_uow: UowFactory) -> None:
    # More distinct words begin with "w" than a search merges in order: found another way,
    # with the same answer.
    titles = [f"W{n:02d} tale" for n in range(40)] + ["Other"]
    store(new_uow, *(book(title) for title in reversed(titles)))
    found = search_page(new_uow, BookFilter(q="w"), PageRequest(2, 10))
    assert [b.title for b in found.items] == titles[10:20]
    assert (found.total, found.total_exact) == (40, True)
    assert search(new_uow, q="w tale")[1] == 40
    assert search(new_uow, q="w other") == ([], 0)


def test_search_follows_changes_to_titles_and_authors(new_uow: UowFactory) -> None:
    renamed, removed = book("Old Name", authors=("First Writer",)), book("Gone Away")
    store(new_uow, renamed, removed)
    with new_uow() as uow:
        found = uow.books.get(renamed.id)
        assert found is not None
        found.revise(now=T0 + DAY, title="New Name", authors=["Second Writer"])
        gone = uow.books.get(removed.id)
        assert gone is not None
        uow.books.remove(gone)
        uow.commit()
    assert search(new_uow, q="new name") == (["New Name"], 1)
    assert search(new_uow, q="old") == ([], 0)
    assert search(new_uow, author="first") == ([], 0)
    assert search(new_uow, author="second writer") == (["New Name"], 1)
    assert search(new_uow, q="gone") == ([], 0)
    with new_uow() as uow:  # a change to other fields keeps the words
        found = uow.books.get(renamed.id)
        assert found is not None
        found.revise(now=T0 + 2 * DAY, year=1999)
        uow.commit()
    assert search(new_uow, q="new", author="second") == (["New Name"], 1)


def test_search_by_isbn_and_availability(new_uow: UowFactory, library: dict[str, Book]) -> None:
    assert search(new_uow, isbn=library["messiah"].isbn) == (["Dune Messiah"], 1)
    assert search(new_uow, isbn="9780000000002") == ([], 0)
    assert search(new_uow, available=True) == (["Dune"], 1)
    unavailable, total = search(new_uow, available=False)
    assert total == len(library) - 1
    assert "Dune" not in unavailable
    assert "Foundation" in unavailable  # its only copy is lost
    assert search(new_uow, q="dune", available=False) == (["Dune Messiah"], 1)


def test_availability_follows_every_change_to_copies(new_uow: UowFactory) -> None:
    """A book is available while one of its copies is on the shelf, whatever moved the copies
    there or away: lending and returning, the hold shelf, loss, withdrawal, new copies, removed
    copies and books, several changes in one unit of work, and none in one rolled back; and
    revising the book changes nothing."""
    first, second, third = book("First"), book("Second"), book("Third")
    one, two, other = copy(first), copy(first), copy(second)
    reader = member()
    store(new_uow, first, second, third, one, two, other, reader)

    def shelves() -> tuple[list[str], list[str]]:
        (available, n_available), (unavailable, n_unavailable) = (
            search(new_uow, available=True),
            search(new_uow, available=False),
        )
        assert (n_available, n_unavailable) == (len(available), len(unavailable))
        return available, unavailable

    def change(copy_id: str, move: str) -> None:
        with new_uow() as uow:
            stored = uow.copies.get(copy_id)
            assert stored is not None
            getattr(stored, move)(T0 + DAY)
            uow.commit()

    assert shelves() == (["First", "Second"], ["Third"])

    # Revising a book leaves its copies where they are.
    with new_uow() as uow:
        revised = uow.books.get(first.id)
        assert revised is not None
        revised.revise(now=T0 + DAY, year=1999)
        uow.commit()
    assert shelves() == (["First", "Second"], ["Third"])

    # Borrowed: one of two copies, then the other; returned.
    with new_uow() as uow:
        stored = uow.copies.get(one.id)
        assert stored is not None
        stored.lend(T0)
        lent = loan(stored, reader)
        uow.loans.add(lent)
        uow.commit()
    assert shelves() == (["First", "Second"], ["Third"])
    change(two.id, "lend")
    assert shelves() == (["Second"], ["First", "Third"])
    with new_uow() as uow:
        stored, open_loan = uow.copies.get(one.id), uow.loans.get(lent.id)
        assert stored is not None
        assert open_loan is not None
        stored.take_back(T0 + DAY)
        open_loan.close(T0 + DAY, POLICY)
        uow.commit()
    assert shelves() == (["First", "Second"], ["Third"])

    # Set aside for a hold, released; lost, found; withdrawn.
    change(one.id, "set_aside")
    assert shelves() == (["Second"], ["First", "Third"])
    change(one.id, "release")
    change(other.id, "mark_lost")
    assert shelves() == (["First"], ["Second", "Third"])
    change(other.id, "mark_found")
    assert shelves() == (["First", "Second"], ["Third"])
    change(other.id, "withdraw")
    assert shelves() == (["First"], ["Second", "Third"])

    # Not committed: nothing changes.
    with new_uow() as uow:
        stored = uow.copies.get(one.id)
        assert stored is not None
        stored.mark_lost(T0 + DAY)
    assert shelves() == (["First"], ["Second", "Third"])

    # Several changes in one commit: one copy lost, another returned, two new copies.
    with new_uow() as uow:
        lost, returned = uow.copies.get(one.id), uow.copies.get(two.id)
        assert lost is not None
        assert returned is not None
        lost.mark_lost(T0 + DAY)
        returned.take_back(T0 + DAY)
        uow.copies.add(copy(third))
        uow.copies.add(copy(third))
        uow.commit()
    assert shelves() == (["First", "Third"], ["Second"])

    # A copy removed, then a book removed with its copies.
    with new_uow() as uow:
        stored = uow.copies.get(two.id)
        assert stored is not None
        uow.copies.remove(stored)
        uow.commit()
    assert shelves() == (["Third"], ["First", "Second"])
    with new_uow() as uow:
        doomed = uow.books.get(third.id)
        assert doomed is not None
        for stored in uow.copies.for_book(third.id):
            uow.copies.remove(stored)
        uow.books.remove(doomed)
        uow.commit()
    assert shelves() == ([], ["First", "Second"])


def test_search_sorts(new_uow: UowFactory, library: dict[str, Book]) -> None:
    books = list(library.values())

    def ids_sorted(sort: BookSort) -> list[str]:
        with new_uow() as uow:
            return [
                b.id for b in uow.books.search(BookFilter(sort=sort), PageRequest(1, 100)).items
            ]

    # Titles compare case-insensitively; "apple pie" sorts with the a's, not after "Z".
    assert search(new_uow)[0] == [
        "100% pure_fun",
        "apple pie",
        "Die Straße",
        "Dune",
        "Dune Messiah",
        "Foundation",
    ]
    assert search(new_uow, sort=BookSort.TITLE_DESC)[0] == [
        "Foundation",
        "Dune Messiah",
        "Dune",
        "Die Straße",
        "apple pie",
        "100% pure_fun",
    ]
    # Years: equal years by id; books without a year last in both directions.
    with_year = sorted((b for b in books if b.year is not None), key=lambda b: (b.year, b.id))
    without = sorted((b for b in books if b.year is None), key=lambda b: b.id)
    assert ids_sorted(BookSort.YEAR) == [b.id for b in with_year] + [b.id for b in without]
    assert ids_sorted(BookSort.YEAR_DESC) == [b.id for b in reversed(with_year)] + [
        b.id for b in reversed(without)
    ]
    by_created = sorted(books, key=lambda b: (b.created_at, b.id))
    assert ids_sorted(BookSort.CREATED) == [b.id for b in by_created]
    assert ids_sorted(BookSort.CREATED_DESC) == [b.id for b in reversed(by_created)]


def test_search_pages_and_counts(new_uow: UowFactory, library: dict[str, Book]) -> None:
    everything, _ = search(new_uow)
    assert search(new_uow, PageRequest(1, 4)) == (everything[:4], 6)
    assert search(new_uow, PageRequest(2, 4)) == (everything[4:], 6)
    assert search(new_uow, PageRequest(3, 4)) == ([], 6)
    assert search(new_uow, PageRequest(2, 1), q="dune") == (["Dune Messiah"], 2)


def search_page(new_uow: UowFactory, query: BookFilter, page: PageRequest) -> Page[Book]:
    with new_uow() as uow:
        return uow.books.search(query, page)


def walk_by_cursor(new_uow: UowFactory, query: BookFilter, per_page: int) -> list[Page[Book]]:
    """Every page of ``query``: the first by number, each next one from the cursor after the
    page before."""
    pages = [search_page(new_uow, query, PageRequest(1, per_page))]
    while (cursor := query.sort.cursor_after(pages[-1])) is not None:
        pages.append(search_page(new_uow, query, PageRequest.starting_at(cursor, per_page)))
        assert len(pages) < 10, "the walk does not end"
    return pages


@pytest.mark.parametrize("sort", list(BookSort))
@pytest.mark.parametrize("per_page", [1, 2, 4])
def test_cursor_pages_walk_the_list_in_order(
    new_uow: UowFactory, library: dict[str, Book], sort: BookSort, per_page: int
) -> None:
    # Every sort order, ties (two books of 1965) and books without a year included.
    query = BookFilter(sort=sort)
    everything = search_page(new_uow, query, PageRequest(1, 100)).items
    pages = walk_by_cursor(new_uow, query, per_page)
    assert [b.id for p in pages for b in p.items] == [b.id for b in everything]
    assert [p.page for p in pages] == list(range(1, len(pages) + 1))
    assert all(len(p.items) == per_page for p in pages[:-1])
    # A page reached by cursor counts from the cursor: the place it says, plus what follows.
    for number, later in enumerate(pages[1:], start=2):
        assert not later.total_exact
        assert later.total == len(everything)
        assert later.has_next == (number < len(pages))


def test_cursor_pages_follow_the_filters(new_uow: UowFactory, library: dict[str, Book]) -> None:
    query = BookFilter(q="d", sort=BookSort.YEAR_DESC)
    everything = search_page(new_uow, query, PageRequest(1, 100)).items
    assert len(everything) > 2
    pages = walk_by_cursor(new_uow, query, 2)
    assert [b.id for p in pages for b in p.items] == [b.id for b in everything]


def test_a_cursor_keeps_its_place_when_books_come_before_it(
    new_uow: UowFactory, library: dict[str, Book]
) -> None:
    query = BookFilter(sort=BookSort.TITLE)
    first = search_page(new_uow, query, PageRequest(1, 2))
    cursor = query.sort.cursor_after(first)
    assert cursor is not None
    store(new_uow, book("0 before everything", now=T0))
    # By number, page 2 would now repeat the last book of page 1; the cursor does not.
    following = search_page(new_uow, query, PageRequest.starting_at(cursor, 2))
    assert [b.title for b in following.items] == ["Die Straße", "Dune"]


def test_a_cursor_of_another_sort_order_is_refused(
    new_uow: UowFactory, library: dict[str, Book]
) -> None:
    first = search_page(new_uow, BookFilter(sort=BookSort.TITLE), PageRequest(1, 2))
    cursor = BookSort.TITLE.cursor_after(first)
    assert cursor is not None
    with pytest.raises(InvalidValue) as refused:
        search_page(new_uow, BookFilter(sort=BookSort.YEAR), PageRequest.starting_at(cursor, 2))
    assert refused.value.field == "after"


# --- member, loan and hold lists -------------------------------------------------------------


def test_member_list_filters_sorts_and_pages(new_uow: UowFactory) -> None:
    ann = member("Ann Ärger", email="ann@example.org", now=T0 + DAY)
    bob = member("Bob Builder", email="bob@builders.example", now=T0)
    cat = member("Cat Näger", email="cat@example.org", role=Role.LIBRARIAN, now=T0 + DAY)
    dan = member("Dan", email="dan@example.org", role=Role.ADMIN, now=T0 + 2 * DAY)
    dan.suspend(T0 + 3 * DAY)
    store(new_uow, ann, bob, cat, dan)
    everyone = [bob.id, *sorted([ann.id, cat.id]), dan.id]

    def listed(page: PageRequest | None = None, **query: object) -> tuple[list[str], int]:
        with new_uow() as uow:
            result = uow.members.list(MemberFilter(**query), page or PageRequest(1, 100))  # type: ignore[arg-type]
            return [m.id for m in result.items], result.total

    assert listed() == (everyone, 4)
    assert listed(q="ÄRGER") == ([ann.id], 1)
    assert listed(q="builders.ex") == ([bob.id], 1)
    assert listed(q="example.org")[1] == 3
    assert listed(q="%") == ([], 0)
    assert listed(role=Role.LIBRARIAN) == ([cat.id], 1)
    assert listed(status=MemberStatus.SUSPENDED) == ([dan.id], 1)
    assert listed(status=MemberStatus.ACTIVE, role=Role.MEMBER) == ([bob.id, ann.id], 2)
    assert listed(PageRequest(2, 3)) == ([dan.id], 4)


def test_loan_list_by_state_member_and_book(new_uow: UowFactory) -> None:
    b, other_book = book(), book()
    c1, c2, c3 = copy(b), copy(b), copy(other_book)
    reader, other = member(), member()
    overdue = loan(c1, reader, now=T0 - 30 * DAY)  # due T0 - 9 days
    current = loan(c2, reader, now=T0)
    returned = loan(c3, reader, now=T0 - 60 * DAY)
    returned.close(T0 - 50 * DAY, POLICY)
    theirs = loan(c3, other, now=T0 - DAY)
    store(new_uow, b, other_book, c1, c2, c3, reader, other)
    store(new_uow, overdue, current, returned, theirs)
    now = T0

    def listed(page: PageRequest | None = None, **query: object) -> tuple[list[str], int]:
        with new_uow() as uow:
            result = uow.loans.list(LoanFilter(**query), page or PageRequest(1, 100), now)  # type: ignore[arg-type]
            return [loan.id for loan in result.items], result.total

    # Newest first.
    assert listed() == ([current.id, theirs.id, overdue.id, returned.id], 4)
    assert listed(state=LoanState.OPEN) == ([current.id, theirs.id, overdue.id], 3)
    assert listed(state=LoanState.OVERDUE) == ([overdue.id], 1)
    assert listed(state=LoanState.RETURNED) == ([returned.id], 1)
    assert listed(member_id=reader.id) == ([current.id, overdue.id, returned.id], 3)
    assert listed(book_id=other_book.id) == ([theirs.id, returned.id], 2)
    assert listed(copy_id=c3.id) == ([theirs.id, returned.id], 2)
    assert listed(copy_id=c3.id, state=LoanState.OPEN) == ([theirs.id], 1)
    assert listed(member_id=reader.id, state=LoanState.OPEN) == ([current.id, overdue.id], 2)
    assert listed(PageRequest(2, 3)) == ([returned.id], 4)
    # Overdue means strictly past the due instant.
    overdue_only = LoanFilter(state=LoanState.OVERDUE)
    with new_uow() as uow:
        at_due = uow.loans.list(overdue_only, PageRequest(), theirs.due_at)
        assert [loan.id for loan in at_due.items] == [overdue.id]
        just_after = theirs.due_at + timedelta(microseconds=1)
        after_due = uow.loans.list(overdue_only, PageRequest(), just_after)
        assert [loan.id for loan in after_due.items] == [theirs.id, overdue.id]


def test_hold_list_filters_in_queue_order(new_uow: UowFactory) -> None:
    b, other_book = book(), book()
    m1, m2 = member(), member()
    second = hold(b, m2, now=T0 + DAY)
    first = hold(b, m1, now=T0)
    elsewhere = hold(other_book, m1, now=T0 + 2 * DAY)
    cancelled = hold(other_book, m2, now=T0 - DAY)
    cancelled.cancel(T0)
    store(new_uow, b, other_book, m1, m2)
    store(new_uow, second, first, elsewhere, cancelled)

    def listed(page: PageRequest | None = None, **query: object) -> tuple[list[str], int]:
        with new_uow() as uow:
            result = uow.holds.list(HoldFilter(**query), page or PageRequest(1, 100))  # type: ignore[arg-type]
            return [h.id for h in result.items], result.total

    assert listed() == ([cancelled.id, first.id, second.id, elsewhere.id], 4)
    assert listed(member_id=m1.id) == ([first.id, elsewhere.id], 2)
    assert listed(book_id=b.id) == ([first.id, second.id], 2)
    assert listed(status=HoldStatus.CANCELLED) == ([cancelled.id], 1)
    assert listed(status=HoldStatus.WAITING, member_id=m2.id) == ([second.id], 1)
    assert listed(PageRequest(2, 3)) == ([elsewhere.id], 4)


def test_member_list_pages_by_cursor(new_uow: UowFactory) -> None:
    # Three registered at one instant: the id breaks the tie, by cursor as by number.
    same_time = [member(now=T0 + DAY) for _ in range(3)]
    earlier, later = member(now=T0), member(now=T0 + 2 * DAY)
    store(new_uow, *same_time, later, earlier)
    expected = [earlier.id, *sorted(m.id for m in same_time), later.id]

    def listed(page: PageRequest) -> Page[Member]:
        with new_uow() as uow:
            return uow.members.list(MemberFilter(), page)

    assert_walks_the_list(listed, expected)
    first = listed(PageRequest(1, 2))
    assert first.next_cursor is not None
    # Someone registered before the cursor's place does not shift the next page.
    store(new_uow, member(now=T0 - DAY))
    assert [m.id for m in listed(PageRequest.starting_at(first.next_cursor, 2)).items] == (
        expected[2:4]
    )


def test_loan_and_hold_lists_page_by_cursor(new_uow: UowFactory) -> None:
    b = book()
    copies = [copy(b) for _ in range(4)]
    reader = member()
    loans = [loan(c, reader, now=T0 + n * DAY) for n, c in enumerate(copies)]
    loans[0].close(T0 + DAY, POLICY)
    loans.append(loan(copies[0], reader, now=T0 + 3 * DAY))  # a tie with the newest
    waiting = [member() for _ in range(5)]
    holds = [hold(b, m, now=T0 + (n % 2) * DAY) for n, m in enumerate(waiting)]  # ties too
    store(new_uow, b, *copies, reader, *waiting)
    store(new_uow, *loans, *holds)

    def loans_listed(page: PageRequest) -> Page[Loan]:
        with new_uow() as uow:
            return uow.loans.list(LoanFilter(book_id=b.id), page, T0)

    def holds_listed(page: PageRequest) -> Page[Hold]:
        with new_uow() as uow:
            return uow.holds.list(HoldFilter(book_id=b.id), page)

    newest_first = sorted(loans, key=lambda x: (x.loaned_at, x.id), reverse=True)
    assert_walks_the_list(loans_listed, [x.id for x in newest_first])
    assert_walks_the_list(holds_listed, [h.id for h in sorted(holds, key=lambda h: h.queue_key)])


def test_a_cursor_of_another_list_is_refused(new_uow: UowFactory) -> None:
    b, reader = book(), member()
    store(new_uow, b, reader, member(), member())
    with new_uow() as uow:
        members = uow.members.list(MemberFilter(), PageRequest(1, 1))
    assert members.next_cursor is not None
    elsewhere = PageRequest.starting_at(members.next_cursor, 1)
    other_lists: list[Callable[[UnitOfWork], object]] = [
        lambda uow: uow.loans.list(LoanFilter(), elsewhere, T0),
        lambda uow: uow.holds.list(HoldFilter(), elsewhere),
        lambda uow: uow.books.search(BookFilter(), elsewhere),
    ]
    for other_list in other_lists:
        with new_uow() as uow, pytest.raises(InvalidValue) as refused:
            other_list(uow)
        assert refused.value.field == "after"


# --- bulk reads (imports, exports, reports) ----------------------------------------------------


def test_existing_isbns_and_barcodes_answer_for_many_keys_at_once(new_uow: UowFactory) -> None:
    stored = [book() for _ in range(3)]
    copies = [copy(stored[0], "BULK-1"), copy(stored[1], "BULK-2")]
    store(new_uow, *stored, *copies)
    absent = book()  # never stored
    # More keys than one IN list takes, so chunking is exercised too.
    many = [f"97911111{n:05d}" for n in range(2000)]

    with new_uow() as uow:
        asked = [stored[0].isbn, stored[2].isbn, absent.isbn, *many]
        assert uow.books.existing_isbns(asked) == {stored[0].isbn, stored[2].isbn}
        assert uow.books.existing_isbns([]) == set()
        assert uow.copies.existing_barcodes(["BULK-2", "bulk-1", "NOPE", *many]) == {"BULK-2"}
        assert uow.copies.existing_barcodes([]) == set()


def test_books_after_an_id_walk_the_catalogue_in_id_order(new_uow: UowFactory) -> None:
    books = [book() for _ in range(5)]
    store(new_uow, *reversed(books))  # storage order must not matter

    with new_uow() as uow:
        first = uow.books.after(None, 2)
        second = uow.books.after(first[-1].id, 2)
        third = uow.books.after(second[-1].id, 2)
        assert uow.books.after(third[-1].id, 2) == []
    assert ids_of([*first, *second, *third]) == sorted(ids_of(books))
    assert [len(first), len(second), len(third)] == [2, 2, 1]


def test_circulating_counts_leave_out_lost_and_withdrawn_copies(new_uow: UowFactory) -> None:
    shelved, sparse, bare, unasked = book(), book(), book(), book()
    lost, withdrawn, on_loan = copy(sparse), copy(sparse), copy(sparse)
    lost.mark_lost(T0)
    withdrawn.withdraw(T0)
    on_loan.lend(T0)
    store(new_uow, shelved, sparse, bare, unasked, copy(shelved), copy(shelved), copy(unasked))
    store(new_uow, lost, withdrawn, on_loan)

    with new_uow() as uow:
        counts = uow.copies.circulating_counts([shelved.id, sparse.id, bare.id, "nope"])
        assert counts == {shelved.id: 2, sparse.id: 1}
        assert uow.copies.circulating_counts([]) == {}


def test_overdue_loans_across_members_earliest_due_first(new_uow: UowFactory) -> None:
    b = book()
    c1, c2, c3, c4 = copy(b), copy(b), copy(b), copy(b)
    reader, other = member(), member()
    late = loan(c1, reader, now=T0)
    later = loan(c2, other, now=T0 + DAY)
    on_time = loan(c3, reader, now=T0 + 10 * DAY)
    returned = loan(c4, other, now=T0)
    returned.close(T0 + 2 * DAY, POLICY)
    store(new_uow, b, c1, c2, c3, c4, reader, other)
    store(new_uow, on_time, later, returned, late)

    now = later.due_at + timedelta(microseconds=1)
    with new_uow() as uow:
        assert ids_of(uow.loans.overdue(now)) == [late.id, later.id]
        assert uow.loans.overdue(late.due_at) == []  # due exactly now is not overdue yet


def test_balances_per_member_leave_out_settled_accounts(new_uow: UowFactory) -> None:
    owing, settled, clean = member(), member(), member()
    store(new_uow, owing, settled, clean)
    store(
        new_uow,
        fine(owing, 500),
        payment(owing, 125),
        fine(settled, 300),
        payment(settled, 300),
    )
    with new_uow() as uow:
        assert uow.ledger.balances() == {owing.id: 375}


def test_waiting_holds_past_their_not_needed_after_date(new_uow: UowFactory) -> None:
    b, m1, m2, m3 = book(), member(), member(), member()
    lapsed = hold(b, m1)
    lapsed.not_needed_after = T0.date()
    still_wanted = hold(b, m2)
    still_wanted.not_needed_after = T0.date() + DAY
    no_date = hold(b, m3)
    store(new_uow, b, m1, m2, m3)
    store(new_uow, lapsed, still_wanted, no_date)
    with new_uow() as uow:
        assert ids_of(uow.holds.waiting_not_needed(T0.date() + DAY)) == [lapsed.id]
        stored = uow.holds.get(lapsed.id)
        assert stored is not None
        assert (stored.not_needed_after, stored.suspended) == (T0.date(), False)
        stored.suspend()
        uow.commit()
    with new_uow() as uow:
        again = uow.holds.get(lapsed.id)
        assert again is not None
        assert again.suspended
