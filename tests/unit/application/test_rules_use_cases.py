"""Member categories, item types and the rules matrix, through the use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import (
    CodeAlreadyExists,
    HoldsNotAllowed,
    ItemTypeLoanLimitReached,
    ItemTypeNotFound,
    ItemTypeRetired,
    LoanLimitReached,
    MemberCategoryRetired,
    RuleConflict,
    RuleNotFound,
    VersionMismatch,
)
from domain.rules import DEFAULT_RULE_ID
from tests.unit.support import DAY, App, end_of_day


@pytest.fixture
def library(app: App) -> App:
    """A children's category and a DVD type, with rules for them."""
    app.rules.create_category("child", "Child", loan_limit=2, debt_limit_cents=100)
    app.rules.create_item_type("dvd", "DVD")
    app.rules.create_rule(None, "dvd", loan_days=7, renewal_days=7, max_loans=1)
    app.rules.create_rule("child", None, loan_days=14, holds_allowed=False, max_holds=0)
    return app


def dvd(app: App, copies: int = 1) -> str:
    book = app.add_book(copies=copies)
    app.rules.assign_book_item_type(book.book.id, "dvd")
    for copy in book.copies:
        app.rules.assign_item_type(copy.id, "dvd")
    return book.book.id


def child(app: App) -> str:
    member = app.add_member()
    app.rules.assign_category(member.id, "child")
    return member.id


def test_a_fresh_library_has_one_category_one_type_and_the_default_rule(app: App) -> None:
    assert [c.code for c in app.rules.list_categories()] == ["standard"]
    assert [t.code for t in app.rules.list_item_types()] == ["book"]
    rules = app.rules.list_rules()
    assert [r.id for r in rules] == [DEFAULT_RULE_ID]
    assert rules[0].loan_period == app.policy.loan_period


def test_the_rule_for_the_pair_sets_the_loan_period(library: App) -> None:
    app = library
    adult, kid = app.add_member().id, child(app)
    on_dvd = app.circulation.borrow(adult, book_id=dvd(app))
    on_book = app.circulation.borrow(kid, book_id=app.add_book().book.id)
    assert on_dvd.due_at == end_of_day(app.now() + 7 * DAY)
    assert on_dvd.item_type == "dvd"
    assert on_book.due_at == end_of_day(app.now() + 14 * DAY)


def test_a_child_gets_the_category_rule_for_a_dvd_too(library: App) -> None:
    # (child, any) and (any, dvd) both match: the named category outranks the named type.
    app = library
    kid = child(app)
    copy_id = app.add_book().copies[0].id
    app.rules.assign_item_type(copy_id, "dvd")
    resolution = app.rules.resolve(kid, copy_id)
    assert resolution.rule.member_category == "child"
    assert [(r.member_category, r.item_type) for r in resolution.candidates] == [
        ("child", None),
        (None, "dvd"),
        (None, None),
    ]


def test_the_item_type_limit_and_the_category_limit(library: App) -> None:
    app = library
    adult = app.add_member().id
    app.circulation.borrow(adult, book_id=dvd(app))
    with pytest.raises(ItemTypeLoanLimitReached) as refused:
        app.circulation.borrow(adult, book_id=dvd(app))
    assert refused.value.details == {"item_type": "dvd", "limit": 1}
    app.circulation.borrow(adult, book_id=app.add_book().book.id)  # a book is another type

    kid = child(app)
    app.circulation.borrow(kid, book_id=app.add_book().book.id)
    app.circulation.borrow(kid, book_id=app.add_book().book.id)
    with pytest.raises(LoanLimitReached) as over:
        app.circulation.borrow(kid, book_id=app.add_book().book.id)
    assert over.value.details == {"limit": 2}


def test_holds_not_allowed_by_the_rule(library: App) -> None:
    app = library
    book = app.add_book()
    app.circulation.borrow(app.add_member().id, book_id=book.book.id)
    with pytest.raises(HoldsNotAllowed) as refused:
        app.circulation.place_hold(child(app), book.book.id)
    assert refused.value.code == "HOLDS_NOT_ALLOWED"


def test_changing_a_rule_never_moves_a_due_date(library: App) -> None:
    app = library
    loan = app.circulation.borrow(app.add_member().id, book_id=dvd(app))
    dvd_rule = next(r for r in app.rules.list_rules() if r.item_type == "dvd")
    app.rules.change_rule(dvd_rule.id, dvd_rule.version, loan_days=2)
    assert app.circulation.get_loan(loan.id).due_at == loan.due_at
    assert app.rules.get_rule(dvd_rule.id).loan_days == 2


def test_changing_the_default_rule_stores_it(app: App) -> None:
    changed = app.rules.change_rule(DEFAULT_RULE_ID, loan_days=28, fine_per_day_cents=10)
    assert (changed.loan_days, changed.fine_per_day_cents) == (28, 10)
    loan = app.circulation.borrow(app.add_member().id, book_id=app.add_book().book.id)
    assert loan.due_at == end_of_day(app.now() + 28 * DAY)
    with pytest.raises(RuleConflict):
        app.rules.remove_rule(DEFAULT_RULE_ID)
    with pytest.raises(RuleConflict):
        app.rules.create_rule(None, None)


def test_fixed_due_dates(app: App) -> None:
    end_of_term = (app.now() + 40 * DAY).date()
    app.rules.change_rule(DEFAULT_RULE_ID, fixed_due_date=end_of_term)
    loan = app.circulation.borrow(app.add_member().id, book_id=app.add_book().book.id)
    assert loan.due_at.date() == end_of_term
    assert (loan.due_at.hour, loan.due_at.minute) == (23, 59)


def test_one_rule_per_pair_and_codes_must_exist(library: App) -> None:
    app = library
    with pytest.raises(RuleConflict):
        app.rules.create_rule(None, "dvd")
    with pytest.raises(ItemTypeNotFound):
        app.rules.create_rule(None, "vinyl")
    with pytest.raises(CodeAlreadyExists):
        app.rules.create_item_type("dvd", "Again")
    with pytest.raises(RuleNotFound):
        app.rules.get_rule("nope")


def test_retired_codes_are_not_assigned_again(library: App) -> None:
    app = library
    kid = child(app)
    app.rules.retire_category("child")
    app.rules.retire_item_type("dvd")
    with pytest.raises(MemberCategoryRetired):
        app.rules.assign_category(app.add_member().id, "child")
    with pytest.raises(ItemTypeRetired):
        app.rules.assign_item_type(app.add_book().copies[0].id, "dvd")
    # Members already in it keep its terms.
    loan = app.circulation.borrow(kid, book_id=app.add_book().book.id)
    assert loan.due_at == end_of_day(app.now() + 14 * DAY)


def test_stale_versions_are_refused(library: App) -> None:
    app = library
    category = app.rules.change_category("child", name="Children")
    with pytest.raises(VersionMismatch):
        app.rules.change_category("child", category.version - 1, loan_limit=5)


def test_new_copies_take_the_book_item_type(library: App) -> None:
    app = library
    book_id = dvd(app, copies=0)
    assert app.catalogue.add_copy(book_id, "DVD-1").item_type == "dvd"


def test_fines_follow_the_rule_of_the_loan(app: App) -> None:
    app.rules.create_item_type("dvd", "DVD")
    app.rules.create_rule(None, "dvd", loan_days=7, fine_per_day_cents=100, grace_days=1)
    member = app.add_member().id
    loan = app.circulation.borrow(member, book_id=dvd(app))
    app.advance(7 * DAY + timedelta(hours=2))  # one day late: within the grace day
    assert app.circulation.return_loan(loan.id).fine_cents == 0
    loan = app.circulation.borrow(member, book_id=dvd(app))
    app.advance(9 * DAY)
    assert app.circulation.return_loan(loan.id).fine_cents == 200


def test_a_rule_date_can_be_listed_and_resolved_with_reason(library: App) -> None:
    app = library
    resolution = app.rules.resolve(app.add_member().id, app.add_book().copies[0].id)
    assert resolution.rule.id == DEFAULT_RULE_ID
    assert "default rule applies" in resolution.reason
