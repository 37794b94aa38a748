"""Members: email normalisation, roles, standing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import (
    InvalidValue,
    MemberIsAnonymised,
    MembershipExpired,
    MemberSuspended,
    OverdueNoticesRequired,
)
from domain.members import (
    ANONYMISED_NAME,
    Member,
    MemberStatus,
    NoticePreferences,
    Role,
    normalise_email,
)

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def a_member(**overrides: object) -> Member:
    fields: dict[str, object] = {
        "id": "m1",
        "email": " Ada@Example.ORG ",
        "name": "  Ada   Lovelace ",
        "card_number": "2000000000001 2",
        "membership_expires_at": NOW + timedelta(days=365),
        "now": NOW,
    }
    fields.update(overrides)
    return Member.register(**fields)  # type: ignore[arg-type]


def status_of(member: Member) -> MemberStatus:
    return member.status


class TestEmail:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("ada@example.org", "ada@example.org"),
            ("  Ada.Lovelace+Books@Example.ORG ", "ada.lovelace+books@example.org"),
            ("a@b.co", "a@b.co"),
        ],
    )
    def test_emails_are_stripped_and_lower_cased(self, raw: str, expected: str) -> None:
        assert normalise_email(raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "ada@@example.org",
            "ada@exa mple.org",
            "a da@example.org",
            "ada@example.org@x.y",
            "a" * 250 + "@b.co",  # 255 characters: one too many
        ],
    )
    def test_invalid_emails_are_refused(self, raw: str) -> None:
        with pytest.raises(InvalidValue) as refused:
            normalise_email(raw)
        assert refused.value.field == "email"

    def test_the_longest_email_allowed_is_254_characters(self) -> None:
        email = "a" * 249 + "@b.co"
        assert len(email) == 254
        assert normalise_email(email) == email

    @given(
        st.text(alphabet="abcXYZ019._+-", min_size=1, max_size=20),
        st.text(alphabet="abcXYZ019-", min_size=1, max_size=20),
        st.text(alphabet="abcXYZ", min_size=1, max_size=6),
    )
    def test_normalising_is_idempotent_and_case_blind(
        self, local: str, domain: str, tld: str
    ) -> None:
        email = f"{local}@{domain}.{tld}"
        normalised = normalise_email(email)
        assert normalise_email(normalised) == normalised
        assert normalise_email(email.upper()) == normalised
        assert normalise_email(email.swapcase()) == normalised


class TestMember:
    def test_register(self) -> None:
        member = a_member()
        assert member.email == "ada@example.org"
        assert member.name == "Ada Lovelace"
        assert member.role is Role.MEMBER
        assert member.status is MemberStatus.ACTIVE
        assert member.password_hash is None
        assert member.version == 1
        assert member.created_at == member.updated_at == NOW

    def test_name_is_required(self) -> None:
        with pytest.raises(InvalidValue) as refused:
            a_member(name=" ")
        assert refused.value.field == "name"

    def test_expiry_must_be_utc(self) -> None:
        with pytest.raises(InvalidValue) as refused:
            a_member(membership_expires_at=datetime(2031, 1, 1))  # noqa: DTZ001
        assert refused.value.field == "membership_expires_at"

    def test_repr_keeps_the_password_hash_out(self) -> None:
        member = a_member(password_hash="secret-hash-value")
        assert "secret-hash-value" not in repr(member)
        assert "m1" in repr(member)

    def test_revise_validates_before_changing(self) -> None:
        member = a_member()
        with pytest.raises(InvalidValue):
            member.revise(now=LATER, name="New Name", email="not-an-email")
        assert member.name == "Ada Lovelace"
        assert member.updated_at == NOW
        member.revise(now=LATER, email="NEW@example.org")
        assert member.email == "new@example.org"
        assert member.name == "Ada Lovelace"
        assert member.updated_at == LATER

    def test_suspend_and_reactivate(self) -> None:
        member = a_member()
        member.suspend(LATER)
        assert member.status is MemberStatus.SUSPENDED
        with pytest.raises(MemberSuspended) as refused:
            member.ensure_in_good_standing(LATER)
        assert refused.value.code == "MEMBER_SUSPENDED"
        member.reactivate(LATER)
        member.ensure_in_good_standing(LATER)
        assert status_of(member) is MemberStatus.ACTIVE

    def test_membership_expires_at_the_instant_given(self) -> None:
        expiry = NOW + timedelta(days=10)
        member = a_member(membership_expires_at=expiry)
        member.ensure_in_good_standing(expiry - timedelta(microseconds=1))
        assert not member.is_expired(expiry - timedelta(microseconds=1))
        assert member.is_expired(expiry)
        with pytest.raises(MembershipExpired) as refused:
            member.ensure_in_good_standing(expiry)
        assert refused.value.code == "MEMBERSHIP_EXPIRED"

    def test_suspension_is_reported_before_expiry(self) -> None:
        member = a_member(membership_expires_at=NOW)
        member.suspend(NOW)
        with pytest.raises(MemberSuspended):
            member.ensure_in_good_standing(LATER)


class TestRole:
    def test_ranks_are_ordered(self) -> None:
        assert Role.ADMIN.at_least(Role.LIBRARIAN)
        assert Role.ADMIN.at_least(Role.MEMBER)
        assert Role.LIBRARIAN.at_least(Role.LIBRARIAN)
        assert Role.LIBRARIAN.at_least(Role.MEMBER)
        assert not Role.LIBRARIAN.at_least(Role.ADMIN)
        assert not Role.MEMBER.at_least(Role.LIBRARIAN)

    def test_change_role(self) -> None:
        member = a_member()
        member.change_role(Role.LIBRARIAN, LATER)
        assert member.role is Role.LIBRARIAN
        assert member.updated_at == LATER

    def test_set_password_hash(self) -> None:
        member = a_member()
        member.set_password_hash("h", LATER)
        assert member.password_hash == "h"
        assert member.updated_at == LATER


class TestAnonymise:
    def test_erases_what_identifies_the_member_and_keeps_the_id(self) -> None:
        member = a_member(role=Role.ADMIN, password_hash="hash")
        assert member.anonymise(LATER) is True
        assert (member.id, member.name, member.email) == (
            "m1",
            ANONYMISED_NAME,
            "m1@anonymised.invalid",
        )
        assert member.password_hash is None
        assert member.role is Role.MEMBER
        assert member.status is MemberStatus.ANONYMISED
        assert member.updated_at == LATER
        assert normalise_email(member.email) == member.email  # still a valid, unique key

    def test_twice_changes_nothing(self) -> None:
        member = a_member()
        member.anonymise(NOW)
        assert member.anonymise(LATER) is False
        assert member.updated_at == NOW

    def test_nothing_changes_an_anonymised_member(self) -> None:
        member = a_member()
        member.anonymise(NOW)
        changes: list[Callable[[], None]] = [
            lambda: member.revise(now=LATER, name="Ada"),
            lambda: member.change_role(Role.ADMIN, LATER),
            lambda: member.set_password_hash("hash", LATER),
            lambda: member.suspend(LATER),
            lambda: member.reactivate(LATER),
            lambda: member.ensure_in_good_standing(LATER),
        ]
        for change in changes:
            with pytest.raises(MemberIsAnonymised):
                change()
        assert member.updated_at == NOW


# --- notice preferences ----------------------------------------------------------------------


def test_a_new_member_gets_no_receipts_and_overdue_notices() -> None:
    assert a_member().notices == NoticePreferences(receipts=False, overdue=True)


def test_receipts_are_the_member_s_choice() -> None:
    member = a_member()
    later = member.updated_at + timedelta(hours=1)

    member.choose_notices(NoticePreferences(receipts=True), now=later, overdue_opt_out=False)

    assert (member.notices.receipts, member.updated_at) == (True, later)


def test_overdue_notices_stay_on_unless_the_library_lets_members_opt_out() -> None:
    member = a_member()
    before = member.updated_at
    off = NoticePreferences(overdue=False)

    with pytest.raises(OverdueNoticesRequired):
        member.choose_notices(off, now=before + timedelta(hours=1), overdue_opt_out=False)
    assert (member.notices, member.updated_at) == (NoticePreferences(), before)

    member.choose_notices(off, now=before + timedelta(hours=1), overdue_opt_out=True)
    assert member.notices == off


@given(st.booleans(), st.booleans())
def test_an_opt_out_counts_only_while_the_library_allows_it(overdue: bool, allowed: bool) -> None:
    wants = NoticePreferences(overdue=overdue).wants_overdue(opt_out_allowed=allowed)

    assert wants is (overdue or not allowed)
