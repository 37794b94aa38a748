"""In-memory repositories of member categories, item types and circulation rules."""

from __future__ import annotations

from adapters.memory.repositories import _MemoryStore
from domain.calendar import Closure
from domain.errors import RuleConflict
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


class MemoryClosureRepository(_MemoryStore[Closure]):
    table = Closure

    def _unique(self, entity: Closure) -> None:
        # Mirrors the unique constraints on ``day`` and on ``weekday``.
        for row in self._rows.values():
            if row.id != entity.id and (
                (entity.day is not None and row.day == entity.day)
                or (entity.weekday is not None and row.weekday == entity.weekday)
            ):
                raise RuleConflict(f"the library is already closed {entity.describes}")

    def all(self) -> list[Closure]:
        return self._many(sorted(self._rows.values(), key=_closure_order))


def _closure_order(closure: Closure) -> tuple[int, str]:
    if closure.weekday is not None:
        return (0, str(closure.weekday))
    return (1, closure.day.isoformat() if closure.day is not None else "")
