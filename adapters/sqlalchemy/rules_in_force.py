"""The rules matrix, the member categories and the closures, read in one round trip: every
circulation decision needs the three (``application.common.rule_book``)."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect
from sqlalchemy.orm import Session

from adapters.sqlalchemy.models import CirculationRuleRow, ClosureRow, MemberCategoryRow
from adapters.sqlalchemy.repositories import (
    SqlCirculationRuleRepository,
    SqlClosureRepository,
    SqlMemberCategoryRepository,
)
from adapters.sqlalchemy.together import Part, read_together, together
from application.unit_of_work import RulesInForce


@cache
def _statement() -> CompoundSelect[Any]:
    # Each in the order of its repository's ``all``.
    return together(
        [
            Part("rules", CirculationRuleRow, order_by=[CirculationRuleRow.id]),
            Part("categories", MemberCategoryRow, order_by=[MemberCategoryRow.code]),
            Part(
                "closures",
                ClosureRow,
                # Weekly closures first, by weekday; then single dates, by date.
                order_by=[ClosureRow.weekday.is_(None), ClosureRow.weekday, ClosureRow.day],
            ),
        ]
    )


def read_rules_in_force(
    session: Session,
    rules: SqlCirculationRuleRepository,
    categories: SqlMemberCategoryRepository,
    closures: SqlClosureRepository,
) -> RulesInForce:
    rows = read_together(session, _statement())
    return RulesInForce(
        rules=rules.entities_of(rows.get("rules", [])),
        categories=categories.entities_of(rows.get("categories", [])),
        closures=closures.entities_of(rows.get("closures", [])),
    )
