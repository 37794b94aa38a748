"""Use cases of the circulation rules: member categories, item types and the rules matrix."""

from __future__ import annotations

from datetime import date
from typing import Any

from application.common import check_version, found, rule_book
from application.ports import Clock, IdGenerator, UnitOfWorkFactory
from application.unit_of_work import UnitOfWork
from domain.calendar import Closure, ensure_some_day_open
from domain.errors import (
    BookNotFound,
    ClosedDayNotFound,
    CodeAlreadyExists,
    CopyNotFound,
    ItemTypeNotFound,
    ItemTypeRetired,
    MemberCategoryNotFound,
    MemberCategoryRetired,
    MemberNotFound,
    RuleConflict,
    RuleNotFound,
)
from domain.events import CirculationRulesChanged, ItemTypeAssigned
from domain.policy import Policy
from domain.rules import (
    DEFAULT_RULE_ID,
    CirculationRule,
    Criteria,
    ItemType,
    MemberCategory,
    Resolution,
    clean_code,
    ensure_distinct,
)
from domain.values import UNSET, Unset


class CirculationRules:
    def __init__(
        self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator, policy: Policy
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._policy = policy

    # --- member categories -----------------------------------------------------------------

    def list_categories(self) -> list[MemberCategory]:
        with self._uow().reading() as uow:
            return uow.member_categories.all()

    def get_category(self, code: str) -> MemberCategory:
        with self._uow().reading() as uow:
            return found(uow.member_categories.get(code), MemberCategoryNotFound, code)

    def create_category(
        self,
        code: str,
        name: str,
        *,
        loan_limit: int | None = None,
        debt_limit_cents: int | None = None,
    ) -> MemberCategory:
        category = MemberCategory.create(
            code=code,
            name=name,
            loan_limit=loan_limit,
            debt_limit_cents=debt_limit_cents,
            now=self._clock.now(),
        )
        with self._uow() as uow:
            if uow.member_categories.get(category.code) is not None:
                raise CodeAlreadyExists(f"category {category.code} exists", code=category.code)
            uow.member_categories.add(category)
            self._commit(uow, "member_category", category.code)
            return category

    def change_category(
        self,
        code: str,
        expected_version: int | None = None,
        *,
        name: str | Unset = UNSET,
        loan_limit: int | Unset | None = UNSET,
        debt_limit_cents: int | Unset | None = UNSET,
    ) -> MemberCategory:
        with self._uow() as uow:
            category = found(uow.member_categories.get(code), MemberCategoryNotFound, code)
            check_version(category, expected_version)
            category.revise(
                now=self._clock.now(),
                name=name,
                loan_limit=loan_limit,
                debt_limit_cents=debt_limit_cents,
            )
            self._commit(uow, "member_category", category.code)
            return category

    def retire_category(self, code: str, expected_version: int | None = None) -> MemberCategory:
        """No member joins it any more; its members and rules stay as they are."""
        with self._uow() as uow:
            category = found(uow.member_categories.get(code), MemberCategoryNotFound, code)
            check_version(category, expected_version)
            category.retire(self._clock.now())
            self._commit(uow, "member_category", category.code)
            return category

    # --- item types ------------------------------------------------------------------------

    def list_item_types(self) -> list[ItemType]:
        with self._uow().reading() as uow:
            return uow.item_types.all()

    def get_item_type(self, code: str) -> ItemType:
        with self._uow().reading() as uow:
            return found(uow.item_types.get(code), ItemTypeNotFound, code)

    def create_item_type(self, code: str, name: str) -> ItemType:
        item_type = ItemType.create(code=code, name=name, now=self._clock.now())
        with self._uow() as uow:
            if uow.item_types.get(item_type.code) is not None:
                raise CodeAlreadyExists(f"item type {item_type.code} exists", code=item_type.code)
            uow.item_types.add(item_type)
            self._commit(uow, "item_type", item_type.code)
            return item_type

    def change_item_type(
        self, code: str, expected_version: int | None = None, *, name: str | Unset = UNSET
    ) -> ItemType:
        with self._uow() as uow:
            item_type = found(uow.item_types.get(code), ItemTypeNotFound, code)
            check_version(item_type, expected_version)
            item_type.revise(now=self._clock.now(), name=name)
            self._commit(uow, "item_type", item_type.code)
            return item_type

    def retire_item_type(self, code: str, expected_version: int | None = None) -> ItemType:
        """No copy gets it any more; copies of it and its rules stay as they are."""
        with self._uow() as uow:
            item_type = found(uow.item_types.get(code), ItemTypeNotFound, code)
            check_version(item_type, expected_version)
            item_type.retire(self._clock.now())
            self._commit(uow, "item_type", item_type.code)
            return item_type

    # --- assigning them ----------------------------------------------------------------------

    def assign_category(
        self, member_id: str, code: str, expected_version: int | None = None
    ) -> None:
        with self._uow() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            check_version(member, expected_version)
            member.ensure_present()
            member.change_category(_current_category(uow, code).code, self._clock.now())
            self._commit(uow, "member", member.id)

    def assign_item_type(
        self, copy_id: str, code: str, expected_version: int | None = None
    ) -> None:
        """Loans already made keep the terms they were made under."""
        with self._uow() as uow:
            copy = found(uow.copies.get(copy_id), CopyNotFound, copy_id)
            check_version(copy, expected_version)
            now = self._clock.now()
            copy.change_item_type(_current_item_type(uow, code).code, now)
            uow.emit(ItemTypeAssigned(now, copy.book_id, copy.id, copy.item_type))
            uow.commit()

    def assign_book_item_type(
        self, book_id: str, code: str, expected_version: int | None = None
    ) -> None:
        """The type the book's new copies get; its existing copies keep theirs."""
        with self._uow() as uow:
            book = found(uow.books.get(book_id), BookNotFound, book_id)
            check_version(book, expected_version)
            now = self._clock.now()
            book.change_item_type(_current_item_type(uow, code).code, now)
            uow.emit(ItemTypeAssigned(now, book.id, None, book.item_type))
            uow.commit()

    # --- the library calendar ---------------------------------------------------------------

    def list_closures(self) -> list[Closure]:
        """Weekly closures, then single closed dates."""
        with self._uow().reading() as uow:
            return uow.closures.all()

    def close_on(self, day: date, note: str = "") -> Closure:
        """Close the library on ``day``. Loans already due that day keep their due date."""
        closure = Closure.on_date(id=self._ids.new_id(), day=day, note=note)
        return self._close(closure)

    def close_every(self, weekday: int, note: str = "") -> Closure:
        """Close the library every week on ``weekday`` (0 = Monday)."""
        closure = Closure.every(id=self._ids.new_id(), weekday=weekday, note=note)
        return self._close(closure)

    def _close(self, closure: Closure) -> Closure:
        with self._uow() as uow:
            existing = uow.closures.all()
            if any(
                (closure.day is not None and c.day == closure.day)
                or (closure.weekday is not None and c.weekday == closure.weekday)
                for c in existing
            ):
                raise RuleConflict(f"the library is already closed {closure.describes}")
            ensure_some_day_open([*existing, closure])
            uow.closures.add(closure)
            self._commit(uow, "closure", closure.id)
            return closure

    def reopen(self, closure_id: str, expected_version: int | None = None) -> None:
        with self._uow() as uow:
            closure = found(uow.closures.get(closure_id), ClosedDayNotFound, closure_id)
            check_version(closure, expected_version)
            uow.closures.remove(closure)
            self._commit(uow, "closure", closure.id)

    # --- the rules matrix --------------------------------------------------------------------

    def list_rules(self) -> list[CirculationRule]:
        """The default rule first, then the others from most to least specific."""
        with self._uow().reading() as uow:
            return rule_book(uow, self._policy).all_rules()

    def get_rule(self, rule_id: str) -> CirculationRule:
        with self._uow().reading() as uow:
            return self._rule(uow, rule_id)

    def create_rule(
        self, member_category: str | None, item_type: str | None, **terms: Any
    ) -> CirculationRule:
        """A rule for the pair (``None``: any); terms not given are the default rule's."""
        with self._uow() as uow:
            if member_category is not None:
                member_category = _current_category(uow, member_category).code
            if item_type is not None:
                item_type = _current_item_type(uow, item_type).code
            template = rule_book(uow, self._policy).default_rule.changed(**terms)
            rule = CirculationRule(
                id=self._ids.new_id(),
                member_category=member_category,
                item_type=item_type,
                **template.terms(),
            )
            if rule.is_default:
                raise RuleConflict("the default rule exists already; change it instead")
            ensure_distinct(uow.rules.all(), rule)
            uow.rules.add(rule)
            self._commit(uow, "rule", rule.id)
            return rule

    def change_rule(
        self, rule_id: str, expected_version: int | None = None, **terms: Any
    ) -> CirculationRule:
        """Change a rule's terms. Loans made under it keep their due dates; the default rule,
        changed for the first time, is stored and from then on no longer follows the
        ``CIRCULATE_*`` policy settings."""
        with self._uow() as uow:
            rule = self._rule(uow, rule_id)
            check_version(rule, expected_version)
            changed = rule.changed(**terms)
            if uow.rules.get(rule.id) is None:  # the default rule, until now from the settings
                uow.rules.add(changed)
                self._commit(uow, "rule", changed.id)
                return changed
            rule.apply(changed)
            self._commit(uow, "rule", rule.id)
            return rule

    def remove_rule(self, rule_id: str, expected_version: int | None = None) -> None:
        with self._uow() as uow:
            rule = self._rule(uow, rule_id)
            check_version(rule, expected_version)
            if rule.is_default:
                raise RuleConflict("the default rule cannot be removed; change it instead")
            uow.rules.remove(rule)
            self._commit(uow, "rule", rule.id)

    def resolve(self, member_id: str, copy_id: str) -> Resolution:
        """Which rule governs a loan of ``copy_id`` to ``member_id``, and why."""
        with self._uow().reading() as uow:
            member = found(uow.members.get(member_id), MemberNotFound, member_id)
            copy = found(uow.copies.get(copy_id), CopyNotFound, copy_id)
            criteria = Criteria(member_category=member.category, item_type=copy.item_type)
            return rule_book(uow, self._policy).resolve(criteria)

    def _commit(self, uow: UnitOfWork, subject_type: str, subject_id: str) -> None:
        """Commit a change to the rules, announcing it (cached answers that depend on the rules,
        such as whether a member could borrow a book, are dropped; the audit trail names what
        changed)."""
        uow.emit(CirculationRulesChanged(self._clock.now(), subject_type, subject_id))
        uow.commit()

    def _rule(self, uow: UnitOfWork, rule_id: str) -> CirculationRule:
        stored = uow.rules.get(rule_id)
        if stored is not None:
            return stored
        default = rule_book(uow, self._policy).default_rule
        if rule_id == DEFAULT_RULE_ID and default.id == DEFAULT_RULE_ID:
            return default
        raise RuleNotFound(rule_id)


def _current_category(uow: UnitOfWork, code: str) -> MemberCategory:
    category = found(
        uow.member_categories.get(clean_code("code", code)), MemberCategoryNotFound, code
    )
    if category.retired:
        raise MemberCategoryRetired(f"member category {code} is retired", code=code)
    return category


def _current_item_type(uow: UnitOfWork, code: str) -> ItemType:
    item_type = found(uow.item_types.get(clean_code("code", code)), ItemTypeNotFound, code)
    if item_type.retired:
        raise ItemTypeRetired(f"item type {code} is retired", code=code)
    return item_type
