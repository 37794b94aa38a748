"""What people read in place of ids: a member's name and email, a book's title, a copy's barcode.

Each distinct record is looked up once per command, through the use cases; one removed since
shows its id.
"""

from __future__ import annotations

from collections.abc import Callable

from application.catalogue import Catalogue
from application.members import Membership
from domain.errors import NotFound


class Names:
    def __init__(self, membership: Membership, catalogue: Catalogue) -> None:
        self.member = _remembered(lambda member_id: _person(membership, member_id))
        self.email = _remembered(lambda member_id: membership.get(member_id).email)
        self.title = _remembered(lambda book_id: catalogue.get_book(book_id).title)
        self.barcode = _remembered(lambda copy_id: catalogue.get_copy(copy_id).barcode)


def _person(membership: Membership, member_id: str) -> str:
    member = membership.get(member_id)
    return f"{member.name} <{member.email}>"


def _remembered(load: Callable[[str], str]) -> Callable[[str], str]:
    known: dict[str, str] = {}

    def name(key: str) -> str:
        if key not in known:
            try:
                known[key] = load(key)
            except NotFound:
                known[key] = key
        return known[key]

    return name
