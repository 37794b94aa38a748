"""In-memory repositories of member categories, item types and circulation rules."""

from __future__ import annotations

from adapters.memory.repositories import _MemoryStore
from domain.rules import CirculationRule, ItemType, MemberCategory, ensure_distinct


class MemoryMemberCategoryRepository(_MemoryStore[MemberCategory]):
    table = MemberCategory

    def all(self) -> list[MemberCategory]:
        return self._many(sorted(self._rows.values(), key=lambda c: c.code))


class MemoryItemTypeRepository(_MemoryStore[ItemType]):
    table = ItemType

    def all(self) -> list[ItemType]:
        return self._many(sorted(self._rows.values(), key=lambda t: t.code))


class MemoryCirculationRuleRepository(_MemoryStore[CirculationRule]):
    table = CirculationRule

    def _unique(self, entity: CirculationRule) -> None:
        # Mirrors the unique constraint on (member_category, item_type).
        ensure_distinct(self._rows.values(), entity)

    def all(self) -> list[CirculationRule]:
        return self._many(sorted(self._rows.values(), key=lambda r: r.id))
