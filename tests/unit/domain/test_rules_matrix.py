"""The rules matrix: validation, and the most specific match winning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import InvalidValue, RuleConflict
from domain.policy import Policy
from domain.rules import (
    DEFAULT_CATEGORY,
    DEFAULT_ITEM_TYPE,
    CirculationRule,
    Criteria,
    ItemType,
    MemberCategory,
    RuleBook,
    ensure_distinct,
)

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
POLICY = Policy()
DEFAULT = CirculationRule.from_policy(POLICY)


def rule(
    rule_id: str, category: str | None, item_type: str | None, **terms: object
) -> CirculationRule:
    made = replace(DEFAULT, id=rule_id, member_category=category, item_type=item_type)
    return made.changed(**terms)


class TestDefaultRule:
    def test_the_policy_settings_are_the_default_rule(self) -> None:
        policy = Policy(
            loan_period=timedelta(days=14),
            max_renewals=1,
            fine_per_day_cents=10,
            fine_cap_cents=300,
            max_holds=4,
            pickup_window=timedelta(days=5),
        )
        made = CirculationRule.from_policy(policy)
        assert made.is_default
        assert (made.loan_days, made.renewal_days, made.max_renewals) == (14, 14, 1)
        assert (made.fine_per_day_cents, made.fine_cap_cents, made.grace_days) == (10, 300, 0)
        assert (made.holds_allowed, made.max_holds, made.pickup_window_days) == (True, 4, 5)

    def test_a_stored_default_rule_replaces_the_settings(self) -> None:
        stored = rule("default", None, None, loan_days=28)
        assert RuleBook.of([stored], [], POLICY).default_rule is stored
        assert RuleBook.from_policy(POLICY).default_rule == DEFAULT


class TestResolve:
    book = RuleBook.of(
        [
            rule("r-dvd", None, "dvd", loan_days=7),
            rule("r-child", "child", None, loan_days=14),
            rule("r-child-dvd", "child", "dvd", loan_days=3),
            rule("r-teacher-ref", "teacher", "reference", loan_days=1),
        ],
        [],
        POLICY,
    )

    @pytest.mark.parametrize(
        ("category", "item_type", "expected"),
        [
            ("child", "dvd", "r-child-dvd"),  # both named beats one named
            ("adult", "dvd", "r-dvd"),
            ("child", "book", "r-child"),
            ("adult", "book", "default"),
            ("teacher", "dvd", "r-dvd"),
            ("teacher", "reference", "r-teacher-ref"),
        ],
    )
    def test_the_most_specific_match_wins(
        self, category: str, item_type: str, expected: str
    ) -> None:
        assert self.book.rule_for(category, item_type).id == expected

    def test_a_named_category_outranks_a_named_item_type(self) -> None:
        book = RuleBook.of([rule("r-dvd", None, "dvd"), rule("r-child", "child", None)], [], POLICY)
        resolution = book.resolve(Criteria(member_category="child", item_type="dvd"))
        assert resolution.rule.id == "r-child"
        assert [r.id for r in resolution.candidates] == ["r-child", "r-dvd", "default"]
        assert "most specific of 3 matching rule(s)" in resolution.reason

    def test_the_default_explains_itself(self) -> None:
        resolution = self.book.resolve(Criteria(member_category="adult", item_type="book"))
        assert resolution.rule.is_default
        assert resolution.reason.startswith("no rule names")

    def test_the_default_rule_is_listed_first(self) -> None:
        assert self.book.all_rules()[0].id == "default"


class TestValidation:
    def test_a_loan_period_or_a_fixed_date_not_both_nor_neither(self) -> None:
        with pytest.raises(InvalidValue) as refused:
            DEFAULT.changed(loan_days=None)
        assert refused.value.field == "loan_days"
        fixed = DEFAULT.changed(fixed_due_date=date(2030, 6, 30))
        assert fixed.loan_days is None
        assert fixed.changed(loan_days=10).fixed_due_date is None

    @pytest.mark.parametrize(
        ("terms", "field"),
        [
            ({"fine_cap_cents": 10, "fine_per_day_cents": 25}, "fine_cap_cents"),
            ({"holds_allowed": False, "max_holds": 3}, "max_holds"),
            ({"loan_days": 7, "renew_too_soon_days": 8}, "renew_too_soon_days"),
            ({"max_renewals": -1}, "max_renewals"),
            ({"pickup_window_days": 0}, "pickup_window_days"),
        ],
    )
    def test_contradictory_or_impossible_values(self, terms: dict[str, object], field: str) -> None:
        with pytest.raises(InvalidValue) as refused:
            DEFAULT.changed(**terms)
        assert refused.value.field == field

    def test_unknown_terms_are_refused(self) -> None:
        with pytest.raises(InvalidValue):
            DEFAULT.changed(colour="red")

    def test_two_rules_for_one_pair(self) -> None:
        first = rule("r1", "child", "dvd")
        with pytest.raises(RuleConflict) as refused:
            ensure_distinct([first], rule("r2", "child", "dvd"))
        assert refused.value.code == "CIRCULATION_RULE_CONFLICT"
        ensure_distinct([first], rule("r1", "child", "dvd"))  # itself, changed
        ensure_distinct([first], rule("r3", "child", None))

    def test_codes(self) -> None:
        assert MemberCategory.create(code=" Child ", name="Child", now=NOW).code == "child"
        for bad in ("", "any", "with space", "x" * 33):
            with pytest.raises(InvalidValue):
                ItemType.create(code=bad, name="x", now=NOW)


class TestCategoryLimits:
    def test_none_falls_back_to_the_policy(self) -> None:
        child = MemberCategory.create(
            code="child", name="Child", loan_limit=2, debt_limit_cents=100, now=NOW
        )
        open_ended = MemberCategory.create(code="adult", name="Adult", now=NOW)
        book = RuleBook.of([], [child, open_ended], POLICY)
        assert (book.loan_limit("child"), book.debt_limit_cents("child")) == (2, 100)
        assert book.loan_limit("adult") == POLICY.max_open_loans
        assert book.debt_limit_cents("unknown") == POLICY.debt_limit_cents

    def test_the_defaults_cannot_be_retired(self) -> None:
        with pytest.raises(RuleConflict):
            MemberCategory.create(code=DEFAULT_CATEGORY, name="S", now=NOW).retire(NOW)
        with pytest.raises(RuleConflict):
            ItemType.create(code=DEFAULT_ITEM_TYPE, name="B", now=NOW).retire(NOW)


class TestDueDates:
    def test_a_fixed_due_date_ends_that_day(self) -> None:
        fixed = DEFAULT.changed(fixed_due_date=date(2030, 6, 30))
        due = RuleBook.from_policy(POLICY).due_at(fixed, NOW)
        assert due == datetime(2030, 6, 30, 23, 59, 59, tzinfo=UTC)

    def test_a_passed_fixed_due_date_lends_for_a_day(self) -> None:
        fixed = DEFAULT.changed(fixed_due_date=date(2030, 5, 1))
        assert RuleBook.from_policy(POLICY).due_at(fixed, NOW) == datetime(
            2030, 6, 2, 23, 59, 59, tzinfo=UTC
        )
