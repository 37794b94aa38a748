"""Helpers shared by the use cases."""

from __future__ import annotations

from typing import Protocol, TypeVar

from application.unit_of_work import UnitOfWork
from domain.errors import NotFound, VersionMismatch
from domain.events import HoldReady
from domain.holds import Hold


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def found(entity: V | None, error: type[NotFound], identifier: str) -> V:
    if entity is None:
        raise error(identifier)
    return entity


def check_version(entity: _Versioned, expected_version: int | None) -> None:
    """Refuse a change the caller based on an older version (``None``: the caller did not say)."""
    if expected_version is not None and entity.version != expected_version:
        raise VersionMismatch(
            f"{entity.id} is at version {entity.version}, not {expected_version}",
            id=entity.id,
            current_version=entity.version,
        )


def emit_ready(uow: UnitOfWork, holds: list[Hold]) -> None:
    """Announce holds that just had a copy set aside for them."""
    for hold in holds:
        if hold.copy_id is None or hold.ready_at is None or hold.pickup_by is None:
            raise AssertionError(f"hold {hold.id} is not ready")
        uow.emit(
            HoldReady(
                occurred_at=hold.ready_at,
                hold_id=hold.id,
                copy_id=hold.copy_id,
                member_id=hold.member_id,
                pickup_by=hold.pickup_by,
            )
        )
