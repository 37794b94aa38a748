"""Circulation rules as data: member categories, item types and the rules matrix.

A rule matches a (member category, item type) pair, either side possibly "any" (``None``), and
sets the terms of a loan of that kind. The most specific matching rule wins: more named
dimensions first; between rules naming as many, the earlier dimension in ``DIMENSIONS``
outranks the later (a rule for children's loans of anything beats one for anybody's DVDs). The
default rule (any, any) always exists, so every pair resolves.

``DIMENSIONS`` is the one list the lookup walks: a branch dimension joins by adding a field to
``CirculationRule`` and ``Criteria`` and its name here, nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

from domain.calendar import LibraryCalendar
from domain.errors import InvalidValue, RuleConflict
from domain.loans import started_days_late
from domain.policy import Policy
from domain.values import UNSET, Unset, clean_text, require_utc

DEFAULT_CATEGORY = "standard"
DEFAULT_ITEM_TYPE = "book"
DEFAULT_RULE_ID = "default"
ANY = "any"  # how "no value" reads in explanations and at the edges

DIMENSIONS: tuple[str, ...] = ("member_category", "item_type")

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_MAX = 1_000_000  # an upper bound on counts and cents that no real rule comes near
_MAX_DAYS = 3650


def clean_code(field_name: str, code: str) -> str:
    cleaned = code.strip().lower()
    if not _CODE.match(cleaned) or cleaned == ANY:
        raise InvalidValue(
            field_name,
            f"{field_name} must be 1-32 lower-case letters, digits, '-' or '_' (and not 'any')",
        )
    return cleaned


def _count(field_name: str, value: int | None, *, low: int = 0, high: int = _MAX) -> int | None:
    if value is not None and not low <= value <= high:
        raise InvalidValue(field_name, f"{field_name} must be between {low} and {high}")
    return value


@dataclass(slots=True, kw_only=True)
class MemberCategory:
    """A kind of member (adult, child, teacher...). ``None`` limits fall back to the library's
    defaults (``CIRCULATE_MAX_OPEN_LOANS`` and ``CIRCULATE_DEBT_LIMIT_CENTS``)."""

    code: str
    name: str
    loan_limit: int | None = None  # open loans of every type together
    debt_limit_cents: int | None = None  # debt at which borrowing and holding stop
    retired_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def id(self) -> str:
        return self.code

    @classmethod
    def create(
        cls,
        *,
        code: str,
        name: str,
        now: datetime,
        loan_limit: int | None = None,
        debt_limit_cents: int | None = None,
    ) -> MemberCategory:
        require_utc("now", now)
        return cls(
            code=clean_code("code", code),
            name=clean_text("name", name, max_length=100),
            loan_limit=_count("loan_limit", loan_limit),
            debt_limit_cents=_count("debt_limit_cents", debt_limit_cents),
            created_at=now,
            updated_at=now,
        )

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def revise(
        self,
        *,
        now: datetime,
        name: str | Unset = UNSET,
        loan_limit: int | Unset | None = UNSET,
        debt_limit_cents: int | Unset | None = UNSET,
    ) -> None:
        new = (
            self.name if isinstance(name, Unset) else clean_text("name", name, max_length=100),
            self.loan_limit if isinstance(loan_limit, Unset) else _count("loan_limit", loan_limit),
            self.debt_limit_cents
            if isinstance(debt_limit_cents, Unset)
            else _count("debt_limit_cents", debt_limit_cents),
        )
        if new != (self.name, self.loan_limit, self.debt_limit_cents):
            self.name, self.loan_limit, self.debt_limit_cents = new
            self.updated_at = now

    def retire(self, now: datetime) -> None:
        """No new member joins a retired category; those in it keep their terms."""
        if self.code == DEFAULT_CATEGORY:
            raise RuleConflict("the default member category cannot be retired", code=self.code)
        if self.retired_at is None:
            self.retired_at = self.updated_at = now


@dataclass(slots=True, kw_only=True)
class ItemType:
    """A kind of item (book, DVD, reference...)."""

    code: str
    name: str
    retired_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def id(self) -> str:
        return self.code

    @classmethod
    def create(cls, *, code: str, name: str, now: datetime) -> ItemType:
        require_utc("now", now)
        return cls(
            code=clean_code("code", code),
            name=clean_text("name", name, max_length=100),
            created_at=now,
            updated_at=now,
        )

    @property
    def retired(self) -> bool:
        return self.retired_at is not None

    def revise(self, *, now: datetime, name: str | Unset = UNSET) -> None:
        if not isinstance(name, Unset):
            cleaned = clean_text("name", name, max_length=100)
            if cleaned != self.name:
                self.name, self.updated_at = cleaned, now

    def retire(self, now: datetime) -> None:
        """No new copy gets a retired type; copies of it keep it."""
        if self.code == DEFAULT_ITEM_TYPE:
            raise RuleConflict("the default item type cannot be retired", code=self.code)
        if self.retired_at is None:
            self.retired_at = self.updated_at = now


# The terms a rule sets, with the names the API and the CLI use; see ``CirculationRule``.
TERMS: tuple[str, ...] = (
    "loan_days",
    "fixed_due_date",
    "max_loans",
    "max_renewals",
    "renew_too_soon_days",
    "renewal_days",
    "fine_per_day_cents",
    "grace_days",
    "fine_cap_cents",
    "holds_allowed",
    "max_holds",
    "pickup_window_days",
    "replacement_fee_cents",
    "processing_fee_cents",
)


@dataclass(slots=True, kw_only=True)
class CirculationRule:
    """The terms for loans of one (member category, item type) pair; ``None`` means any."""

    id: str
    member_category: str | None
    item_type: str | None
    loan_days: int | None  # None with a fixed due date
    fixed_due_date: date | None  # every loan falls due on this date (end of term, say)
    max_loans: int | None  # open loans of this item type; None: only the category's limit
    max_renewals: int
    renew_too_soon_days: int  # renewal opens this many days before the due date; 0: any time
    renewal_days: int  # a renewal pushes the due date this many days
    fine_per_day_cents: int
    grace_days: int  # returned within this many days late: no fine at all
    fine_cap_cents: int
    holds_allowed: bool
    max_holds: int
    pickup_window_days: int
    replacement_fee_cents: int  # the charge for a lost item
    processing_fee_cents: int = 0  # charged with it, for the work of replacing the item
    version: int = 1

    lookup_fields: ClassVar[tuple[str, ...]] = DIMENSIONS

    def __post_init__(self) -> None:
        for name in DIMENSIONS:
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, clean_code(name, value))
        if (self.loan_days is None) == (self.fixed_due_date is None):
            raise InvalidValue("loan_days", "give exactly one of loan_days and fixed_due_date")
        _count("loan_days", self.loan_days, low=1, high=_MAX_DAYS)
        _count("max_loans", self.max_loans)
        _count("max_renewals", self.max_renewals, high=100)
        _count("renew_too_soon_days", self.renew_too_soon_days, high=_MAX_DAYS)
        _count("renewal_days", self.renewal_days, low=1, high=_MAX_DAYS)
        _count("fine_per_day_cents", self.fine_per_day_cents)
        _count("grace_days", self.grace_days, high=_MAX_DAYS)
        _count("fine_cap_cents", self.fine_cap_cents)
        _count("max_holds", self.max_holds, high=1000)
        _count("pickup_window_days", self.pickup_window_days, low=1, high=365)
        _count("replacement_fee_cents", self.replacement_fee_cents)
        _count("processing_fee_cents", self.processing_fee_cents)
        if self.fine_cap_cents < self.fine_per_day_cents:
            raise InvalidValue(
                "fine_cap_cents", "fine_cap_cents must be at least one day's fine_per_day_cents"
            )
        if not self.holds_allowed and self.max_holds:
            raise InvalidValue("max_holds", "max_holds must be 0 when holds are not allowed")
        if self.loan_days is not None and self.renew_too_soon_days > self.loan_days:
            raise InvalidValue(
                "renew_too_soon_days", "renew_too_soon_days cannot exceed the loan period"
            )

    @classmethod
    def from_policy(cls, policy: Policy) -> CirculationRule:
        """The default rule a library has until it stores its own: the ``CIRCULATE_*`` policy
        settings, as they governed every loan before rules were data."""
        loan_days = max(1, policy.loan_period.days)
        return cls(
            id=DEFAULT_RULE_ID,
            member_category=None,
            item_type=None,
            loan_days=loan_days,
            fixed_due_date=None,
            max_loans=None,
            max_renewals=policy.max_renewals,
            renew_too_soon_days=0,
            renewal_days=loan_days,
            fine_per_day_cents=policy.fine_per_day_cents,
            grace_days=0,
            fine_cap_cents=max(policy.fine_cap_cents, policy.fine_per_day_cents),
            holds_allowed=policy.max_holds > 0,
            max_holds=policy.max_holds,
            pickup_window_days=max(1, policy.pickup_window.days),
            replacement_fee_cents=0,
            processing_fee_cents=0,
        )

    @property
    def is_default(self) -> bool:
        return all(getattr(self, name) is None for name in DIMENSIONS)

    @property
    def matches(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in DIMENSIONS}

    @property
    def specificity(self) -> tuple[int, tuple[bool, ...]]:
        named = tuple(getattr(self, name) is not None for name in DIMENSIONS)
        return (sum(named), named)

    # Loan terms, read by ``domain.loans`` (the same names ``Policy`` answers to).
    @property
    def loan_period(self) -> timedelta:
        return timedelta(days=self.loan_days or 0)

    @property
    def renewal_period(self) -> timedelta:
        return timedelta(days=self.renewal_days)

    @property
    def pickup_window(self) -> timedelta:
        return timedelta(days=self.pickup_window_days)

    def overdue_days(self, due_at: datetime, until: datetime) -> int:
        return started_days_late(due_at, until)

    def terms(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TERMS}

    def changed(self, **terms: Any) -> CirculationRule:
        """A validated copy with ``terms`` changed (unknown names refused)."""
        unknown = set(terms) - set(TERMS)
        if unknown:
            raise InvalidValue(sorted(unknown)[0], f"unknown rule term {sorted(unknown)[0]!r}")
        values = {**self.terms(), **terms}
        # A loan period and a fixed due date exclude each other: giving one clears the other.
        if terms.get("fixed_due_date") is not None and "loan_days" not in terms:
            values["loan_days"] = None
        if terms.get("loan_days") is not None and "fixed_due_date" not in terms:
            values["fixed_due_date"] = None
        return CirculationRule(
            id=self.id,
            member_category=self.member_category,
            item_type=self.item_type,
            version=self.version,
            **values,
        )

    def apply(self, other: CirculationRule) -> None:
        """Take ``other``'s terms (a validated change of this rule)."""
        for name in TERMS:
            setattr(self, name, getattr(other, name))


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a loan is looked up by."""

    member_category: str
    item_type: str

    def value(self, dimension: str) -> str:
        value: str = getattr(self, dimension)
        return value


@dataclass(frozen=True, slots=True)
class Resolution:
    """The rule that applies to ``criteria``, and why."""

    criteria: Criteria
    rule: CirculationRule
    candidates: tuple[CirculationRule, ...]  # every matching rule, most specific first

    @property
    def reason(self) -> str:
        def describe(rule: CirculationRule) -> str:
            return ", ".join(
                f"{name.replace('_', ' ')} {getattr(rule, name) or ANY}" for name in DIMENSIONS
            )

        if self.rule.is_default and len(self.candidates) == 1:
            return "no rule names this member category or item type: the default rule applies"
        others = len(self.candidates) - 1
        return (
            f"rule {self.rule.id} ({describe(self.rule)}) is the most specific of "
            f"{others + 1} matching rule(s); more named dimensions win, and a named "
            f"{DIMENSIONS[0].replace('_', ' ')} outranks a named "
            f"{DIMENSIONS[-1].replace('_', ' ')}"
        )


@dataclass(frozen=True, slots=True)
class CalendarTerms:
    """A rule's loan terms, with overdue days counted on the library calendar."""

    rule: CirculationRule
    calendar: LibraryCalendar

    @property
    def loan_period(self) -> timedelta:
        return self.rule.loan_period

    @property
    def renewal_period(self) -> timedelta:
        return self.rule.renewal_period

    @property
    def fine_per_day_cents(self) -> int:
        return self.rule.fine_per_day_cents

    @property
    def fine_cap_cents(self) -> int:
        return self.rule.fine_cap_cents

    @property
    def grace_days(self) -> int:
        return self.rule.grace_days

    def overdue_days(self, due_at: datetime, until: datetime) -> int:
        return self.calendar.open_days_late(due_at, until)


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Every rule and member category in force, and the library calendar, with the library's
    defaults behind them."""

    rules: tuple[CirculationRule, ...]
    categories: Mapping[str, MemberCategory] = field(default_factory=dict)
    defaults: Policy = field(default_factory=Policy)
    calendar: LibraryCalendar = field(default_factory=LibraryCalendar)
    # ``rule_for``'s answers: the rule book never changes, and every decision asks it.
    _rule_for: dict[tuple[str, str], CirculationRule] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def of(
        cls,
        rules: Iterable[CirculationRule],
        categories: Iterable[MemberCategory],
        defaults: Policy,
        calendar: LibraryCalendar | None = None,
    ) -> RuleBook:
        return cls(
            tuple(rules),
            {c.code: c for c in categories},
            defaults,
            calendar or LibraryCalendar.of(defaults.time_zone),
        )

    @classmethod
    def from_policy(cls, policy: Policy) -> RuleBook:
        """Only the default rule and default limits: circulation as the policy settings say."""
        return cls.of((), (), policy)

    def terms(self, member_category: str, item_type: str) -> CalendarTerms:
        """The loan terms for the pair, overdue days counted on the calendar."""
        return CalendarTerms(self.rule_for(member_category, item_type), self.calendar)

    @property
    def default_rule(self) -> CirculationRule:
        stored = next((r for r in self.rules if r.is_default), None)
        return stored or CirculationRule.from_policy(self.defaults)

    def all_rules(self) -> list[CirculationRule]:
        """The default rule first, then the others from most to least specific."""
        others = [r for r in self.rules if not r.is_default]
        others.sort(key=lambda r: (r.specificity, *(getattr(r, n) or "" for n in DIMENSIONS)))
        others.reverse()
        return [self.default_rule, *others]

    def resolve(self, criteria: Criteria) -> Resolution:
        """The most specific rule matching ``criteria`` (the default rule matches everything)."""
        candidates = [
            rule
            for rule in self.all_rules()
            if all(getattr(rule, name) in (None, criteria.value(name)) for name in DIMENSIONS)
        ]
        candidates.sort(key=lambda rule: rule.specificity, reverse=True)
        return Resolution(criteria, candidates[0], tuple(candidates))

    def rule_for(self, member_category: str, item_type: str) -> CirculationRule:
        pair = (member_category, item_type)
        found = self._rule_for.get(pair)
        if found is None:
            criteria = Criteria(member_category=member_category, item_type=item_type)
            found = self._rule_for[pair] = self.resolve(criteria).rule
        return found

    def due_at(self, rule: CirculationRule, now: datetime) -> datetime:
        """When a loan made ``now`` under ``rule`` falls due: the end of a local open day."""
        if rule.fixed_due_date is not None:
            due = self.calendar.due_on(rule.fixed_due_date)
            # A fixed date already past (a term that ended) lends for a day, not for nothing.
            return due if due > now else self.calendar.due_after(now, 1)
        return self.calendar.due_after(now, rule.loan_days or 1)

    def renewed_due_at(self, rule: CirculationRule, due_at: datetime) -> datetime:
        """A renewal's new due date: ``renewal_days`` local days after the old one."""
        return self.calendar.due_after(due_at, rule.renewal_days)

    def loan_limit(self, category: str) -> int:
        known = self.categories.get(category)
        limit = known.loan_limit if known is not None else None
        return self.defaults.max_open_loans if limit is None else limit

    def debt_limit_cents(self, category: str) -> int:
        known = self.categories.get(category)
        limit = known.debt_limit_cents if known is not None else None
        return self.defaults.debt_limit_cents if limit is None else limit


# What a fresh library starts with (migration 0006 writes the same rows): every member in one
# category and every copy of one type, each without limits of its own, so the default rule (the
# ``CIRCULATE_*`` policy settings) governs everything as it did before rules were data.
SEEDED_AT = datetime(2026, 12, 4, tzinfo=UTC)


def seeded_categories() -> list[MemberCategory]:
    return [MemberCategory.create(code=DEFAULT_CATEGORY, name="Standard", now=SEEDED_AT)]


def seeded_item_types() -> list[ItemType]:
    return [ItemType.create(code=DEFAULT_ITEM_TYPE, name="Book", now=SEEDED_AT)]


def ensure_distinct(rules: Iterable[CirculationRule], candidate: CirculationRule) -> None:
    """Refuse a second rule for the same pair."""
    for rule in rules:
        if rule.id != candidate.id and rule.matches == candidate.matches:
            raise RuleConflict(
                f"rule {rule.id} already covers this pair",
                rule_id=rule.id,
                **{name: getattr(candidate, name) or ANY for name in DIMENSIONS},
            )
