"""The library calendar: due at the end of a local open day, fines on open days only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from domain.calendar import Closure, LibraryCalendar, ensure_some_day_open, time_zone
from domain.errors import InvalidValue, RuleConflict
from domain.loans import overdue_fine
from domain.policy import Policy
from domain.rules import CirculationRule, MemberCategory, RuleBook

PARIS = "Europe/Paris"
MONDAY = 0


def closures(*days: date, weekdays: tuple[int, ...] = ()) -> list[Closure]:
    return [Closure.on_date(id=f"d{i}", day=d) for i, d in enumerate(days)] + [
        Closure.every(id=f"w{w}", weekday=w) for w in weekdays
    ]


class TestDueDates:
    def test_due_at_the_end_of_the_local_day(self) -> None:
        calendar = LibraryCalendar.of(PARIS)
        # 13:18 UTC on 4 December is 14:18 in Paris; 21 days later, 23:59:59 Paris is 22:59:59Z.
        due = calendar.due_after(datetime(2030, 12, 4, 13, 18, tzinfo=UTC), 21)
        assert due == datetime(2030, 12, 25, 22, 59, 59, tzinfo=UTC)

    def test_a_closed_day_moves_the_due_date_to_the_next_open_day(self) -> None:
        calendar = LibraryCalendar.of(PARIS, closures(date(2030, 12, 25), date(2030, 12, 26)))
        due = calendar.due_after(datetime(2030, 12, 4, 13, 18, tzinfo=UTC), 21)
        assert due == datetime(2030, 12, 27, 22, 59, 59, tzinfo=UTC)

    def test_weekly_closures(self) -> None:
        calendar = LibraryCalendar.of("UTC", closures(weekdays=(5, 6)))
        friday = datetime(2030, 1, 4, 10, 0, tzinfo=UTC)
        assert calendar.due_after(friday, 1) == datetime(2030, 1, 7, 23, 59, 59, tzinfo=UTC)

    def test_the_local_date_decides_across_midnight_utc(self) -> None:
        # 23:30 UTC on 1 January is already 2 January in Paris.
        calendar = LibraryCalendar.of(PARIS)
        due = calendar.due_after(datetime(2030, 1, 1, 23, 30, tzinfo=UTC), 1)
        assert due == datetime(2030, 1, 3, 22, 59, 59, tzinfo=UTC)

    def test_summer_time_ends_an_hour_earlier_in_utc(self) -> None:
        calendar = LibraryCalendar.of(PARIS)
        assert calendar.end_of_day(date(2030, 7, 1)) == datetime(2030, 7, 1, 21, 59, 59, tzinfo=UTC)

    def test_every_weekday_closed_is_refused(self) -> None:
        with pytest.raises(RuleConflict):
            ensure_some_day_open(closures(weekdays=tuple(range(7))))
        ensure_some_day_open(closures(weekdays=tuple(range(6))))

    def test_unknown_time_zones_and_weekdays(self) -> None:
        with pytest.raises(InvalidValue):
            time_zone("Mars/Olympus_Mons")
        with pytest.raises(InvalidValue):
            Closure.every(id="x", weekday=7)


class TestOpenDaysLate:
    calendar = LibraryCalendar.of("UTC", closures(date(2030, 1, 7), weekdays=(6,)))
    due = datetime(2030, 1, 4, 23, 59, 59, tzinfo=UTC)  # a Friday

    @pytest.mark.parametrize(
        ("returned", "days"),
        [
            (datetime(2030, 1, 4, 20, 0, tzinfo=UTC), 0),  # on time
            (datetime(2030, 1, 5, 0, 0, 30, tzinfo=UTC), 1),  # Saturday, just after midnight
            (datetime(2030, 1, 6, 12, 0, tzinfo=UTC), 1),  # Sunday: closed, not counted
            (datetime(2030, 1, 7, 12, 0, tzinfo=UTC), 1),  # Monday: a closed date
            (datetime(2030, 1, 8, 9, 0, tzinfo=UTC), 2),  # Tuesday
        ],
    )
    def test_only_open_days_count(self, returned: datetime, days: int) -> None:
        assert self.calendar.open_days_late(self.due, returned) == days


def test_the_worked_example_a_dvd_for_a_child_on_a_friday_before_a_closed_monday() -> None:
    """The example in docs/rules.md, step by step."""
    policy = Policy(time_zone=PARIS)
    default = CirculationRule.from_policy(policy)
    dvd = replace(default, id="r-dvd", item_type="dvd").changed(
        loan_days=3, renewal_days=3, fine_per_day_cents=50, fine_cap_cents=500
    )
    child_dvd = replace(default, id="r-child-dvd", member_category="child", item_type="dvd")
    child_dvd = child_dvd.changed(loan_days=3, fine_per_day_cents=10, fine_cap_cents=200)
    child = MemberCategory.create(
        code="child", name="Child", loan_limit=3, now=datetime(2030, 1, 1, tzinfo=UTC)
    )
    calendar = LibraryCalendar.of(
        PARIS, [Closure.every(id="sun", weekday=6), Closure.on_date(id="m", day=date(2030, 3, 25))]
    )
    book = RuleBook.of([dvd, child_dvd], [child], policy, calendar)

    # Friday 22 March 2030, 16:40 in Paris (15:40 UTC): three days on is Monday 25, closed.
    lent = datetime(2030, 3, 22, 15, 40, tzinfo=UTC)
    rule = book.rule_for("child", "dvd")
    assert rule.id == "r-child-dvd"
    due = book.due_at(rule, lent)
    assert due == datetime(2030, 3, 26, 22, 59, 59, tzinfo=UTC)  # Tuesday 23:59:59 Paris

    # Back on Thursday morning: Wednesday and Thursday are open days late (20 cents).
    returned = datetime(2030, 3, 28, 8, 0, tzinfo=UTC)
    assert overdue_fine(due, returned, book.terms("child", "dvd")) == 20
    # An adult pays the (any, dvd) rule's 50 a day for the same two days.
    assert overdue_fine(due, returned, book.terms("standard", "dvd")) == 100
    assert book.loan_limit("child") == 3
