"""The rules matrix, the member categories and the closures: every circulation decision needs the
three (``application.common.rule_book``); for the decisions about a book, with its circulation
state, in the same round trip.

They change rarely (staff edit them) and are read by every decision, so each process keeps the
last ones it read, keyed by their *content*: each read asks the database for the three tables'
rows as one text (every column of every row, each row a JSON array) rather than for the rows
themselves, and only when that text is one this process has not seen are the rows read (in a
second statement, with their text again, so what is kept always matches its key). Equal texts
mean equal rows, whatever the database, the time or the version numbers: a rule changed by
another process, another host or by hand in ``psql`` is seen by the next decision, as it was
when the rows were read every time. What one decision costs the client is one text column
(a rule's row is some 150 characters of it) instead of every column of every rule, category and
closure in rows as wide as the whole statement's, and no mapping or tracking of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from typing import Any, cast

from sqlalchemy import CompoundSelect, Table, Text, bindparam, func, literal_column, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from adapters.sqlalchemy import mappers
from adapters.sqlalchemy.models import (
    BookRow,
    CirculationRuleRow,
    ClosureRow,
    MemberCategoryRow,
    MemberRow,
)
from adapters.sqlalchemy.repositories import (
    SqlBookCirculationRepository,
    SqlMemberRepository,
    book_circulation_parts,
)
from adapters.sqlalchemy.together import Part, read_together, together
from application.unit_of_work import RulesInForce
from domain.circulation import BookCirculation
from domain.members import Member

# Rule sets kept per process: one in force, and a few more for a process that serves several
# databases (the tests) or that sees a change come and go.
CACHED_RULE_SETS = 8


class _json_array(GenericFunction[str]):  # noqa: N801 (a SQL function, named as SQL names them)
    """A JSON array of the arguments: ``json_array`` on SQLite, ``json_build_array`` on
    PostgreSQL."""

    name = "json_array"
    type = Text()
    inherit_cache = True


@compiles(_json_array, "postgresql")
def _json_build_array(element: _json_array, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


class _joined(GenericFunction[str]):  # noqa: N801 (a SQL function, named as SQL names them)
    """The texts of the rows, joined by commas: ``group_concat`` on SQLite, ``string_agg`` on
    PostgreSQL (the separator written into the SQL, not bound on every run)."""

    name = "group_concat"
    type = Text()
    inherit_cache = True


@compiles(_joined)
def _group_concat(element: _joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_joined, "postgresql")
def _string_agg(element: _joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def _rows_as_text(model: Any) -> Any:
    """Every row of ``model``'s table as one text (NULL when there are none): an unambiguous
    rendering of the rows' every column, so equal texts mean equal rows."""
    table = model.__table__
    row = sql_cast(_json_array(*table.columns), Text)
    return select(_joined(row)).select_from(table).scalar_subquery()


@cache
def _content_part() -> Part:
    """The three tables' rows as one text: ``[..],[..]|[..]|[..]`` (a JSON array holds a ``|``
    only inside a quoted string, so the three cannot run into each other)."""
    separator = literal_column("'|'", Text)
    texts = [
        func.coalesce(_rows_as_text(model), literal_column("''", Text))
        for model in (CirculationRuleRow, MemberCategoryRow, ClosureRow)
    ]
    key = texts[0] + separator + texts[1] + separator + texts[2]
    return Part("inforce", None, values={"key": key})


@cache
def _parts() -> tuple[Part, ...]:
    # Each in the order of its repository's ``all``.
    return (
        Part("rules", CirculationRuleRow, order_by=[CirculationRuleRow.id]),
        Part("categories", MemberCategoryRow, order_by=[MemberCategoryRow.code]),
        Part(
            "closures",
            ClosureRow,
            # Weekly closures first, by weekday; then single dates, by date.
            order_by=[ClosureRow.weekday.is_(None), ClosureRow.weekday, ClosureRow.day],
        ),
        _content_part(),
    )


@cache
def _content() -> CompoundSelect[Any]:
    return together([_content_part()])


@cache
def _rows_and_content() -> CompoundSelect[Any]:
    return together(_parts())


@cache
def _with_book_circulation() -> CompoundSelect[Any]:
    """A book's circulation (``book_id``) and the content of the rules in force: neither
    depends on the member lock a decision takes first, so they need not wait for it to be
    read. Of the book, only what circulation needs: whether it exists, and its item type."""
    return together([*_book_circulation_parts(), _content_part()])


def _book_circulation_parts() -> tuple[Part, ...]:
    book_id = bindparam("book_id", type_=BookRow.id.type)
    book = Part(
        "book",
        BookRow,
        where=[BookRow.id == book_id],
        values={"type": BookRow.item_type.expression},
    )
    _, copies, holds = book_circulation_parts()
    return book, copies, holds


@cache
def _with_member_and_book_circulation() -> CompoundSelect[Any]:
    """The member (``member_id``), locked, with ``_with_book_circulation``. PostgreSQL returns
    the locked row as it is once the lock is granted; the other parts are read as they were
    when the statement began, as they would be by a statement of their own sent at once: the
    decision's writes are checked against what changed since (versions, unique indexes), and
    what must be read after the lock (the member's loans and balance) is read apart."""
    table = cast(Table, MemberRow.__table__)
    member_id = bindparam("member_id", type_=table.c.id.type)
    locked = select(*table.columns).where(table.c.id == member_id).with_for_update().cte("locked")
    member = Part(
        "member", None, values={column.name: locked.c[column.name] for column in table.columns}
    )
    return together([member, *_book_circulation_parts(), _content_part()])


class _RuleSets:
    """The rule sets last read, by content; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._sets: OrderedDict[str, RulesInForce] = OrderedDict()

    def get(self, key: str) -> RulesInForce | None:
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
            return found

    def keep(self, key: str, in_force: RulesInForce) -> None:
        with self._lock:
            self._sets[key] = in_force
            self._sets.move_to_end(key)
            while len(self._sets) > self._size:
                self._sets.popitem(last=False)


_KEPT = _RuleSets(CACHED_RULE_SETS)


def read_rules_in_force(session: Session) -> RulesInForce:
    (content,) = read_together(session, _content())["inforce"]
    return _in_force(session, content.key)


def read_circulation_and_rules(
    session: Session, book_id: str, circulation: SqlBookCirculationRepository
) -> tuple[BookCirculation | None, RulesInForce]:
    """``UnitOfWork.circulation_and_rules``: one round trip, unless the rules changed."""
    rows = read_together(session, _with_book_circulation(), {"book_id": book_id})
    return _circulation_and_rules(session, book_id, rows, circulation)


def read_member_circulation_and_rules(
    session: Session,
    member_id: str,
    book_id: str,
    members: SqlMemberRepository,
    circulation: SqlBookCirculationRepository,
) -> tuple[Member | None, BookCirculation | None, RulesInForce]:
    """``UnitOfWork.member_circulation_and_rules``: one round trip, unless the rules changed."""
    statement = _with_member_and_book_circulation()
    rows = read_together(session, statement, {"member_id": member_id, "book_id": book_id})
    locked = members.entities_of(rows.get("member", []))
    return (
        locked[0] if locked else None,
        *_circulation_and_rules(session, book_id, rows, circulation),
    )


def _circulation_and_rules(
    session: Session,
    book_id: str,
    rows: dict[str, list[Any]],
    circulation: SqlBookCirculationRepository,
) -> tuple[BookCirculation | None, RulesInForce]:
    (content,) = rows["inforce"]
    in_force = _in_force(session, content.key)
    books = rows.get("book")
    if not books:
        return None, in_force
    copies, holds = circulation.loaded(rows)
    state = BookCirculation(book_id=book_id, copies=copies, holds=holds, item_type=books[0].type)
    return state, in_force


def _in_force(session: Session, key: str) -> RulesInForce:
    """The rules whose content is ``key``: those kept, or else read now (with their content
    again: a change may have committed since ``key`` was read, and what is kept must be what
    its key says)."""
    kept = _KEPT.get(key)
    if kept is not None:
        return kept
    rows = read_together(session, _rows_and_content())
    (content,) = rows["inforce"]
    # Untracked: no unit of work writes them back (``UnitOfWork.rules_in_force``).
    in_force = RulesInForce(
        rules=[mappers.rule_from_row(cast(Any, row)) for row in rows.get("rules", [])],
        categories=[
            mappers.member_category_from_row(cast(Any, row)) for row in rows.get("categories", [])
        ],
        closures=[mappers.closure_from_row(cast(Any, row)) for row in rows.get("closures", [])],
    )
    _KEPT.keep(content.key, in_force)
    return in_force
