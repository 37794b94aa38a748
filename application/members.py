"""Use cases of membership: registering, changing and removing members."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from application.common import check_version, found, rule_book
from application.identity.ports import SessionRevoker
from application.loading import RejectedRecord
from application.passwords import check_password
from application.ports import Clock, IdGenerator, PasswordHasher, UnitOfWorkFactory
from application.queries import MemberFilter, Page, PageRequest
from application.retry import retry_on_conflict
from application.unit_of_work import UnitOfWork
from domain.errors import (
    DomainError,
    EmailAlreadyRegistered,
    InvalidValue,
    MemberHasDebt,
    MemberHasOpenLoans,
    MemberNotFound,
)
from domain.events import (
    Event,
    MemberAnonymised,
    MemberRegistered,
    MemberRoleChanged,
    MembersImported,
    MemberStatusChanged,
    MemberUpdated,
    PasswordChanged,
    SessionsRevoked,
)
from domain.members import Member, MemberStatus, Role, normalise_email
from domain.policy import Policy
from domain.values import UNSET, Unset


@dataclass(frozen=True, slots=True)
class MemberChanges:
    email: str | Unset = UNSET
    name: str | Unset = UNSET
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


class Membership:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        policy: Policy,
        hasher: PasswordHasher,
        sessions: SessionRevoker | None = None,
    ) -> None:
        """``sessions``: where a member's sessions are revoked when their role changes or they
        are removed (their access tokens carry the old role until they expire otherwise)."""
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
    ) -> Member:
        """Register a member; the membership runs one policy period unless an expiry is given."""
        now = self._clock.now()
        password_hash = None
        if password is not None:
            check_password(password)
        member = Member.register(
            id=self._ids.new_id(),
            email=email,
            name=name,
            role=role,
            membership_expires_at=membership_expires_at or now + self._policy.membership_period,
            now=now,
        )
        with self._uow() as uow:
            self._ensure_email_free(uow, member.email)
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
        for record in records:
            try:
                member = Member.register(
                    id=self._ids.new_id(),
                    email=record.email,
                    name=record.name,
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
            emails.add(member.email)
            prepared.members.append(member)
        return prepared

    @retry_on_conflict
    def store_members(self, prepared: PreparedMembers) -> MemberImportReport:
        """The second half of ``import_members``: one transaction."""
        with self._uow() as uow:
            added = uow.bulk.add_members(prepared.members)
            if added:
                uow.emit(MembersImported(self._clock.now(), len(added)))
            uow.commit()
        return MemberImportReport(
            added=len(added),
            already_present=prepared.report.already_present + len(prepared.members) - len(added),
            rejected=list(prepared.report.rejected),
        )

    def get(self, member_id: str) -> Member:
        with self._uow() as uow:
            return found(uow.members.get(member_id), MemberNotFound, member_id)

    def find_by_email(self, email: str) -> Member | None:
        with self._uow() as uow:
            return uow.members.get_by_email(normalise_email(email))

    def list(self, query: MemberFilter, page: PageRequest) -> Page[Member]:
        with self._uow() as uow:
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
            member.revise(
                now=now,
                email=changes.email,
                name=changes.name,
                membership_expires_at=changes.membership_expires_at,
            )
            revised = [name for name, value in _details(member).items() if before[name] != value]
            if revised:
                uow.emit(MemberUpdated(now, member_id, ",".join(revised)))
            ended: set[str] = set()
            if not isinstance(changes.role, Unset) and changes.role is not member.role:
                ended = self._new_role(uow, member, changes.role, now)
            if changes.status is MemberStatus.SUSPENDED:
                self._new_status(uow, member, member.suspend, now)
            elif changes.status is MemberStatus.ACTIVE:
                self._new_status(uow, member, member.reactivate, now)
            uow.commit()
        self._revoke(ended)
        return member

    def change_role(
        self, member_id: str, role: Role, expected_version: int | None = None
    ) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            ended: set[str] = set()
            if role is not member.role:
                ended = self._new_role(uow, member, role, self._clock.now())
            uow.commit()
        self._revoke(ended)
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
        their holds and sessions are deleted. Removing an anonymised member changes nothing.
        """
        now = self._clock.now()
        with self._uow() as uow:
            member = found(uow.members.get(member_id, for_update=True), MemberNotFound, member_id)
            check_version(member, expected_version)
            if member.is_anonymised:
                return
            open_loans = uow.loans.open_for_member(member_id)
            if open_loans:
                raise MemberHasOpenLoans(
                    f"member has {len(open_loans)} loans out", open_loans=len(open_loans)
                )
            owed = uow.ledger.balance(member_id)
            if owed > 0:
                raise MemberHasDebt(f"member owes {owed} cents", balance_cents=owed)
            rules = rule_book(uow, self._policy)
            for hold in uow.holds.active_for_member(member_id):
                state = uow.circulation.get(hold.book_id)
                state.cancel_hold(hold, rules, now)
                uow.circulation.save(state)
            for hold in uow.holds.for_member(member_id):
                uow.holds.remove(hold)
            ended = set()
            for token in uow.refresh_tokens.for_member(member_id):  # their sessions end
                ended.add(token.family_id)
                uow.refresh_tokens.remove(token)
            member.anonymise(now)
            uow.emit(MemberAnonymised(now, member_id), *_sessions_ended(member, ended, now))
            uow.commit()
        self._revoke(ended)

    def _new_role(self, uow: UnitOfWork, member: Member, role: Role, now: datetime) -> set[str]:
        """Change the role and end the member's sessions (their tokens carry the old one)."""
        member.change_role(role, now)
        ended = self._end_sessions(uow, member.id, now)
        uow.emit(
            MemberRoleChanged(now, member.id, role.value), *_sessions_ended(member, ended, now)
        )
        return ended

    @staticmethod
    def _new_status(
        uow: UnitOfWork, member: Member, change: Callable[[datetime], None], now: datetime
    ) -> None:
        before = member.status
        change(now)
        if member.status is not before:
            uow.emit(MemberStatusChanged(now, member.id, member.status.value))

    @staticmethod
    def _end_sessions(uow: UnitOfWork, member_id: str, now: datetime) -> set[str]:
        """Revoke the member's refresh tokens in this transaction; their sessions' ids."""
        ended = set()
        for token in uow.refresh_tokens.for_member(member_id):
            ended.add(token.family_id)
            if not token.is_used and not token.is_revoked:
                token.revoke(now)
        return ended

    def _revoke(self, family_ids: set[str]) -> None:
        """After the commit: the sessions' access tokens are refused from now on."""
        if self._sessions is not None and family_ids:
            self._sessions.revoke_sessions(family_ids)

    @staticmethod
    def _ensure_email_free(uow: UnitOfWork, email: str) -> None:
        if uow.members.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(f"{email} is already registered", email=email)


def _details(member: Member) -> dict[str, object]:
    """What ``Member.revise`` may change, by name (the audit names what changed, not values)."""
    return {
        "email": member.email,
        "name": member.name,
        "membership_expires_at": member.membership_expires_at,
    }


def _sessions_ended(member: Member, family_ids: set[str], now: datetime) -> list[Event]:
    reason = "anonymised" if member.is_anonymised else "role_changed"
    return [SessionsRevoked(now, member.id, len(family_ids), reason)] if family_ids else []


def _role(text: str | None) -> Role:
    if text is None or not text.strip():
        return Role.MEMBER
    try:
        return Role(text.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise InvalidValue("role", f"role must be one of {roles}, not {text!r}") from None
