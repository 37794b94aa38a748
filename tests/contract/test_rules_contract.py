"""Member categories, item types and circulation rules, stored alike by every adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.calendar import Closure
from domain.errors import RuleConflict
from domain.rules import (
    DEFAULT_CATEGORY,
    DEFAULT_ITEM_TYPE,
    CirculationRule,
    ItemType,
    MemberCategory,
)
from tests.contract.builders import DAY, POLICY, T0, book, copy, member, new_id, store
from tests.contract.conftest import UowFactory


def rule(category: str | None, item_type: str | None, **terms: object) -> CirculationRule:
    base = replace(CirculationRule.from_policy(POLICY), id=new_id())
    made = base.changed(**terms)
    made.member_category, made.item_type = category, item_type
    return made


def test_a_fresh_store_has_the_seeded_category_and_item_type(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        assert [c.code for c in uow.member_categories.all()] == [DEFAULT_CATEGORY]
        assert [t.code for t in uow.item_types.all()] == [DEFAULT_ITEM_TYPE]
        assert uow.rules.all() == []


def test_categories_and_item_types_round_trip_and_change(new_uow: UowFactory) -> None:
    child = MemberCategory.create(
        code="child", name="Child", loan_limit=3, debt_limit_cents=200, now=T0
    )
    dvd = ItemType.create(code="dvd", name="DVD", now=T0)
    store(new_uow, child, dvd)
    with new_uow() as uow:
        assert uow.member_categories.get("child") == child
        assert uow.item_types.get("dvd") == dvd
        assert [c.code for c in uow.member_categories.all()] == ["child", DEFAULT_CATEGORY]
        stored = uow.member_categories.get("child")
        assert stored is not None
        stored.revise(now=T0 + DAY, loan_limit=None)
        stored.retire(T0 + DAY)
        uow.commit()
    with new_uow() as uow:
        again = uow.member_categories.get("child")
        assert again is not None
        assert (again.loan_limit, again.retired_at, again.version) == (None, T0 + DAY, 2)


def test_rules_round_trip_with_any_and_a_fixed_due_date(new_uow: UowFactory) -> None:
    dvds = rule(None, "dvd", loan_days=7, max_loans=2, grace_days=1)
    term = rule("child", None, fixed_due_date=date(2030, 6, 30), holds_allowed=False, max_holds=0)
    store(new_uow, dvds, term)
    with new_uow() as uow:
        assert uow.rules.get(dvds.id) == dvds
        assert uow.rules.get(term.id) == term
        assert {r.id for r in uow.rules.all()} == {dvds.id, term.id}
        stored = uow.rules.get(dvds.id)
        assert stored is not None
        uow.rules.remove(stored)
        uow.commit()
    with new_uow() as uow:
        assert [r.id for r in uow.rules.all()] == [term.id]


def test_two_rules_for_one_pair_are_refused(new_uow: UowFactory) -> None:
    store(new_uow, rule("child", "dvd"))
    with pytest.raises(RuleConflict):
        store(new_uow, rule("child", "dvd", loan_days=3))
    store(new_uow, rule(None, "dvd"), rule("child", None), rule(None, None))
    with pytest.raises(RuleConflict):
        store(new_uow, rule(None, None))


def test_codes_on_members_copies_loans_and_holds_round_trip(new_uow: UowFactory) -> None:
    b = book()
    b.item_type = "dvd"
    c = copy(b)
    c.item_type = "dvd"
    m = member()
    m.category = "child"
    store(new_uow, ItemType.create(code="dvd", name="DVD", now=T0), b, c, m)
    with new_uow() as uow:
        stored_book, stored_copy = uow.books.get(b.id), uow.copies.get(c.id)
        stored_member = uow.members.get(m.id)
        assert stored_book is not None
        assert stored_copy is not None
        assert stored_member is not None
        assert (stored_book.item_type, stored_copy.item_type) == ("dvd", "dvd")
        assert stored_member.category == "child"


def test_closures_round_trip_in_order_and_each_day_once(new_uow: UowFactory) -> None:
    christmas = Closure.on_date(id=new_id(), day=date(2030, 12, 25), note="Christmas")
    new_year = Closure.on_date(id=new_id(), day=date(2030, 1, 1))
    sunday = Closure.every(id=new_id(), weekday=6, note="Sunday")
    store(new_uow, christmas, sunday, new_year)
    with new_uow() as uow:
        assert uow.closures.all() == [sunday, new_year, christmas]
    with pytest.raises(RuleConflict):
        store(new_uow, Closure.on_date(id=new_id(), day=date(2030, 12, 25)))
    with pytest.raises(RuleConflict):
        store(new_uow, Closure.every(id=new_id(), weekday=6))
    with new_uow() as uow:
        stored = uow.closures.get(sunday.id)
        assert stored is not None
        uow.closures.remove(stored)
        uow.commit()
    with new_uow() as uow:
        assert [c.id for c in uow.closures.all()] == [new_year.id, christmas.id]


def test_the_rules_in_force_are_what_the_three_repositories_list(new_uow: UowFactory) -> None:
    child = MemberCategory.create(
        code="child", name="Child", loan_limit=3, debt_limit_cents=200, now=T0
    )
    rules = [
        rule(None, "dvd", loan_days=7, max_loans=2, grace_days=1),
        rule("child", None, fixed_due_date=date(2030, 6, 30), holds_allowed=False, max_holds=0),
        rule(None, None),
    ]
    closures = [
        Closure.on_date(id=new_id(), day=date(2030, 12, 25), note="Christmas"),
        Closure.every(id=new_id(), weekday=6, note="Sunday"),
        Closure.on_date(id=new_id(), day=date(2030, 1, 1)),
        Closure.every(id=new_id(), weekday=0),
    ]
    store(new_uow, child, *rules, *closures)
    with new_uow() as uow:
        in_force = uow.rules_in_force()
        # The same entities, in the same order, as each repository's own list.
        assert in_force.rules == uow.rules.all()
        assert in_force.categories == uow.member_categories.all()
        assert in_force.closures == uow.closures.all()
        assert [c.weekday for c in in_force.closures[:2]] == [0, 6]
        assert [c.day for c in in_force.closures[2:]] == [date(2030, 1, 1), date(2030, 12, 25)]
        # A change goes through the repository, and the next unit of work decides by it.
        stored = uow.member_categories.get("child")
        assert stored is not None
        stored.revise(now=T0 + DAY, loan_limit=5)
        uow.commit()
    with new_uow() as uow:
        again = uow.rules_in_force().categories
        assert [(c.code, c.loan_limit, c.version) for c in again if c.code == "child"] == [
            ("child", 5, 2)
        ]


def test_every_change_to_the_rules_is_in_force_at_the_next_decision(
    new_uow: UowFactory,
) -> None:
    dvd = rule(None, "dvd", loan_days=7)
    sunday = Closure.every(id=new_id(), weekday=6, note="Sunday")
    store(new_uow, dvd, sunday)
    b = book("9780306406157")
    store(new_uow, b)
    with new_uow() as uow:
        assert uow.rules_in_force().rules == [dvd]
    with new_uow() as uow:  # changed, removed, added: each seen by both reads
        changed = uow.rules.get(dvd.id)
        assert changed is not None
        changed.apply(changed.changed(loan_days=10))
        closure = uow.closures.get(sunday.id)
        assert closure is not None
        uow.closures.remove(closure)
        uow.closures.add(Closure.every(id=new_id(), weekday=5))
        uow.commit()
    for together in (False, True):
        with new_uow() as uow:
            in_force = uow.circulation_and_rules(b.id)[1] if together else uow.rules_in_force()
            assert [(r.id, r.loan_days, r.version) for r in in_force.rules] == [(dvd.id, 10, 2)]
            assert [c.weekday for c in in_force.closures] == [5]
    with new_uow() as uow:  # and back as it was: the same content, in force again
        back = uow.rules.get(dvd.id)
        assert back is not None
        back.apply(back.changed(loan_days=7))
        uow.commit()
    with new_uow() as uow:
        assert [(r.loan_days, r.version) for r in uow.circulation_and_rules(b.id)[1].rules] == [
            (7, 3)
        ]


def test_no_rules_in_force_but_the_seeded_category(new_uow: UowFactory) -> None:
    with new_uow() as uow:
        in_force = uow.rules_in_force()
        assert (in_force.rules, in_force.closures) == ([], [])
        assert [c.code for c in in_force.categories] == [DEFAULT_CATEGORY]
