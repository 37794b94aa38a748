"""Card numbers in every adapter: found exactly, filtered on, and unique."""

from __future__ import annotations

import pytest

from application.queries import MemberFilter, PageRequest
from domain.errors import CardNumberTaken
from tests.contract.builders import member
from tests.contract.conftest import UowFactory


def test_members_are_found_by_card_number(new_uow: UowFactory) -> None:
    ada, grace = member("Ada"), member("Grace")
    with new_uow() as uow:
        uow.members.add(ada)
        uow.members.add(grace)
        uow.commit()

    with new_uow() as uow:
        found = uow.members.get_by_card_number(ada.card_number)
        assert found is not None
        assert found.id == ada.id
        assert found.card_number == ada.card_number
        assert uow.members.get_by_card_number("NOSUCHCARD") is None
        assert uow.members.existing_card_numbers(
            [ada.card_number, grace.card_number, "NOSUCHCARD"]
        ) == {ada.card_number, grace.card_number}
        assert uow.members.existing_card_numbers([]) == set()
        page = uow.members.list(MemberFilter(card_number=grace.card_number), PageRequest())
        assert [m.id for m in page.items] == [grace.id]
        assert page.total == 1


def test_a_card_number_belongs_to_one_member(new_uow: UowFactory) -> None:
    ada, grace = member("Ada"), member("Grace")
    with new_uow() as uow:
        uow.members.add(ada)
        uow.commit()
    grace.card_number = ada.card_number

    with new_uow() as uow:
        uow.members.add(grace)
        with pytest.raises(CardNumberTaken):
            uow.commit()

    with new_uow() as uow:
        assert uow.members.get(grace.id) is None


def test_a_changed_card_number_is_saved_and_the_old_one_is_free(new_uow: UowFactory) -> None:
    ada = member("Ada")
    old = ada.card_number
    with new_uow() as uow:
        uow.members.add(ada)
        uow.commit()
    with new_uow() as uow:
        stored = uow.members.get(ada.id)
        assert stored is not None
        stored.change_card_number("new-card-0001", stored.updated_at)
        uow.commit()

    with new_uow() as uow:
        assert uow.members.get_by_card_number(old) is None
        renumbered = uow.members.get_by_card_number("NEWCARD0001")
        assert renumbered is not None
        assert renumbered.id == ada.id
