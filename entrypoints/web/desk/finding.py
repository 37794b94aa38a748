"""Finding the member at the desk: a scanned card first, then a name or an email."""

from __future__ import annotations

from dataclasses import dataclass, field

from dependency_injector.wiring import Provide, inject

from application.members import Membership
from application.queries import MemberFilter, PageRequest
from domain.errors import DomainError
from domain.members import Member
from entrypoints.container import Container

MATCHES_SHOWN = 20


@dataclass(frozen=True, slots=True)
class Found:
    """One member (a card, or the only match), or the matches to choose from."""

    member: Member | None = None
    matches: list[Member] = field(default_factory=list)
    more: bool = False  # more matches than are shown: a narrower search is needed


@inject
def find_member(text: str, membership: Membership = Provide[Container.library.membership]) -> Found:
    text = text.strip()
    if not text:
        return Found()
    try:
        return Found(membership.get_by_card_number(text))
    except DomainError:
        pass  # not a card number anyone has: a name or an email then
    page = membership.list(MemberFilter(q=text), PageRequest(1, MATCHES_SHOWN))
    if len(page.items) == 1:
        return Found(page.items[0])
    return Found(matches=list(page.items), more=page.has_next)
