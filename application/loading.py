"""What the bulk loads of books and members share: how a refused row is reported."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    """A row of a load that was not stored: its line in the file, the domain's error code and
    the reason, for ``line N: CODE: reason``."""

    line: int
    code: str
    reason: str
