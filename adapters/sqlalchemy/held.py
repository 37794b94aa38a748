"""Entity writes a commit holds back to send with its records (``adapters.sqlalchemy.records``).

Apart from the records module so that the repositories, which hold the writes, need not import
what sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table


@dataclass(slots=True)
class HeldWrite:
    """An entity's INSERT (``expected`` None) or versioned UPDATE, not sent yet."""

    table: Table
    values: dict[str, Any]  # the row (INSERT), or the columns set (UPDATE) with the new version
    entity: Any
    expected: int | None = None  # the version an UPDATE must find


# Sends held writes, then records (audit records, outbox messages), in the open transaction.
Sender = Callable[[Sequence[HeldWrite], Sequence[Any]], None]


class HeldWrites:
    """A commit's entity writes, held (on PostgreSQL) to go out with its records."""

    def __init__(self, send: Sender) -> None:
        self._send = send
        self._held: list[HeldWrite] = []

    def hold(self, write: HeldWrite) -> None:
        self._held.append(write)

    def send(self, records: Sequence[Any] = ()) -> None:
        """Send what is held, and ``records`` after it."""
        held, self._held = self._held, []
        if held or records:
            self._send(held, records)
