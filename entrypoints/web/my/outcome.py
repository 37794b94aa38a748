"""What the member's last action did, said on the page it leads to (post, redirect, get).

Kept in the signed session under a key of its own and taken once by the next page, which says
it in the page's ``aria-live`` region. A renewal says what happened to each loan, so those
results are kept per loan and shown on the loan's own row as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import session

from domain.errors import DomainError
from entrypoints.web.my.words import describe

_KEY = "my_outcome"


@dataclass(frozen=True, slots=True)
class Said:
    """One thing to tell the member: done (``code`` None), or refused in words with its code."""

    words: str
    code: str | None = None

    @property
    def refused(self) -> bool:
        return self.code is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    summary: list[Said]
    loans: dict[str, Said]  # a renewal's result, by loan id


def done(words: str) -> None:
    _keep([Said(words)], {})


def refused(error: DomainError) -> None:
    _keep([refusal(error)], {})


def refusal(error: DomainError) -> Said:
    return Said(describe(error), error.code)


def renewals(summary: list[Said], loans: dict[str, Said]) -> None:
    _keep(summary, loans)


def _keep(summary: list[Said], loans: dict[str, Said]) -> None:
    session[_KEY] = {
        "summary": [[s.words, s.code] for s in summary],
        "loans": {loan_id: [s.words, s.code] for loan_id, s in loans.items()},
    }


def take() -> Outcome:
    """The last action's outcome, forgotten once read (empty when there is none)."""
    kept = session.pop(_KEY, None)
    if not isinstance(kept, dict):
        return Outcome([], {})
    return Outcome(
        summary=[Said(words, code) for words, code in kept.get("summary", [])],
        loans={
            loan_id: Said(words, code) for loan_id, (words, code) in kept.get("loans", {}).items()
        },
    )
