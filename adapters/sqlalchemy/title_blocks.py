"""Page numbers in title order without walking to them: the books cut into counted blocks.

A page by number of the whole catalogue in title order starts ``skip`` books in, and walking
the title index that far reads every entry before the page (40,000 of them for page 2,000).
``book_title_blocks`` holds the books in title order cut into blocks of about ``BLOCK``, each
with its count. A page's block is the last one with no more than ``skip`` books before it (a
running sum over one row per thousand books), and the page is then a walk of less than a block
from that block's first book. The sum of all the counts is the catalogue's exact size.

A book belongs to the block with the greatest first ``(title_key, id)`` not above its own; the
block of ``('', '')`` comes before every book, so every book has one. Triggers on ``books``
(migration 0013t) keep the counts in the writing transaction, so a statement sees books and
counts of one moment: positions and totals are exact, never estimates.

Writes change only counts. A block that writes have made larger than ``2 * BLOCK`` or smaller
than ``BLOCK // 4`` is redrawn (``reshape``) by a scheduled job (``TitleBlocks.keep_shape``),
and by a bulk load at the end of each batch when no other writer is about. A redraw counts the
books of its blocks afresh, so no count can stay wrong. On PostgreSQL it first locks writers of
books out until it commits: a writer's trigger that ran between the redraw's count and its
commit would add to a block the redraw has replaced. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.exc import OperationalError

from adapters.sqlalchemy.models import BookRow, BookTitleBlockRow

# Books per block as drawn. A page walks at most a block (twice this before a redraw), and the
# running sum reads one row per block: a thousand keeps both well under a millisecond at a
# million books.
BLOCK = 1000
# Where the first block starts: before every book.
FIRST = ("", "")

_blocks = cast(Table, BookTitleBlockRow.__table__)
_books = cast(Table, BookRow.__table__)
_block_first = tuple_(_blocks.c.first_title_key, _blocks.c.first_book_id)
_book_key = tuple_(_books.c.title_key, _books.c.id)

Key = tuple[str, str]  # a book's (title_key, id)
T = TypeVar("T")


def redraw(connection: Connection, start: Key = FIRST, end: Key | None = None) -> int:
    """Draw afresh, in the caller's transaction, the blocks from ``start`` (a block's first)
    to ``end`` (the next block's first; ``None``: to the end), from the books between: as many
    blocks as ``BLOCK`` goes into their number (one at least), of even sizes, the first starting
    at ``start``. How many were drawn."""
    blocks_in_range = [_block_first >= tuple_(*start)]
    books_in_range = [_book_key >= tuple_(*start)]
    if end is not None:
        blocks_in_range.append(_block_first < tuple_(*end))
        books_in_range.append(_book_key < tuple_(*end))
    connection.execute(delete(_blocks).where(*blocks_in_range))
    total = connection.execute(
        select(func.count()).select_from(_books).where(*books_in_range)
    ).scalar_one()
    pieces = max(1, total // BLOCK)
    cuts = [(j * total) // pieces for j in range(1, pieces)]  # a block's first book's place
    firsts = [start]
    if cuts:
        keys = connection.execute(
            select(_books.c.title_key, _books.c.id).where(*books_in_range).order_by(*_book_key),
            execution_options={"yield_per": 10_000},  # streamed: a range may be every book
        )
        wanted = iter(cuts)
        cut = next(wanted, None)
        for place, (title_key, book_id) in enumerate(keys):
            if place == cut:
                firsts.append((title_key, book_id))
                cut = next(wanted, None)
                if cut is None:
                    break
        keys.close()
    places = [0, *cuts, total]
    connection.execute(
        insert(_blocks),
        [
            {"first_title_key": key, "first_book_id": book_id, "books": places[n + 1] - places[n]}
            for n, (key, book_id) in enumerate(firsts)
        ],
    )
    return len(firsts)


def out_of_shape(connection: Connection) -> bool:
    """Whether writes have made some block large enough to slow its pages, or small enough to
    be one too many."""
    statement = select(_blocks.c.books).where(
        or_(
            _blocks.c.books > 2 * BLOCK,
            and_(_blocks.c.books < BLOCK // 4, _block_first != tuple_(*FIRST)),
        )
    )
    return connection.execute(statement.limit(1)).first() is not None


def reshape(connection: Connection) -> int:
    """Redraw the blocks that are out of shape: one too large with the books it holds, one too
    small with the block before it. How many blocks were drawn (0: none needed it)."""
    blocks = connection.execute(
        select(_blocks.c.first_title_key, _blocks.c.first_book_id, _blocks.c.books).order_by(
            *_block_first
        )
    ).all()
    ranges: list[tuple[int, int]] = []  # [first block, block after the last) to redraw
    for n, (_, _, books) in enumerate(blocks):
        if books > 2 * BLOCK or (books < BLOCK // 4 and n > 0):
            low = n - 1 if books < BLOCK // 4 else n
            if ranges and ranges[-1][1] >= low:
                ranges[-1] = (ranges[-1][0], n + 1)
            else:
                ranges.append((low, n + 1))
    drawn = 0
    for low, high in ranges:
        end = (blocks[high][0], blocks[high][1]) if high < len(blocks) else None
        drawn += redraw(connection, (blocks[low][0], blocks[low][1]), end)
    return drawn


def keep_shape_if_free(connection: Connection) -> int:
    """``reshape`` within a writer's own transaction (a bulk load's), only if no other writer
    of books is about: waiting for them could deadlock with one waiting for this transaction's
    blocks. Otherwise the scheduled job does it."""
    if not out_of_shape(connection):
        return 0
    if connection.dialect.name != "postgresql":
        return reshape(connection)  # SQLite: this transaction is the only writer
    with connection.begin_nested() as attempt:
        try:
            connection.execute(text("LOCK TABLE books IN SHARE MODE NOWAIT"))
        except OperationalError:
            attempt.rollback()
            return 0
        return reshape(connection)


class TitleBlocks:
    """The scheduled upkeep of the blocks."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def keep_shape(self) -> int:
        """Redraw the blocks that writes have put out of shape; how many were drawn."""
        with self._engine.connect() as connection:
            if not out_of_shape(connection):
                return 0
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # SHARE conflicts with every writer's ROW EXCLUSIVE, not with readers.
                connection.execute(text("LOCK TABLE books IN SHARE MODE"))
            return reshape(connection)


@cache
def catalogue_size() -> Select[Any]:
    """The number of books: the sum of the blocks' counts."""
    return select(func.coalesce(func.sum(_blocks.c.books), 0))


def from_a_block(skip: int) -> bool:
    """Whether a page ``skip`` books in is found from its block (``page_ids``): within the
    first block from either end, walking to it is as cheap."""
    return skip >= BLOCK


@cache
def page_ids(*, descending: bool, from_block: bool) -> Select[Any]:
    """The ids of the ``:count`` books from ``:skip`` on (bound when run) in title order,
    ascending or descending, in no particular order: seeked from the block they start in
    (``from_block``), or walked to from the first or the last book. Built once per shape.

    A descending page found from its block that ends near the first book may come with books
    of the page before it: ``in_descending_page`` says which are the page's."""
    skip, count = bindparam("skip", type_=Integer), bindparam("count", type_=Integer)
    order = (_books.c.title_key, _books.c.id)
    if not from_block:
        walked = (_books.c.title_key.desc(), _books.c.id.desc()) if descending else order
        return select(_books.c.id).order_by(*walked).offset(skip).limit(count)
    # The books before each block: a running sum, framed by rows (the default frame, by range,
    # costs a third more to compute).
    in_order = (_blocks.c.first_title_key, _blocks.c.first_book_id)
    running = func.sum(_blocks.c.books).over(order_by=in_order, rows=(None, 0))
    counted = select(*in_order, (running - _blocks.c.books).label("before")).subquery()
    start: Any = skip
    sources: list[Any] = [counted]
    if descending:
        # The same books counted from the other end: ascending, the ``count`` that end
        # ``skip`` books before the last, from the first book on when fewer are left.
        sized = select(catalogue_size().label("size")).subquery()
        sources.append(sized)
        start = case((sized.c.size - skip - count > 0, sized.c.size - skip - count), else_=0)
    anchor = (
        select(
            counted.c.first_title_key,
            counted.c.first_book_id,
            (start - counted.c.before).label("walk"),
        )
        .select_from(*sources)
        .where(counted.c.before <= start)
        .order_by(counted.c.first_title_key.desc(), counted.c.first_book_id.desc())
        .limit(1)
        .cte("anchor")
    )
    first_key = select(anchor.c.first_title_key).scalar_subquery()
    first_id = select(anchor.c.first_book_id).scalar_subquery()
    return (
        select(_books.c.id)
        .where(
            # As ``repositories.keyset`` seeks: the first term is the one an index seeks.
            _books.c.title_key >= first_key,
            or_(_books.c.title_key > first_key, _books.c.id >= first_id),
        )
        .order_by(*order)
        .offset(select(anchor.c.walk).scalar_subquery())
        # A bound limit, also where fewer are wanted (``in_descending_page``): the planner
        # then expects a page of ids and looks each book up by its key, where an expression
        # would make it expect thousands and read the whole table for them.
        .limit(count)
    )


def in_descending_page(rows: Sequence[T], size: int, skip: int) -> Sequence[T]:
    """Those of a descending page's ``rows`` (from ``page_ids``, in descending order) that
    belong to it in a catalogue of ``size`` books: near the first book, only the last
    ``size - skip``."""
    wanted = max(0, size - skip)
    return rows[len(rows) - wanted :] if wanted < len(rows) else rows
