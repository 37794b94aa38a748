"""The desk: card numbers, lending by card and barcode, and check-in that says where next."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest

from adapters.memory import MemoryUnitOfWork
from application.desk import Destination
from application.members import MemberChanges, MemberRecord, Membership
from application.queries import LoanFilter, MemberFilter, PageRequest
from domain.cards import CardNumberFormat
from domain.catalogue import CopyStatus
from domain.errors import (
    CardNumbersExhausted,
    CardNumberTaken,
    CopyNotFound,
    InvalidValue,
    MemberNotFound,
    NoOpenLoan,
)
from domain.holds import HoldStatus
from domain.loans import LoanState
from tests.unit.support import App, FakeHasher


def scripted_membership(app: App, serials: list[int], fmt: CardNumberFormat) -> Membership:
    """A ``Membership`` whose draws are ``serials``, in order (then 999999 forever)."""
    draws = itertools.chain(serials, itertools.repeat(999_999))
    return Membership(
        lambda: MemoryUnitOfWork(app.db, app.publisher),
        app.clock,
        app.ids,
        app.policy,
        FakeHasher(),
        card_numbers=fmt,
        draw=lambda _below: next(draws),
    )


class TestCardNumbers:
    def test_a_new_member_gets_a_card_in_the_format(self, app: App) -> None:
        fmt = CardNumberFormat(prefix="LIB", digits=6)
        membership = scripted_membership(app, [42], fmt)

        ada = membership.register(email="ada@example.org", name="Ada")

        assert ada.card_number == fmt.number(42) == "LIB0000422"
        assert membership.get_by_card_number("lib-000042 2").id == ada.id

    def test_a_drawn_number_that_is_taken_is_drawn_again(self, app: App) -> None:
        fmt = CardNumberFormat(prefix="", digits=6)
        membership = scripted_membership(app, [7, 7, 8], fmt)

        first = membership.register(email="a@example.org", name="A")
        second = membership.register(email="b@example.org", name="B")

        assert (first.card_number, second.card_number) == (fmt.number(7), fmt.number(8))

    def test_a_full_format_is_refused_with_its_own_code(self, app: App) -> None:
        fmt = CardNumberFormat(prefix="", digits=6)
        membership = scripted_membership(app, [5], fmt)  # then 999999 forever
        membership.register(email="a@example.org", name="A")
        membership.register(email="b@example.org", name="B")  # 999999: free once
        before = app.snapshot()

        with pytest.raises(CardNumbersExhausted) as refused:
            membership.register(email="c@example.org", name="C")

        assert refused.value.details == {"format": "{6}"}
        assert app.snapshot() == before

    def test_a_given_card_number_is_kept_as_printed_and_must_be_free(self, app: App) -> None:
        ada = app.membership.register(email="ada@example.org", name="Ada", card_number="x 1234-5")
        before = app.snapshot()

        with pytest.raises(CardNumberTaken) as taken:
            app.membership.register(email="bob@example.org", name="Bob", card_number="X12345")
        with pytest.raises(InvalidValue):
            app.membership.register(email="bob@example.org", name="Bob", card_number="X 1")

        assert ada.card_number == "X12345"
        assert taken.value.details == {"card_number": "X12345"}
        assert app.snapshot() == before

    def test_staff_give_a_member_a_new_card(self, app: App) -> None:
        ada, grace = app.add_member(), app.add_member()

        renewed = app.membership.update(ada.id, MemberChanges(card_number="NEW-0001"))
        with pytest.raises(CardNumberTaken):
            app.membership.update(grace.id, MemberChanges(card_number="new0001"))

        assert renewed.card_number == "NEW0001"
        assert renewed.version == ada.version + 1
        assert app.membership.get(grace.id).card_number == grace.card_number
        with pytest.raises(MemberNotFound):
            app.membership.get_by_card_number(ada.card_number)

    def test_members_are_searched_by_card_number_in_any_spelling(self, app: App) -> None:
        app.add_member()
        grace = app.membership.register(email="g@example.org", name="G", card_number="G-00042")

        page = app.membership.list(MemberFilter(card_number=" g 00042 "), PageRequest())

        assert [m.id for m in page.items] == [grace.id]

    def test_imported_members_get_distinct_free_cards(self, app: App) -> None:
        fmt = CardNumberFormat(prefix="", digits=6)
        stored = scripted_membership(app, [1], fmt).register(email="s@example.org", name="S")
        # Both draws of the batch clash: the first with a stored card, the second with the first.
        membership = scripted_membership(app, [1, 2, 2, 3], fmt)

        report = membership.import_members(
            [
                MemberRecord(line=2, email="a@example.org", name="A"),
                MemberRecord(line=3, email="b@example.org", name="B"),
            ]
        )

        cards = sorted(m.card_number for m in app.members())
        assert report.added == 2
        assert stored.card_number == fmt.number(1)
        assert len(set(cards)) == 3

    def test_imported_card_numbers_are_kept_as_printed_or_refused(self, app: App) -> None:
        held = app.membership.register(email="held@example.org", name="H", card_number="P-0001")
        fmt = CardNumberFormat(prefix="", digits=6)
        membership = scripted_membership(app, [1, 2], fmt)

        report = membership.import_members(
            [
                MemberRecord(line=2, email="a@example.org", name="A", card_number="p 0002"),
                MemberRecord(line=3, email="b@example.org", name="B", card_number="P0002"),
                MemberRecord(line=4, email="c@example.org", name="C", card_number="P-0001"),
                MemberRecord(line=6, email="d@example.org", name="D"),
            ]
        )

        assert (report.added, report.already_present) == (2, 0)
        assert [(r.line, r.code) for r in report.rejected] == [
            (3, "CARD_NUMBER_TAKEN"),
            (4, "CARD_NUMBER_TAKEN"),
        ]
        assert app.membership.get_by_card_number("P0002").email == "a@example.org"
        assert app.membership.get_by_card_number("P0001").id == held.id
        assert app.membership.find_by_email("d@example.org").card_number == fmt.number(1)  # type: ignore[union-attr]

    def test_importing_the_same_file_again_adds_nobody(self, app: App) -> None:
        records = [MemberRecord(line=2, email="a@example.org", name="A", card_number="P0002")]
        app.membership.import_members(records)

        again = app.membership.import_members(records)

        assert (again.added, again.already_present, again.rejected) == (0, 1, [])


class TestLendingAtTheDesk:
    def test_borrow_by_card_and_barcode(self, app: App) -> None:
        book = app.add_book(copies=2)
        ada = app.add_member()

        loan = app.circulation.borrow(
            card_number=f" {ada.card_number.lower()} ", barcode=book.copies[1].barcode
        )

        assert (loan.member_id, loan.copy_id) == (ada.id, book.copies[1].id)

    def test_exactly_one_member_and_one_copy_reference(self, app: App) -> None:
        book = app.add_book()
        ada = app.add_member()
        before = app.snapshot()

        attempts: list[Callable[[], object]] = [
            lambda: app.circulation.borrow(barcode=book.copies[0].barcode),
            lambda: app.circulation.borrow(
                ada.id, card_number=ada.card_number, barcode=book.copies[0].barcode
            ),
            lambda: app.circulation.borrow(ada.id),
            lambda: app.circulation.borrow(
                ada.id, book_id=book.book.id, barcode=book.copies[0].barcode
            ),
        ]
        for attempt in attempts:
            with pytest.raises(InvalidValue):
                attempt()
        with pytest.raises(MemberNotFound):
            app.circulation.borrow(card_number="NOSUCHCARD", barcode=book.copies[0].barcode)
        with pytest.raises(CopyNotFound):
            app.circulation.borrow(ada.id, barcode="NO-SUCH-COPY")

        assert app.snapshot() == before

    def test_loans_are_listed_by_barcode_or_copy_id(self, app: App) -> None:
        book = app.add_book(copies=2)
        loan = app.circulation.borrow(app.add_member().id, copy_id=book.copies[0].id)
        app.circulation.borrow(app.add_member().id, copy_id=book.copies[1].id)

        by_barcode = app.circulation.list_loans(
            LoanFilter(barcode=book.copies[0].barcode), PageRequest()
        )
        by_id = app.circulation.list_loans(LoanFilter(copy_id=book.copies[0].id), PageRequest())

        found = [v.loan.id for v in by_barcode.items], [v.loan.id for v in by_id.items]
        assert found == ([loan.id], [loan.id])
        with pytest.raises(InvalidValue):
            app.circulation.list_loans(
                LoanFilter(copy_id=book.copies[1].id, barcode=book.copies[0].barcode),
                PageRequest(),
            )

    def test_a_scanned_copy_shows_its_book_and_open_loan(self, app: App) -> None:
        book = app.add_book(copies=2, title="Scanned")
        loan = app.circulation.borrow(app.add_member().id, copy_id=book.copies[0].id)

        lent = app.circulation.copy_at_desk(book.copies[0].barcode)
        shelved = app.circulation.copy_at_desk(f" {book.copies[1].barcode}")

        assert (lent.book.title, lent.copy.status, lent.loan) == (
            "Scanned",
            CopyStatus.ON_LOAN,
            app.loan(loan.id),
        )
        assert (shelved.copy.status, shelved.loan) == (CopyStatus.AVAILABLE, None)


class TestCheckIn:
    def test_nobody_waits_the_copy_goes_back_on_the_shelf(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        app.advance(timedelta(days=23))  # two days late

        check_in = app.circulation.return_copy(book.copies[0].barcode)

        assert check_in.loan.id == loan.id
        assert check_in.view.fine_cents == 50
        assert check_in.view.state is LoanState.RETURNED
        assert check_in.destination is Destination.SHELF
        assert check_in.slip is None
        assert app.copy(book.copies[0].id).status is CopyStatus.AVAILABLE

    def test_a_copy_someone_waits_for_goes_to_the_hold_shelf_for_them(self, app: App) -> None:
        book = app.add_book()
        app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        grace = app.add_member(name="Grace Hopper")
        hold = app.circulation.place_hold(grace.id, book.book.id).hold

        check_in = app.circulation.return_copy(book.copies[0].barcode)

        assert check_in.destination is Destination.HOLD_SHELF
        assert check_in.slip is not None
        assert check_in.slip.member.name == "Grace Hopper"
        assert check_in.slip.member.card_number == grace.card_number
        assert check_in.slip.hold.id == hold.id
        assert check_in.slip.hold.status is HoldStatus.READY
        assert check_in.slip.hold.pickup_by == app.now() + app.policy.pickup_window
        assert app.hold(hold.id).copy_id == book.copies[0].id

    def test_check_in_by_loan_id_says_where_next_too(self, app: App) -> None:
        book = app.add_book()
        loan = app.circulation.borrow(app.add_member().id, book_id=book.book.id)
        app.circulation.place_hold(app.add_member().id, book.book.id)

        check_in = app.circulation.check_in_loan(loan.id)

        assert check_in.destination is Destination.HOLD_SHELF

    @pytest.mark.parametrize("status", ["available", "lost"])
    def test_a_copy_on_no_loan_is_refused_and_nothing_changes(self, app: App, status: str) -> None:
        book = app.add_book()
        if status == "lost":
            app.catalogue.mark_copy_lost(book.copies[0].id)
        before = app.snapshot()

        with pytest.raises(NoOpenLoan) as refused:
            app.circulation.return_copy(book.copies[0].barcode)

        assert refused.value.code == "NO_OPEN_LOAN"
        assert refused.value.details["status"] == status
        assert refused.value.details["barcode"] == book.copies[0].barcode
        assert app.snapshot() == before
