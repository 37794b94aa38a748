"""Privacy that keeps the books: removed members are anonymised, old loans lose their borrower."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.members import MemberChanges
from application.retention import LoanRetention
from domain.credentials import RefreshToken
from domain.errors import InvalidValue, MemberIsAnonymised
from domain.ledger import EntryKind
from domain.members import (
    ANONYMISED_NAME,
    ANONYMOUS_BORROWER_ID,
    Member,
    MemberStatus,
    Role,
)
from tests.unit.support import DAY, RETENTION, App

PASSWORD = "correct horse battery"


def removed_with_history(app: App) -> tuple[Member, str]:
    """A librarian with a password, a session, a paid fine and a waiting hold, then removed;
    and the id of their returned loan."""
    ada = app.membership.register(
        email="ada@example.org", name="Ada", role=Role.LIBRARIAN, password=PASSWORD
    )
    with app.identity_uow() as uow:
        uow.refresh_tokens.add(
            RefreshToken.issue(
                id=app.ids.new_id(),
                family_id="family",
                member_id=ada.id,
                token_hash="digest",
                now=app.now(),
                expires_at=app.now() + DAY,
            )
        )
        uow.commit()
    loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
    app.advance(app.policy.loan_period + DAY)
    app.circulation.return_loan(loan.id)
    app.accounts.record_payment(ada.id, app.accounts.statement(ada.id).balance_cents)
    wanted = app.add_book().book.id
    app.circulation.borrow(app.add_member().id, book_id=wanted)
    app.circulation.place_hold(ada.id, wanted)
    app.membership.remove(ada.id)
    return app.membership.get(ada.id), loan.id


class TestRemovingAMember:
    def test_personal_fields_are_erased(self, app: App) -> None:
        ada, _ = removed_with_history(app)
        assert ada.status is MemberStatus.ANONYMISED
        assert ada.name == ANONYMISED_NAME
        assert ada.email == f"{ada.id}@anonymised.invalid"
        assert ada.card_number == ada.id.replace("-", "").upper()
        assert ada.password_hash is None
        assert ada.role is Role.MEMBER
        assert app.membership.find_by_email("ada@example.org") is None

    def test_the_books_are_kept_and_still_add_up(self, app: App) -> None:
        ada, loan_id = removed_with_history(app)
        assert [loan.id for loan in app.loans() if loan.member_id == ada.id] == [loan_id]
        statement = app.accounts.statement(ada.id)
        assert statement.total(EntryKind.CHARGE) > 0
        assert statement.total(EntryKind.CHARGE) == statement.total(EntryKind.PAYMENT)
        assert statement.balance_cents == 0

    def test_sessions_and_holds_end(self, app: App) -> None:
        ada, _ = removed_with_history(app)
        with app.identity_uow() as uow:
            assert uow.refresh_tokens.for_member(ada.id) == []
        assert app.holds() == []
        [revoked] = app.audit_records(action="sessions_revoked")
        assert revoked.details == {"member_id": ada.id, "sessions": 1, "reason": "anonymised"}

    def test_removing_again_changes_nothing(self, app: App) -> None:
        ada, _ = removed_with_history(app)
        before = app.snapshot()
        app.membership.remove(ada.id)
        assert app.snapshot() == before
        assert len(app.audit_records(action="member_anonymised")) == 1

    def test_an_anonymised_member_cannot_be_brought_back(self, app: App) -> None:
        ada, _ = removed_with_history(app)
        book_id = app.add_book().book.id
        before = app.snapshot()
        for attempt in (
            lambda: app.membership.update(ada.id, MemberChanges(name="Ada")),
            lambda: app.membership.reactivate(ada.id),
            lambda: app.membership.suspend(ada.id),
            lambda: app.membership.change_role(ada.id, Role.ADMIN),
            lambda: app.membership.set_password(ada.id, PASSWORD),
            lambda: app.circulation.borrow(ada.id, book_id=book_id),
        ):
            with pytest.raises(MemberIsAnonymised) as refused:
                attempt()
            assert refused.value.code == "MEMBER_ANONYMISED"
        assert app.snapshot()["Member"] == before["Member"]
        assert app.snapshot()["AuditRecord"] == before["AuditRecord"]

    def test_nobody_is_anonymised_by_an_update(self, app: App) -> None:
        ada = app.add_member()
        with pytest.raises(InvalidValue) as refused:
            app.membership.update(ada.id, MemberChanges(status=MemberStatus.ANONYMISED))
        assert refused.value.field == "status"
        assert app.membership.get(ada.id).status is MemberStatus.ACTIVE

    def test_the_email_is_free_again(self, app: App) -> None:
        removed_with_history(app)
        again = app.membership.register(email="ada@example.org", name="Ada")
        assert again.status is MemberStatus.ACTIVE


def returned_loans(app: App, count: int, member: Member) -> list[str]:
    """``count`` loans to ``member``, each returned on the day it was lent."""
    ids = []
    for _ in range(count):
        loan = app.circulation.borrow(member.id, book_id=app.add_book().book.id)
        app.circulation.return_loan(loan.id)
        ids.append(loan.id)
    return ids


class TestLoanRetention:
    def test_loans_returned_before_the_period_lose_their_borrower(self, app: App) -> None:
        ada = app.add_member()
        old = returned_loans(app, 7, ada)  # more than one batch of three
        app.advance(RETENTION + DAY)
        recent = returned_loans(app, 1, ada)
        still_out = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        loans_before = len(app.loans())

        assert app.retention.anonymise_loans() == 7

        assert len(app.loans()) == loans_before  # the counts stay for statistics
        borrowers = {loan.id: loan.member_id for loan in app.loans()}
        assert {borrowers[i] for i in old} == {ANONYMOUS_BORROWER_ID}
        assert borrowers[recent[0]] == ada.id
        assert borrowers[still_out.id] == ada.id
        anonymous = app.membership.get(ANONYMOUS_BORROWER_ID)
        assert anonymous.status is MemberStatus.ANONYMISED
        assert anonymous.name == ANONYMISED_NAME
        records = app.audit_records(action="loan_anonymised")
        assert sorted(r.entity_id or "" for r in records) == sorted(old)

    def test_running_again_changes_nothing(self, app: App) -> None:
        returned_loans(app, 2, app.add_member())
        app.advance(RETENTION + DAY)
        app.retention.anonymise_loans()
        before = app.snapshot()
        assert app.retention.anonymise_loans() == 0
        assert app.snapshot() == before

    def test_the_ledger_still_names_the_member_and_adds_up(self, app: App) -> None:
        ada = app.add_member()
        loan = app.circulation.borrow(ada.id, book_id=app.add_book().book.id)
        app.advance(app.policy.loan_period + DAY)
        app.circulation.return_loan(loan.id)
        owed = app.accounts.statement(ada.id).balance_cents
        app.advance(RETENTION + DAY)
        app.retention.anonymise_loans()
        assert app.loan(loan.id).member_id == ANONYMOUS_BORROWER_ID
        assert app.accounts.statement(ada.id).balance_cents == owed
        assert [e.loan_id for e in app.ledger()] == [loan.id]

    def test_without_a_period_loans_are_kept_as_they_are(self, app: App) -> None:
        returned_loans(app, 2, app.add_member())
        app.advance(timedelta(days=10_000))
        keep = LoanRetention(app.uow, app.clock, None)
        before = app.snapshot()
        assert keep.anonymise_loans() == 0
        assert app.snapshot() == before

    def test_the_anonymous_borrower_cannot_borrow(self, app: App) -> None:
        returned_loans(app, 1, app.add_member())
        app.advance(RETENTION + DAY)
        app.retention.anonymise_loans()
        with pytest.raises(MemberIsAnonymised):
            app.circulation.borrow(ANONYMOUS_BORROWER_ID, book_id=app.add_book().book.id)
