"""Database errors the domain has a name for.

A unique constraint that a use case checks before writing can still be broken by a concurrent
transaction; the database is then the final judge, and its refusal becomes the same domain error
the use case would have raised. Lost races (the open-loan index, a row that vanished under a
foreign key, a serialization failure, a deadlock, a locked SQLite file) become
``ConcurrentUpdate``, which the use cases retry from a fresh transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.models import (
    UQ_API_KEY_PREFIX,
    UQ_BOOK_ISBN,
    UQ_COPY_BARCODE,
    UQ_MEMBER_CARD_NUMBER,
    UQ_MEMBER_EMAIL,
    UQ_OPEN_LOAN_PER_COPY,
    UQ_REFRESH_TOKEN_HASH,
    UQ_RULE_PAIR,
)
from domain.errors import (
    BarcodeAlreadyExists,
    CardNumberTaken,
    ConcurrentUpdate,
    DomainError,
    EmailAlreadyRegistered,
    IsbnAlreadyExists,
    RuleConflict,
)

# PostgreSQL SQLSTATEs
_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
_LOST_RACE = {
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "55P03",  # lock_not_available
}

# SQLite reports the columns of a broken unique rule, not its name.
_SQLITE_UNIQUE_COLUMNS = {
    "books.isbn": UQ_BOOK_ISBN,
    "copies.barcode": UQ_COPY_BARCODE,
    "members.email": UQ_MEMBER_EMAIL,
    "members.card_number": UQ_MEMBER_CARD_NUMBER,
    "loans.copy_id": UQ_OPEN_LOAN_PER_COPY,
    "refresh_tokens.token_hash": UQ_REFRESH_TOKEN_HASH,
    "api_keys.prefix": UQ_API_KEY_PREFIX,
    "circulation_rules.member_category, circulation_rules.item_type": UQ_RULE_PAIR,
    "member_categories.code": "pk_member_categories",
    "item_types.code": "pk_item_types",
    "closures.day": "uq_closures_day",
    "closures.weekday": "uq_closures_weekday",
}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w.]+(?:, [\w.]+)*)")
_SQLITE_PRIMARY_KEY_COLUMN = re.compile(r"^\w+\.id$")
_SQLITE_LOCKED = ("database is locked", "database table is locked")


@contextmanager
def translated_errors(entity: Any = None) -> Iterator[None]:
    """Raise the domain error for a database refusal; ``entity`` (being written) adds details."""
    try:
        yield
    except DBAPIError as error:
        domain_error = domain_error_for(error, entity)
        if domain_error is None:
            raise
        raise domain_error from error


def domain_error_for(error: DBAPIError, entity: Any = None) -> DomainError | None:
    """The domain error ``error`` stands for, or ``None`` when it is a fault, not a refusal."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        if sqlstate == _UNIQUE_VIOLATION:
            diag = getattr(original, "diag", None)
            return _unique_violation(getattr(diag, "constraint_name", None), entity)
        if sqlstate == _FOREIGN_KEY_VIOLATION:
            return _vanished()
        if sqlstate in _LOST_RACE:
            return ConcurrentUpdate("a concurrent transaction got there first; try again")
        return None
    message = str(original)
    unique = _SQLITE_UNIQUE.search(message)
    if unique is not None:
        columns = unique.group("columns")
        if _SQLITE_PRIMARY_KEY_COLUMN.match(columns):
            return _unique_violation(f"pk_{columns.split('.')[0]}", entity)
        return _unique_violation(_SQLITE_UNIQUE_COLUMNS.get(columns), entity)
    if "FOREIGN KEY constraint failed" in message:
        return _vanished()
    if any(locked in message for locked in _SQLITE_LOCKED):
        return ConcurrentUpdate("the database was busy with another transaction; try again")
    return None


def _unique_violation(constraint: str | None, entity: Any) -> DomainError | None:
    if constraint == UQ_BOOK_ISBN:
        isbn = getattr(entity, "isbn", None)
        # No entity: a multi-row write, where the database does not say which row clashed.
        which = f"ISBN {isbn}" if isbn else "one of these ISBNs"
        return IsbnAlreadyExists(f"a book with {which} already exists", isbn=isbn)
    if constraint == UQ_COPY_BARCODE:
        barcode = getattr(entity, "barcode", None)
        which = f"barcode {barcode} is" if barcode else "one of these barcodes is"
        return BarcodeAlreadyExists(f"{which} already in use", barcode=barcode)
    if constraint == UQ_MEMBER_EMAIL:
        email = getattr(entity, "email", None)
        return EmailAlreadyRegistered(f"{email} is already registered", email=email)
    if constraint == UQ_MEMBER_CARD_NUMBER:
        card_number = getattr(entity, "card_number", None)
        which = f"card number {card_number} is" if card_number else "one of these card numbers is"
        return CardNumberTaken(f"{which} already in use", card_number=card_number)
    if constraint == UQ_OPEN_LOAN_PER_COPY:
        copy_id = getattr(entity, "copy_id", None)
        return ConcurrentUpdate(f"copy {copy_id} is already on loan", copy_id=copy_id)
    if constraint in (UQ_API_KEY_PREFIX, UQ_REFRESH_TOKEN_HASH):
        # A freshly drawn random value met a stored one: drawing again (a retry) fixes it.
        return ConcurrentUpdate("a new credential collided with a stored one; try again")
    if constraint in ("uq_closures_day", "uq_closures_weekday"):
        return RuleConflict("the library is already closed on that day")
    if constraint == UQ_RULE_PAIR:
        return RuleConflict("another rule already covers this pair; try again")
    if constraint is not None and constraint.startswith("pk_"):
        entity_id = getattr(entity, "id", None)
        return ConcurrentUpdate(f"{entity_id} already exists", id=entity_id)
    return None


def _vanished() -> ConcurrentUpdate:
    # The use cases check that what they refer to exists, so this is a concurrent removal.
    return ConcurrentUpdate("a record this change refers to was removed meanwhile; try again")
