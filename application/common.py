"""Helpers shared by the use cases."""

from __future__ import annotations

from typing import Protocol, TypeVar

from application.queries import Page
from application.unit_of_work import RulesInForce, UnitOfWork
from domain.calendar import LibraryCalendar
from domain.circulation import BookCirculation
from domain.errors import BookNotFound, MemberNotFound, NotFound, VersionMismatch
from domain.members import Member
from domain.policy import Policy
from domain.rules import RuleBook


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)
T = TypeVar("T")


def found(entity: V | None, error: type[NotFound], identifier: str) -> V:
    if entity is None:
        raise error(identifier)
    return entity


def listed_for_member(uow: UnitOfWork, member_id: str | None, page: Page[T]) -> Page[T]:
    """``page`` of a list filtered by ``member_id``, or ``MemberNotFound``. A loan or hold is
    only ever made for a member, and a member is never deleted (removal anonymises them), so a
    page with rows shows the member exists: only an empty page asks."""
    if member_id is not None and not page.items:
        found(uow.members.get(member_id), MemberNotFound, member_id)
    return page


def check_version(entity: _Versioned, expected_version: int | None) -> None:
    """Refuse a change the caller based on an older version (``None``: the caller did not say)."""
    if expected_version is not None and entity.version != expected_version:
        raise VersionMismatch(
            f"{entity.id} is at version {entity.version}, not {expected_version}",
            id=entity.id,
            current_version=entity.version,
        )


def rule_book(uow: UnitOfWork, policy: Policy) -> RuleBook:
    """The rules matrix, member categories and calendar in force, with ``policy`` behind them."""
    return rule_book_of(uow.rules_in_force(), policy)


# The rule book last made, with what it was made of. The SQL adapter hands every unit of work the
# same ``RulesInForce`` while the rules stay as they are, so every decision then shares one rule
# book (and what it has worked out, such as the rule for each pair). Compared by identity: a
# ``RulesInForce`` is read-only, and another object may hold other rules.
_LAST: tuple[RulesInForce, Policy, RuleBook] | None = None


def rule_book_of(in_force: RulesInForce, policy: Policy) -> RuleBook:
    global _LAST  # one entry, replaced whole: a tuple assignment is atomic
    last = _LAST
    if last is not None and last[0] is in_force and last[1] is policy:
        return last[2]
    calendar = LibraryCalendar.of(policy.time_zone, in_force.closures)
    book = RuleBook.of(in_force.rules, in_force.categories, policy, calendar)
    _LAST = (in_force, policy, book)
    return book


def book_circulation(uow: UnitOfWork, book_id: str) -> BookCirculation:
    """The book's circulation state, read with the book (``BookNotFound`` for an unknown one)."""
    state = uow.circulation.find(book_id)
    if state is None:
        raise BookNotFound(book_id)
    return state


def circulation_and_rule_book(
    uow: UnitOfWork, book_id: str, policy: Policy
) -> tuple[BookCirculation, RuleBook]:
    """The book's circulation state (``BookNotFound`` for an unknown book) and ``rule_book``,
    read together."""
    state, in_force = uow.circulation_and_rules(book_id)
    if state is None:
        raise BookNotFound(book_id)
    return state, rule_book_of(in_force, policy)


def member_circulation_and_rule_book(
    uow: UnitOfWork, member_id: str, book_id: str, policy: Policy
) -> tuple[Member, BookCirculation, RuleBook]:
    """The member, locked (``MemberNotFound`` for an unknown one), and
    ``circulation_and_rule_book``, read together."""
    member, state, in_force = uow.member_circulation_and_rules(member_id, book_id)
    if member is None:
        raise MemberNotFound(member_id)
    if state is None:
        raise BookNotFound(book_id)
    return member, state, rule_book_of(in_force, policy)
