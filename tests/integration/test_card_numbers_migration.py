"""Migration 0010a: members registered before card numbers get one each, in the format."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, text
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy import mappers, migrate
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.models import MemberRow
from domain.cards import CardNumberFormat
from tests.contract.builders import T0, member

BEFORE = "0009c_webhooks"


# Member columns added by this migration and later ones.
LATER_COLUMNS = {"card_number", "notice_receipts", "notice_overdue"}


def _without_card(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name not in LATER_COLUMNS}


def test_existing_members_are_numbered_in_order_of_registration(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = empty_database_url
    monkeypatch.setenv("CIRCULATE_CARD_NUMBER_FORMAT", "lib{6}")
    migrate.upgrade(url, BEFORE)
    # Registered in this order, whatever the order of their ids.
    first, second, third = (member(now=T0 + timedelta(days=n)) for n in range(3))
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(cast(Table, MemberRow.__table__)),
                [_without_card(mappers.member_values(m)) for m in (third, first, second)],
            )

        migrate.upgrade(url)

        expected = CardNumberFormat(prefix="LIB", digits=6)
        with engine.connect() as connection:
            cards: dict[str, str] = dict(
                connection.execute(text("SELECT id, card_number FROM members")).all()
            )
        assert cards == {
            first.id: expected.number(1),
            second.id: expected.number(2),
            third.id: expected.number(3),
        }
        assert expected.number(1) == "LIB0000018"
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("UPDATE members SET card_number = :card WHERE id = :id"),
                {"card": expected.number(1), "id": second.id},
            )

        migrate.downgrade(url, BEFORE)
        with engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM members")).keys()
        assert "card_number" not in columns
    finally:
        engine.dispose()


def test_a_malformed_format_stops_the_migration_before_it_changes_anything(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(empty_database_url, BEFORE)
    monkeypatch.setenv("CIRCULATE_CARD_NUMBER_FORMAT", "LIB-{3}")

    with pytest.raises(RuntimeError, match="CIRCULATE_CARD_NUMBER_FORMAT"):
        migrate.upgrade(empty_database_url)

    assert migrate.current(empty_database_url) == BEFORE
