"""Bulk loads into ``MemoryDatabase``: the uniqueness rules checked once per load, from sets,
rather than once per row by a scan of the table."""

from __future__ import annotations

import copy as copying
from collections.abc import Callable, Sequence
from typing import Any

from adapters.memory.database import MemoryDatabase
from application.ports import BookAddition, BookLoadOutcome
from domain.catalogue import Book, Copy
from domain.errors import CardNumberTaken
from domain.members import Member


class MemoryBulkWriter:
    def __init__(self, db: MemoryDatabase, undo: list[Callable[[], None]]) -> None:
        self._db = db
        self._undo = undo

    def add_books(self, additions: Sequence[BookAddition]) -> BookLoadOutcome:
        books: dict[str, Book] = self._db.tables[Book]
        copies: dict[str, Copy] = self._db.tables[Copy]
        isbns = {book.isbn for book in books.values()}
        barcodes = {copy.barcode for copy in copies.values()}
        outcome = BookLoadOutcome()
        for addition in additions:
            book = addition.book
            if book.isbn in isbns:
                outcome.present.append(book.id)
                continue
            taken = next((c.barcode for c in addition.copies if c.barcode in barcodes), None)
            if taken is not None:
                outcome.barcode_taken[book.id] = taken
                continue
            self._put(books, book)
            for copy in addition.copies:
                self._put(copies, copy)
            outcome.added.append(book.id)
        return outcome

    def add_members(self, members: Sequence[Member]) -> list[str]:
        rows: dict[str, Member] = self._db.tables[Member]
        emails = {member.email for member in rows.values()}
        cards = {member.card_number for member in rows.values()}
        added: list[str] = []
        for member in members:
            if member.email not in emails:
                if member.card_number in cards:  # as the unique index refuses it in SQL
                    raise CardNumberTaken(
                        f"card number {member.card_number} is already in use",
                        card_number=member.card_number,
                    )
                self._put(rows, member)
                cards.add(member.card_number)
                added.append(member.id)
        return added

    def _put(self, table: dict[str, Any], entity: Book | Copy | Member) -> None:
        # Stored as a private copy, like every write here, and undone unless committed.
        table[entity.id] = copying.copy(entity)
        self._undo.append(lambda: table.pop(entity.id, None))
