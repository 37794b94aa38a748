"""Use cases of membership: registering, changing and removing members."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from application.common import check_version, found, rule_book
from application.identity.ports import SessionEnder
from application.loading import RejectedRecord
from application.passwords import check_password
from application.ports import Clock, IdGenerator, PasswordHasher, UnitOfWorkFactory
from application.queries import MemberFilter, Page, PageRequest
from application.retry import retry_on_conflict
from application.unit_of_work import UnitOfWork
from domain.cards import CardNumberFormat, normalise_card_number
from domain.errors import (
    CardNumbersExhausted,
    CardNumberTaken,
    DomainError,
    EmailAlreadyRegistered,
    InvalidValue,
    MemberHasDebt,
    MemberHasOpenLoans,
    MemberNotFound,
)
from domain.events import (
    MemberAnonymised,
    MemberRegistered,
    MemberRoleChanged,
    MembersImported,
    MemberStatusChanged,
    MemberUpdated,
    PasswordChanged,
)
from domain.members import Member, MemberStatus, Role, normalise_email
from domain.policy import Policy
from domain.values import UNSET, Unset

# Why a member's sessions end, as the ``sessions_revoked`` audit record says.
ROLE_CHANGED = "role_changed"
ANONYMISED = "anonymised"


@dataclass(frozen=True, slots=True)
class MemberChanges:
    email: str | Unset = UNSET
    name: str | Unset = UNSET
    card_number: str | Unset = UNSET
    membership_expires_at: datetime | Unset = UNSET
    role: Role | Unset = UNSET
    status: MemberStatus | Unset = UNSET


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One member of a bulk load, and its line in the file (for reporting). No password: an
    imported member has none until one is set (``circulate members reset-password``)."""

    line: int
    email: str
    name: str
    role: str | None = None  # default: member
    membership_expires_at: datetime | None = None  # default: one membership period from now
    card_number: str | None = None  # default: a new one drawn in the library's format


@dataclass(slots=True)
class MemberImportReport:
    added: int = 0
    already_present: int = 0  # skipped: the email is registered, or earlier in the load
    rejected: list[RejectedRecord] = field(default_factory=list)

    def include(self, other: MemberImportReport) -> None:
        self.added += other.added
        self.already_present += other.already_present
        self.rejected.extend(other.rejected)


@dataclass(slots=True)
class PreparedMembers:
    """A batch of a bulk load, validated and ready to store, with what was already refused or
    repeated within the batch."""

    members: list[Member] = field(default_factory=list)
    report: MemberImportReport = field(default_factory=MemberImportReport)
    # Members whose card number the file gave (by id, with their line): those are kept as
    # printed or refused; the others were drawn and are drawn again when taken.
    given_cards: dict[str, int] = field(default_factory=dict)


class Membership:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        policy: Policy,
        hasher: PasswordHasher,
        sessions: SessionEnder | None = None,
        card_numbers: CardNumberFormat | None = None,
        draw: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        """``sessions``: the identity slice's ``SessionEnder``, which ends a member's sessions
        when their role changes or they are removed (their tokens carry the old role otherwise).
        It runs in identity's own transaction, right after this one commits: see
        ``application.identity.session_endings`` for why a crash in between is safe.
        ``card_numbers``: the format new cards are numbered in; ``draw(n)`` picks a serial
        below ``n`` (random: a guessable next number would let anyone name other members)."""
        self._card_numbers = card_numbers or CardNumberFormat()
        self._draw = draw
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._hasher = hasher
        self._sessions = sessions

    def register(
        self,
        *,
        email: str,
        name: str,
        role: Role = Role.MEMBER,
        password: str | None = None,
        membership_expires_at: datetime | None = None,
        card_number: str | None = None,
    ) -> Member:
        """Register a member; the membership runs one policy period unless an expiry is given.
        The card number is the one given (a card already printed), or a new one."""
        now = self._clock.now()
        password_hash = None
        if password is not None:
            check_password(password)
        member = Member.register(
            id=self._ids.new_id(),
            email=email,
            name=name,
            card_number=card_number if card_number is not None else self._draw_card_number(),
            role=role,
            membership_expires_at=membership_expires_at or now + self._policy.membership_period,
            now=now,
        )
        with self._uow() as uow:
            self._ensure_email_free(uow, member.email)
            if card_number is None:  # drawn: draw again while it is taken
                member.card_number = self._free_card_number(uow, first=member.card_number)
            else:
                self._ensure_card_number_free(uow, member.card_number)
            if password is not None:
                # Hashed only after the cheap checks, so a refused request costs no hashing.
                password_hash = self._hasher.hash(password)
                member.set_password_hash(password_hash, now)
            uow.members.add(member)
            uow.emit(MemberRegistered(now, member.id, member.role.value))
            uow.commit()
        return member

    def import_members(self, records: Sequence[MemberRecord]) -> MemberImportReport:
        """Register a batch of members in one transaction, set-based (``BulkWriter``).

        Each record is validated by the domain; invalid ones are reported, not loaded. A member
        whose email is registered already (or earlier in the batch) is skipped, so loading the
        same file twice adds nothing the second time.
        """
        return self.store_members(self.prepare_members(records))

    def prepare_members(self, records: Sequence[MemberRecord]) -> PreparedMembers:
        """The first half of ``import_members``: validate the batch and make its members,
        without touching storage (see ``Catalogue.prepare_books``)."""
        now = self._clock.now()
        prepared = PreparedMembers()
        emails: set[str] = set()
        cards: set[str] = set()  # given in this batch
        ids = iter(self._ids.new_ids(len(records)))  # one draw for the batch, not one per row
        for record in records:
            given = record.card_number
            try:
                member = Member.register(
                    id=next(ids),
                    email=record.email,
                    name=record.name,
                    card_number=given if given is not None else self._draw_card_number(),
                    role=_role(record.role),
                    membership_expires_at=record.membership_expires_at
                    or now + self._policy.membership_period,
                    now=now,
                )
            except DomainError as error:
                prepared.report.rejected.append(
                    RejectedRecord(record.line, error.code, error.message)
                )
                continue
            if member.email in emails:
                prepared.report.already_present += 1
                continue
            if given is not None:
                if member.card_number in cards:
                    prepared.report.rejected.append(_card_taken(record.line, member.card_number))
                    continue
                cards.add(member.card_number)
                prepared.given_cards[member.id] = record.line
            emails.add(member.email)
            prepared.members.append(member)
        return prepared

    @retry_on_conflict
    def store_members(self, prepared: PreparedMembers) -> MemberImportReport:
        """The second half of ``import_members``: one transaction."""
        with self._uow() as uow:
            settled = self._settle_card_numbers(uow, prepared)
            added = uow.bulk.add_members(settled.members)
            if added:
                uow.emit(MembersImported(self._clock.now(), len(added)))
            uow.commit()
        return MemberImportReport(
            added=len(added),
            already_present=prepared.report.already_present
            + settled.report.already_present
            + len(settled.members)
            - len(added),
            rejected=[*prepared.report.rejected, *settled.report.rejected],
        )

    def get(self, member_id: str) -> Member:
        with self._uow().reading() as uow:
            return found(uow.members.get(member_id), MemberNotFound, member_id)

    def find_by_email(self, email: str) -> Member | None:
        with self._uow().reading() as uow:
            return uow.members.get_by_email(normalise_email(email))

    def get_by_card_number(self, card_number: str) -> Member:
        """The member whose card was scanned (spaces, hyphens and case do not matter)."""
        wanted = normalise_card_number(card_number)
        with self._uow().reading() as uow:
            return found(uow.members.get_by_card_number(wanted), MemberNotFound, wanted)

    def list(self, query: MemberFilter, page: PageRequest) -> Page[Member]:
        if query.card_number is not None:  # as scanned or typed: compared in the stored form
            query = replace(query, card_number=normalise_card_number(query.card_number))
        with self._uow().reading() as uow:
            return uow.members.list(query, page)

    def update(
        self, member_id: str, changes: MemberChanges, expected_version: int | None = None
    ) -> Member:
        if changes.status is MemberStatus.ANONYMISED:
            raise InvalidValue("status", "a member is anonymised by removing them")
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            if not isinstance(changes.email, Unset):
                email = normalise_email(changes.email)
                if email != member.email:
                    self._ensure_email_free(uow, email)
            now = self._clock.now()
            before = _details(member)
            if not isinstance(changes.card_number, Unset):
                card_number = normalise_card_number(changes.card_number)
                if card_number != member.card_number:
                    self._ensure_card_number_free(uow, card_number)
                member.change_card_number(card_number, now)
            member.revise(
                now=now,
                email=changes.email,
                name=changes.name,
                membership_expires_at=changes.membership_expires_at,
            )
            revised = [name for name, value in _details(member).items() if before[name] != value]
            if revised:
                uow.emit(MemberUpdated(now, member_id, ",".join(revised)))
            new_role = False
            if not isinstance(changes.role, Unset) and changes.role is not member.role:
                self._new_role(uow, member, changes.role, now)
                new_role = True
            if changes.status is MemberStatus.SUSPENDED:
                self._new_status(uow, member, member.suspend, now)
            elif changes.status is MemberStatus.ACTIVE:
                self._new_status(uow, member, member.reactivate, now)
            uow.commit()
        if new_role:
            self._end_sessions(member_id, ROLE_CHANGED)
        return member

    def change_role(
        self, member_id: str, role: Role, expected_version: int | None = None
    ) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            new_role = role is not member.role
            if new_role:
                self._new_role(uow, member, role, self._clock.now())
            uow.commit()
        if new_role:
            self._end_sessions(member_id, ROLE_CHANGED)
        return member

    def set_password(self, member_id: str, password: str) -> Member:
        check_password(password)
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            member.ensure_present()  # before paying for the hash
            now = self._clock.now()
            member.set_password_hash(self._hasher.hash(password), now)
            uow.emit(PasswordChanged(now, member_id))
            uow.commit()
            return member

    def suspend(self, member_id: str, expected_version: int | None = None) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            self._new_status(uow, member, member.suspend, self._clock.now())
            uow.commit()
            return member

    def reactivate(self, member_id: str, expected_version: int | None = None) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            self._new_status(uow, member, member.reactivate, self._clock.now())
            uow.commit()
            return member

    def remove(self, member_id: str, expected_version: int | None = None) -> None:
        """Remove a member: anonymise them, keeping the loans and ledger lines the library's
        books need (see docs/security.md); refused while they have loans out or owe money.

        Their waiting holds are cancelled (a copy set aside for them passes down the queue),
        their holds are deleted, and then their sessions (identity's, right after the commit).
        Removing an anonymised member changes nothing but ending sessions still left, which
        completes a removal interrupted between the two.
        """
        now = self._clock.now()
        with self._uow() as uow:
            member = found(uow.members.get(member_id, for_update=True), MemberNotFound, member_id)
            check_version(member, expected_version)
            if not member.is_anonymised:
                self._anonymise(uow, member, now)
                uow.commit()
        # Identity's transaction, once the library's has ended: sessions end only for a removal
        # that committed, and a second writer opened inside the first would wait on SQLite's
        # write lock. Their refresh tokens go with them.
        self._end_sessions(member_id, ANONYMISED, forget=True)

    def _anonymise(self, uow: UnitOfWork, member: Member, now: datetime) -> None:
        open_loans = uow.loans.open_for_member(member.id)
        if open_loans:
            raise MemberHasOpenLoans(
                f"member has {len(open_loans)} loans out", open_loans=len(open_loans)
            )
        owed = uow.ledger.balance(member.id)
        if owed > 0:
            raise MemberHasDebt(f"member owes {owed} cents", balance_cents=owed)
        rules = rule_book(uow, self._policy)
        for hold in uow.holds.active_for_member(member.id):
            state = uow.circulation.get(hold.book_id)
            state.cancel_hold(hold, rules, now)
            uow.circulation.save(state)
        for hold in uow.holds.for_member(member.id):
            uow.holds.remove(hold)
        member.anonymise(now)
        uow.emit(MemberAnonymised(now, member.id))

    @staticmethod
    def _new_role(uow: UnitOfWork, member: Member, role: Role, now: datetime) -> None:
        """Change the role; the caller ends the member's sessions once it has committed (their
        tokens carry the old role)."""
        member.change_role(role, now)
        uow.emit(MemberRoleChanged(now, member.id, role.value))

    @staticmethod
    def _new_status(
        uow: UnitOfWork, member: Member, change: Callable[[datetime], None], now: datetime
    ) -> None:
        before = member.status
        change(now)
        if member.status is not before:
            uow.emit(MemberStatusChanged(now, member.id, member.status.value))

    def _end_sessions(self, member_id: str, reason: str, *, forget: bool = False) -> None:
        """After the commit: identity ends the member's sessions in its own transaction."""
        if self._sessions is not None:
            self._sessions.end_member_sessions(member_id, reason, forget=forget)

    @staticmethod
    def _ensure_email_free(uow: UnitOfWork, email: str) -> None:
        if uow.members.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(f"{email} is already registered", email=email)

    @staticmethod
    def _ensure_card_number_free(uow: UnitOfWork, card_number: str) -> None:
        if uow.members.get_by_card_number(card_number) is not None:
            raise CardNumberTaken(
                f"card number {card_number} is already in use", card_number=card_number
            )

    # --- new card numbers ------------------------------------------------------------------
    # Drawn at random from the format's serials and checked against the stored ones. With the
    # smallest format (a million serials) a draw meets a taken number as often as the library
    # has members per million, so a few draws always suffice until the format is nearly full.

    _DRAWS = 20

    def _draw_card_number(self) -> str:
        return self._card_numbers.number(self._draw(self._card_numbers.serials))

    def _free_card_number(
        self, uow: UnitOfWork, first: str | None = None, avoiding: set[str] | None = None
    ) -> str:
        """``first`` if it is free, else a new draw that is (neither stored nor ``avoiding``)."""
        candidate = first if first is not None else self._draw_card_number()
        for _ in range(self._DRAWS):
            if candidate not in (avoiding or set()) and (
                uow.members.get_by_card_number(candidate) is None
            ):
                return candidate
            candidate = self._draw_card_number()
        raise CardNumbersExhausted(
            f"no free card number found in {self._DRAWS} draws: the format "
            f"{self._card_numbers} is nearly full; give it more digits",
            format=str(self._card_numbers),
        )

    def _settle_card_numbers(self, uow: UnitOfWork, prepared: PreparedMembers) -> PreparedMembers:
        """The batch with every card number free: a drawn one that is taken (stored, given in
        the batch, or drawn earlier in it) is drawn again; a given one that is stored is the
        same member loaded before (same email: already present) or refused."""
        stored = uow.members.existing_card_numbers([m.card_number for m in prepared.members])
        taken = stored | {m.card_number for m in prepared.members if m.id in prepared.given_cards}
        settled = PreparedMembers()
        for member in prepared.members:
            line = prepared.given_cards.get(member.id)
            if line is None:
                if member.card_number in taken:
                    member = replace(
                        member, card_number=self._free_card_number(uow, avoiding=taken)
                    )
                taken.add(member.card_number)
            elif member.card_number in stored:
                holder = uow.members.get_by_card_number(member.card_number)
                if holder is not None and holder.email == member.email:
                    settled.report.already_present += 1
                else:
                    settled.report.rejected.append(_card_taken(line, member.card_number))
                continue
            settled.members.append(member)
        return settled


def _details(member: Member) -> dict[str, object]:
    """What ``Member.revise`` and a new card may change, by name (the audit names what changed,
    not values)."""
    return {
        "email": member.email,
        "name": member.name,
        "membership_expires_at": member.membership_expires_at,
        "card_number": member.card_number,
    }


def _role(text: str | None) -> Role:
    if text is None or not text.strip():
        return Role.MEMBER
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise InvalidValue("role", f"role must be one of {roles}, not {text!r}") from None


def _card_taken(line: int, card_number: str) -> RejectedRecord:
    return RejectedRecord(
        line, CardNumberTaken.code, f"card number {card_number} is already in use"
    )
