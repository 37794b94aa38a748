"""The rules matrix, the member categories and the closures, read in one round trip: every
circulation decision needs the three (``application.common.rule_book``); with a book's
circulation state, in the same round trip, for the decisions about a book."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect
from sqlalchemy.orm import Session

from adapters.sqlalchemy.models import CirculationRuleRow, ClosureRow, MemberCategoryRow
from adapters.sqlalchemy.repositories import (
    SqlBookCirculationRepository,
    SqlCirculationRuleRepository,
    SqlClosureRepository,
    SqlMemberCategoryRepository,
    book_circulation_parts,
)
from adapters.sqlalchemy.together import Part, read_together, together
from application.unit_of_work import RulesInForce
from domain.circulation import BookCirculation


@cache
def _parts() -> tuple[Part, ...]:
    # Each in the order of its repository's ``all``.
    return (
        Part("rules", CirculationRuleRow, order_by=[CirculationRuleRow.id]),
        Part("categories", MemberCategoryRow, order_by=[MemberCategoryRow.code]),
        Part(
            "closures",
            ClosureRow,
            # Weekly closures first, by weekday; then single dates, by date.
            order_by=[ClosureRow.weekday.is_(None), ClosureRow.weekday, ClosureRow.day],
        ),
    )


@cache
def _statement() -> CompoundSelect[Any]:
    return together(_parts())


@cache
def _with_book_circulation() -> CompoundSelect[Any]:
    """A book's circulation (``book_id``) and the rules in force: neither depends on the member
    lock a decision takes first, so they need not wait for it to be read."""
    return together([*book_circulation_parts(), *_parts()])


def read_rules_in_force(
    session: Session,
    rules: SqlCirculationRuleRepository,
    categories: SqlMemberCategoryRepository,
    closures: SqlClosureRepository,
) -> RulesInForce:
    return _in_force(read_together(session, _statement()), rules, categories, closures)


def read_circulation_and_rules(
    session: Session,
    book_id: str,
    circulation: SqlBookCirculationRepository,
    rules: SqlCirculationRuleRepository,
    categories: SqlMemberCategoryRepository,
    closures: SqlClosureRepository,
) -> tuple[BookCirculation | None, RulesInForce]:
    """``UnitOfWork.circulation_and_rules`` in one round trip."""
    rows = read_together(session, _with_book_circulation(), {"book_id": book_id})
    state = circulation.state_of(book_id, *circulation.loaded_with_book(rows))
    return state, _in_force(rows, rules, categories, closures)


def _in_force(
    rows: dict[str, list[Any]],
    rules: SqlCirculationRuleRepository,
    categories: SqlMemberCategoryRepository,
    closures: SqlClosureRepository,
) -> RulesInForce:
    return RulesInForce(
        rules=rules.entities_of(rows.get("rules", [])),
        categories=categories.entities_of(rows.get("categories", [])),
        closures=closures.entities_of(rows.get("closures", [])),
    )
