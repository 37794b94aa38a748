"""The Membership use cases: registering, changing, listing and removing members."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.members import MemberChanges, MemberRecord
from application.queries import MemberFilter, PageRequest
from domain.catalogue import CopyStatus
from domain.errors import (
    EmailAlreadyRegistered,
    InvalidValue,
    MemberHasDebt,
    MemberHasOpenLoans,
    MemberNotFound,
    VersionMismatch,
)
from domain.events import HoldReady
from domain.holds import HoldStatus
from domain.members import MemberStatus, Role
from tests.unit.support import DAY, HOUR, App

GOOD_PASSWORD = "correct horse battery"


class TestRegister:
    def test_register_with_defaults(self, app: App) -> None:
        member = app.membership.register(email=" Ada@Example.org ", name="Ada")
        assert member.email == "ada@example.org"
        assert member.role is Role.MEMBER
        assert member.status is MemberStatus.ACTIVE
        assert member.membership_expires_at == app.now() + app.policy.membership_period
        assert member.password_hash is None
        assert app.membership.get(member.id) == member
        assert app.hasher.calls == 0

    def test_register_with_role_password_and_expiry(self, app: App) -> None:
        expiry = app.now() + 30 * DAY
        member = app.membership.register(
            email="lib@example.org",
            name="Librarian",
            role=Role.LIBRARIAN,
            password=GOOD_PASSWORD,
            membership_expires_at=expiry,
        )
        assert member.role is Role.LIBRARIAN
        assert member.membership_expires_at == expiry
        assert member.password_hash is not None
        assert member.password_hash != GOOD_PASSWORD
        assert app.hasher.verify(member.password_hash, GOOD_PASSWORD)
        assert app.membership.get(member.id).password_hash == member.password_hash

    @pytest.mark.parametrize("password", ["short", "x" * 11, "x" * 257])
    def test_a_bad_password_is_refused_before_hashing(self, app: App, password: str) -> None:
        with pytest.raises(InvalidValue) as refused:
            app.membership.register(email="a@example.org", name="A", password=password)
        assert refused.value.field == "password"
        assert app.hasher.calls == 0
        assert app.members() == []

    @pytest.mark.parametrize("email", ["ada@example.org", "ADA@EXAMPLE.ORG", " Ada@example.Org"])
    def test_an_email_is_registered_once_regardless_of_case(self, app: App, email: str) -> None:
        app.membership.register(email="ada@example.org", name="Ada")
        with pytest.raises(EmailAlreadyRegistered) as refused:
            app.membership.register(email=email, name="Impostor", password=GOOD_PASSWORD)
        assert refused.value.code == "EMAIL_ALREADY_REGISTERED"
        assert len(app.members()) == 1
        assert app.hasher.calls == 0  # refused before the expensive hashing

    def test_invalid_email_or_name(self, app: App) -> None:
        with pytest.raises(InvalidValue):
            app.membership.register(email="nope", name="Ada")
        with pytest.raises(InvalidValue):
            app.membership.register(email="ada@example.org", name="  ")
        assert app.members() == []


class TestRead:
    def test_get_and_find_by_email(self, app: App) -> None:
        ada = app.add_member(email="ada@example.org")
        assert app.membership.find_by_email("ADA@example.org ") == ada
        assert app.membership.find_by_email("bob@example.org") is None
        with pytest.raises(InvalidValue):
            app.membership.find_by_email("not an email")
        with pytest.raises(MemberNotFound) as refused:
            app.membership.get("nobody")
        assert refused.value.code == "MEMBER_NOT_FOUND"

    def test_list_filters_and_pages_oldest_first(self, app: App) -> None:
        ada = app.add_member(name="Ada Lovelace", email="ada@example.org")
        app.advance(HOUR)
        bob = app.add_member(name="Bob", email="bob@lovelace.example", role=Role.LIBRARIAN)
        app.advance(HOUR)
        cy = app.add_member(name="Cy", email="cy@example.org", role=Role.ADMIN)
        app.membership.suspend(cy.id)

        def ids(query: MemberFilter, page: PageRequest | None = None) -> list[str]:
            return [m.id for m in app.membership.list(query, page or PageRequest()).items]

        assert ids(MemberFilter()) == [ada.id, bob.id, cy.id]
        assert ids(MemberFilter(q="LOVELACE")) == [ada.id, bob.id]  # name or email
        assert ids(MemberFilter(q="example.org")) == [ada.id, cy.id]
        assert ids(MemberFilter(role=Role.LIBRARIAN)) == [bob.id]
        assert ids(MemberFilter(status=MemberStatus.SUSPENDED)) == [cy.id]
        assert ids(MemberFilter(status=MemberStatus.ACTIVE, role=Role.ADMIN)) == []
        assert ids(MemberFilter(), PageRequest(page=2, per_page=2)) == [cy.id]
        assert app.membership.list(MemberFilter(), PageRequest(per_page=2)).total == 3


class TestUpdate:
    def test_update_changes_the_given_fields(self, app: App) -> None:
        ada = app.add_member(email="ada@example.org", name="Ada")
        expiry = app.now() + 1000 * DAY
        app.advance(HOUR)
        updated = app.membership.update(
            ada.id,
            MemberChanges(email="Ada.L@Example.org", membership_expires_at=expiry),
            expected_version=1,
        )
        assert updated.email == "ada.l@example.org"
        assert updated.name == "Ada"
        assert updated.membership_expires_at == expiry
        assert updated.updated_at == app.now()
        assert updated.version == 2
        assert app.membership.find_by_email("ada.l@example.org") == updated

    def test_role_and_status_change_with_the_rest(self, app: App) -> None:
        ada = app.add_member()
        changed = app.membership.update(
            ada.id, MemberChanges(name="Ada L", role=Role.LIBRARIAN, status=MemberStatus.SUSPENDED)
        )
        assert (changed.name, changed.role, changed.status) == (
            "Ada L",
            Role.LIBRARIAN,
            MemberStatus.SUSPENDED,
        )
        assert changed.version == 2
        back = app.membership.update(ada.id, MemberChanges(status=MemberStatus.ACTIVE))
        assert back.status is MemberStatus.ACTIVE
        assert back.role is Role.LIBRARIAN

    def test_email_of_another_member_is_refused(self, app: App) -> None:
        app.add_member(email="ada@example.org")
        bob = app.add_member(email="bob@example.org")
        with pytest.raises(EmailAlreadyRegistered):
            app.membership.update(bob.id, MemberChanges(email="ADA@example.org"))
        assert app.membership.get(bob.id).email == "bob@example.org"

    def test_own_email_in_another_case_is_fine(self, app: App) -> None:
        ada = app.add_member(email="ada@example.org")
        assert app.membership.update(ada.id, MemberChanges(email="ADA@example.org")).email == (
            "ada@example.org"
        )

    def test_stale_version(self, app: App) -> None:
        ada = app.add_member()
        app.membership.update(ada.id, MemberChanges(name="Second"))
        with pytest.raises(VersionMismatch):
            app.membership.update(ada.id, MemberChanges(name="Third"), expected_version=1)
        assert app.membership.get(ada.id).name == "Second"

    def test_role_password_suspension(self, app: App) -> None:
        ada = app.add_member()
        promoted = app.membership.change_role(ada.id, Role.ADMIN, expected_version=1)
        assert promoted.role is Role.ADMIN
        assert promoted.version == 2
        with pytest.raises(VersionMismatch):
            app.membership.change_role(ada.id, Role.MEMBER, expected_version=1)
        with_password = app.membership.set_password(ada.id, GOOD_PASSWORD)
        assert with_password.password_hash is not None
        assert app.hasher.verify(with_password.password_hash, GOOD_PASSWORD)
        with pytest.raises(InvalidValue):
            app.membership.set_password(ada.id, "short")
        suspended = app.membership.suspend(ada.id, expected_version=3)
        assert suspended.status is MemberStatus.SUSPENDED
        with pytest.raises(VersionMismatch):
            app.membership.reactivate(ada.id, expected_version=3)
        assert app.membership.reactivate(ada.id, expected_version=4).status is (MemberStatus.ACTIVE)

    def test_unknown_member(self, app: App) -> None:
        for call in (
            lambda: app.membership.update("nobody", MemberChanges(name="x")),
            lambda: app.membership.change_role("nobody", Role.ADMIN),
            lambda: app.membership.set_password("nobody", GOOD_PASSWORD),
            lambda: app.membership.suspend("nobody"),
            lambda: app.membership.reactivate("nobody"),
            lambda: app.membership.remove("nobody"),
        ):
            with pytest.raises(MemberNotFound):
                call()


class TestRemove:
    def test_refused_with_loans_out(self, app: App) -> None:
        ada = app.add_member()
        app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        with pytest.raises(MemberHasOpenLoans) as refused:
            app.membership.remove(ada.id)
        assert refused.value.code == "MEMBER_HAS_OPEN_LOANS"
        assert len(app.members()) == 1

    def test_refused_with_debt_until_paid(self, app: App) -> None:
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(app.policy.loan_period + timedelta(hours=20))  # the next day
        app.circulation.return_loan(loan.id)
        with pytest.raises(MemberHasDebt) as refused:
            app.membership.remove(ada.id)
        assert refused.value.code == "MEMBER_HAS_DEBT"
        assert refused.value.details == {"balance_cents": 25}
        app.accounts.record_payment(ada.id, 25)
        app.membership.remove(ada.id)
        # Anonymised, not deleted: the loan and the money history stay, and still add up.
        assert [m.status for m in app.members()] == [MemberStatus.ANONYMISED]
        assert [loan.member_id for loan in app.loans()] == [ada.id]
        assert [(e.kind.value, e.amount_cents) for e in app.ledger()] == [
            ("charge", 25),
            ("payment", 25),
        ]
        assert app.accounts.statement(ada.id).balance_cents == 0

    def test_removing_a_member_cancels_their_holds_and_passes_copies_on(self, app: App) -> None:
        book = app.add_book(copies=1)
        waiting_book = app.add_book(copies=1)
        ada, bob, cy = app.add_member(), app.add_member(), app.add_member()
        app.circulation.borrow(cy.id, book_id=waiting_book.book.id)
        mine = app.circulation.place_hold(ada.id, book.book.id).hold  # ready at once
        app.circulation.place_hold(ada.id, waiting_book.book.id)
        theirs = app.circulation.place_hold(bob.id, book.book.id).hold
        assert mine.status is HoldStatus.READY
        app.publisher.clear()
        app.membership.remove(ada.id, expected_version=1)
        assert [m.id for m in app.members() if not m.is_anonymised] == sorted([bob.id, cy.id])
        assert [h.id for h in app.holds()] == [theirs.id]
        assert app.hold(theirs.id).status is HoldStatus.READY
        assert app.hold(theirs.id).copy_id == book.copies[0].id
        assert app.copy(book.copies[0].id).status is CopyStatus.ON_HOLD_SHELF
        assert [e.member_id for e in app.publisher.of_type(HoldReady)] == [bob.id]

    def test_stale_version(self, app: App) -> None:
        ada = app.add_member()
        app.membership.suspend(ada.id)
        with pytest.raises(VersionMismatch):
            app.membership.remove(ada.id, expected_version=1)
        assert len(app.members()) == 1


class TestImport:
    def test_valid_records_are_registered_without_passwords(self, app: App) -> None:
        expiry = app.now() + 30 * DAY
        report = app.membership.import_members(
            [
                MemberRecord(line=2, email=" Ada@Example.org ", name="Ada"),
                MemberRecord(
                    line=3,
                    email="desk@example.org",
                    name="Desk",
                    role="Librarian",
                    membership_expires_at=expiry,
                ),
            ]
        )
        assert (report.added, report.already_present, report.rejected) == (2, 0, [])
        ada = app.membership.find_by_email("ada@example.org")
        desk = app.membership.find_by_email("desk@example.org")
        assert ada is not None
        assert desk is not None
        assert (ada.role, ada.password_hash) == (Role.MEMBER, None)
        assert ada.membership_expires_at == app.now() + app.policy.membership_period
        assert (desk.role, desk.membership_expires_at) == (Role.LIBRARIAN, expiry)
        assert app.hasher.calls == 0

    def test_invalid_records_are_reported_by_line_not_loaded(self, app: App) -> None:
        report = app.membership.import_members(
            [
                MemberRecord(line=7, email="nobody", name="N"),
                MemberRecord(line=8, email="x@example.org", name="  "),
                MemberRecord(line=9, email="y@example.org", name="Y", role="owner"),
            ]
        )
        assert [(r.line, r.code) for r in report.rejected] == [
            (7, "INVALID_VALUE"),
            (8, "INVALID_VALUE"),
            (9, "INVALID_VALUE"),
        ]
        assert report.added == 0
        assert app.membership.list(MemberFilter(), PageRequest()).total == 0

    def test_an_email_registered_or_repeated_is_skipped_so_a_rerun_adds_nothing(
        self, app: App
    ) -> None:
        app.membership.register(email="ada@example.org", name="Ada")
        records = [
            MemberRecord(line=2, email="ADA@example.org", name="Ada again"),
            MemberRecord(line=3, email="bob@example.org", name="Bob"),
            MemberRecord(line=4, email="Bob@Example.org", name="Bob twice"),
        ]
        first = app.membership.import_members(records)
        again = app.membership.import_members(records)
        assert (first.added, first.already_present) == (1, 2)
        assert (again.added, again.already_present) == (0, 3)
        bob = app.membership.find_by_email("bob@example.org")
        assert bob is not None
        assert bob.name == "Bob"
        assert app.membership.list(MemberFilter(), PageRequest()).total == 2
