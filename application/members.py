"""Use cases of membership: registering, changing and removing members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.common import check_version, found, rule_book
from application.passwords import check_password
from application.ports import Clock, IdGenerator, PasswordHasher, UnitOfWorkFactory
from application.queries import MemberFilter, Page, PageRequest
from application.unit_of_work import UnitOfWork
from domain.errors import (
    EmailAlreadyRegistered,
    MemberHasDebt,
    MemberHasOpenLoans,
    MemberNotFound,
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


class Membership:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        policy: Policy,
        hasher: PasswordHasher,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy
        self._hasher = hasher

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
            uow.commit()
        return member

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
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            if not isinstance(changes.email, Unset):
                email = normalise_email(changes.email)
                if email != member.email:
                    self._ensure_email_free(uow, email)
            now = self._clock.now()
            member.revise(
                now=now,
                email=changes.email,
                name=changes.name,
                membership_expires_at=changes.membership_expires_at,
            )
            if not isinstance(changes.role, Unset):
                member.change_role(changes.role, now)
            if changes.status is MemberStatus.SUSPENDED:
                member.suspend(now)
            elif changes.status is MemberStatus.ACTIVE:
                member.reactivate(now)
            uow.commit()
            return member

    def change_role(
        self, member_id: str, role: Role, expected_version: int | None = None
    ) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            member.change_role(role, self._clock.now())
            uow.commit()
            return member

    def set_password(self, member_id: str, password: str) -> Member:
        check_password(password)
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            member.set_password_hash(self._hasher.hash(password), self._clock.now())
            uow.commit()
            return member

    def suspend(self, member_id: str, expected_version: int | None = None) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            member.suspend(self._clock.now())
            uow.commit()
            return member

    def reactivate(self, member_id: str, expected_version: int | None = None) -> Member:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            member.reactivate(self._clock.now())
            uow.commit()
            return member

    def remove(self, member_id: str, expected_version: int | None = None) -> None:
        """Remove a member and their history; refused while they have loans out or owe money.

        Their waiting holds are cancelled and any copy set aside for them passes down the queue.
        """
        now = self._clock.now()
        with self._uow() as uow:
            member = found(uow.members.get(member_id, for_update=True), MemberNotFound, member_id)
            check_version(member, expected_version)
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
            for loan in uow.loans.closed_for_member(member_id):
                uow.loans.remove(loan)
            for entry in uow.ledger.for_member(member_id):
                uow.ledger.remove(entry)
            for token in uow.refresh_tokens.for_member(member_id):  # their sessions end
                uow.refresh_tokens.remove(token)
            uow.members.remove(member)
            uow.commit()

    @staticmethod
    def _ensure_email_free(uow: UnitOfWork, email: str) -> None:
        if uow.members.get_by_email(email) is not None:
            raise EmailAlreadyRegistered(f"{email} is already registered", email=email)
