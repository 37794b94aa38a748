"""What an action on the desk did, said on the next page (post, redirect, get).

The words go through Flask's flashed messages and appear in the page's ``aria-live`` region,
so a screen reader says them as the page loads.
"""

from __future__ import annotations

from flask import flash

from domain.errors import DomainError
from entrypoints.web.wording import describe

DONE = "done"
REFUSED = "refused"


def done(message: str) -> None:
    flash(message, DONE)


def refused(error: DomainError) -> None:
    flash(f"{describe(error)}\x1f{error.code}", REFUSED)
