"""Who may open each page: declared on the view, checked before it runs, closed by default.

A view without a declared audience is refused (403), as an API route without an access rule
is: a page added in a hurry cannot be open by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from domain.access import Principal

View = TypeVar("View", bound=Callable[..., Any])

ATTRIBUTE = "web_audience"


class Audience(Enum):
    ANYONE = "anyone"  # the sign-in page, error pages
    SIGNED_IN = "signed_in"  # any member, staff included: their own pages
    STAFF = "staff"  # librarians and admins: the desk

    def admits(self, caller: Principal | None) -> bool:
        if self is Audience.ANYONE:
            return True
        if caller is None:
            return False
        if self is Audience.STAFF:
            return caller.acts_for_everyone
        return True


def page(audience: Audience) -> Callable[[View], View]:
    """Declare who may open the decorated view."""

    def declare(view: View) -> View:
        setattr(view, ATTRIBUTE, audience)
        return view

    return declare


def staff_required(view: View) -> View:
    """Librarians and admins only (the desk)."""
    return page(Audience.STAFF)(view)


def member_required(view: View) -> View:
    """Any signed-in member, for their own records (the member pages)."""
    return page(Audience.SIGNED_IN)(view)


def audience_of(view: Callable[..., Any] | None) -> Audience | None:
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Audience) else None
