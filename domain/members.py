"""Members: the people who borrow, and the staff who run the library."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.cards import normalise_card_number
from domain.errors import (
    InvalidValue,
    MemberIsAnonymised,
    MembershipExpired,
    MemberSuspended,
    OverdueNoticesRequired,
)
from domain.rules import DEFAULT_CATEGORY
from domain.values import UNSET, Unset, clean_text, require_utc

MAX_EMAIL = 254
# Deliberately modest: one "@", no spaces, a dot in the domain. Deliverability is the mail
# server's business; this only keeps obvious garbage out of a unique key.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    """Emails are unique regardless of case, so they are stored case-folded."""
    cleaned = email.strip().lower()
    if len(cleaned) > MAX_EMAIL or not _EMAIL.match(cleaned):
        raise InvalidValue("email", f"{email!r} is not a valid email address")
    return cleaned


class Role(StrEnum):
    MEMBER = "member"
    LIBRARIAN = "librarian"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.MEMBER: 0, Role.LIBRARIAN: 1, Role.ADMIN: 2}


class MemberStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ANONYMISED = "anonymised"  # removed: personal fields erased, loans and ledger kept


ANONYMISED_NAME = "Anonymised member"
# ``.invalid`` is reserved (RFC 2606): the address is unique, well-formed and reaches no one.
ANONYMISED_EMAIL_DOMAIN = "anonymised.invalid"
# The borrower that loans past the retention period are handed to (as Koha's AnonymousPatron):
# the loan keeps counting for statistics without naming who borrowed.
ANONYMOUS_BORROWER_ID = "00000000-0000-0000-0000-000000000000"


def anonymised_card_number(member_id: str) -> str:
    """What an anonymised member's card number becomes: the card printed for them is forgotten,
    and the column stays unique and filled with a value no card is printed with (the id's 32 hex
    digits)."""
    return member_id.replace("-", "").upper()


@dataclass(frozen=True, slots=True, kw_only=True)
class NoticePreferences:
    """Which optional notices a member gets. Service notices (due soon, hold ready, hold
    expiring or expired) always go: they are how the library keeps its side of a loan."""

    receipts: bool = False  # a receipt at each check-out and return: opt in
    overdue: bool = True  # turning these off needs the library's leave (``overdue_opt_out``)

    def wants_overdue(self, *, opt_out_allowed: bool) -> bool:
        # An opt-out counts only while the library allows it: a library that withdraws the
        # choice sends overdue notices again to members who had opted out.
        return self.overdue or not opt_out_allowed


@dataclass(slots=True, kw_only=True)
class Member:
    id: str
    email: str
    name: str
    card_number: str  # normalised (``domain.cards``), unique: what the desk scans
    role: Role
    status: MemberStatus
    membership_expires_at: datetime
    password_hash: str | None
    created_at: datetime
    updated_at: datetime
    category: str = DEFAULT_CATEGORY  # a ``domain.rules.MemberCategory`` code
    notices: NoticePreferences = NoticePreferences()
    version: int = 1

    def __repr__(self) -> str:  # keeps the password hash out of logs and tracebacks
        return f"Member(id={self.id!r}, email={self.email!r}, role={self.role!s})"

    @classmethod
    def register(
        cls,
        *,
        id: str,
        email: str,
        name: str,
        card_number: str,
        membership_expires_at: datetime,
        now: datetime,
        role: Role = Role.MEMBER,
        password_hash: str | None = None,
        category: str = DEFAULT_CATEGORY,
    ) -> Member:
        require_utc("now", now)
        return cls(
            category=category,
            id=id,
            email=normalise_email(email),
            name=clean_text("name", name, max_length=200),
            card_number=normalise_card_number(card_number),
            role=role,
            status=MemberStatus.ACTIVE,
            membership_expires_at=require_utc("membership_expires_at", membership_expires_at),
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
        )

    def revise(
        self,
        *,
        now: datetime,
        email: str | Unset = UNSET,
        name: str | Unset = UNSET,
        membership_expires_at: datetime | Unset = UNSET,
    ) -> None:
        self.ensure_present()
        new_email = self.email if isinstance(email, Unset) else normalise_email(email)
        new_name = (
            self.name if isinstance(name, Unset) else clean_text("name", name, max_length=200)
        )
        new_expiry = (
            self.membership_expires_at
            if isinstance(membership_expires_at, Unset)
            else require_utc("membership_expires_at", membership_expires_at)
        )
        if (new_email, new_name, new_expiry) == (self.email, self.name, self.membership_expires_at):
            return  # nothing changed: keep the version (and so the ETag) as it is
        self.email, self.name, self.membership_expires_at = new_email, new_name, new_expiry
        self.updated_at = now

    def change_card_number(self, card_number: str, now: datetime) -> None:
        """A new card (the old one lost, or renumbered); the caller checks it is free."""
        new = normalise_card_number(card_number)
        if new != self.card_number:
            self.card_number = new
            self.updated_at = now

    def change_category(self, category: str, now: datetime) -> None:
        """Move the member to another category (the caller checks it exists and is current)."""
        if category != self.category:
            self.category = category
            self.updated_at = now

    def choose_notices(
        self, notices: NoticePreferences, *, now: datetime, overdue_opt_out: bool
    ) -> None:
        """Set which optional notices the member gets; ``overdue_opt_out``: whether the library
        lets members turn overdue notices off."""
        if not notices.overdue and not overdue_opt_out:
            raise OverdueNoticesRequired(
                "this library sends overdue notices to every member", member_id=self.id
            )
        if notices != self.notices:
            self.notices = notices
            self.updated_at = now

    def change_role(self, role: Role, now: datetime) -> None:
        self.ensure_present()
        if role is not self.role:
            self.role = role
            self.updated_at = now

    def set_password_hash(self, password_hash: str, now: datetime) -> None:
        self.ensure_present()
        self.password_hash = password_hash
        self.updated_at = now

    def suspend(self, now: datetime) -> None:
        self.ensure_present()
        if self.status is not MemberStatus.SUSPENDED:
            self.status = MemberStatus.SUSPENDED
            self.updated_at = now

    def reactivate(self, now: datetime) -> None:
        self.ensure_present()
        if self.status is not MemberStatus.ACTIVE:
            self.status = MemberStatus.ACTIVE
            self.updated_at = now

    @property
    def is_anonymised(self) -> bool:
        return self.status is MemberStatus.ANONYMISED

    def ensure_present(self) -> None:
        """Refuse any change to an anonymised member: nothing may bring their data back."""
        if self.is_anonymised:
            raise MemberIsAnonymised(f"member {self.id} was removed", member_id=self.id)

    def anonymise(self, now: datetime) -> bool:
        """Erase what identifies the member, keeping the id that their loans and ledger lines
        refer to (the library's books must still add up). False when already anonymised, so
        removing twice changes nothing."""
        if self.is_anonymised:
            return False
        self.email = f"{self.id}@{ANONYMISED_EMAIL_DOMAIN}"
        self.name = ANONYMISED_NAME
        self.card_number = anonymised_card_number(self.id)
        self.password_hash = None
        self.role = Role.MEMBER  # no staff rights survive on a record nobody can sign in to
        self.status = MemberStatus.ANONYMISED
        self.updated_at = now
        return True

    @classmethod
    def anonymous_borrower(cls, now: datetime) -> Member:
        """The stand-in borrower of loans anonymised by the retention job."""
        member = cls.register(
            id=ANONYMOUS_BORROWER_ID,
            email=f"{ANONYMOUS_BORROWER_ID}@{ANONYMISED_EMAIL_DOMAIN}",
            name=ANONYMISED_NAME,
            card_number=anonymised_card_number(ANONYMOUS_BORROWER_ID),
            membership_expires_at=now,
            now=now,
        )
        member.status = MemberStatus.ANONYMISED
        return member

    def is_expired(self, now: datetime) -> bool:
        return self.membership_expires_at <= now

    def ensure_in_good_standing(self, now: datetime) -> None:
        """Refuse a suspended member or an expired membership."""
        self.ensure_present()
        if self.status is MemberStatus.SUSPENDED:
            raise MemberSuspended(f"member {self.id} is suspended", member_id=self.id)
        if self.is_expired(now):
            raise MembershipExpired(
                f"membership of {self.id} expired on {self.membership_expires_at.date()}",
                member_id=self.id,
                expired_at=self.membership_expires_at.isoformat(),
            )
