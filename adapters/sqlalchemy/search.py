"""Indexes that make book search by words fast on a large catalogue, per dialect.

Search keeps the semantics every adapter shares: each word must occur, as a substring, in the
case-folded title or authors (``title_key``, ``authors_key``). A plain ``LIKE '%word%'`` does that
by reading every row; these indexes answer the same question from an index:

- PostgreSQL: trigram GIN indexes (``pg_trgm``) on both keys, which the planner uses for
  ``LIKE '%word%'`` as it stands, so the query does not change.
- SQLite: an FTS5 table with the ``trigram`` tokenizer over both keys (external content: it
  stores only the index, keyed by the books' rowid), kept in step by triggers. A quoted phrase
  in ``MATCH`` finds rows holding it as a substring (``authors_key : "..."`` in that column
  only). FTS5 trigrams need three characters, so a shorter term is matched with ``LIKE``.

Both are created by the migration ``0004_book_search``.

A common word would still make the trigram index hand over every match to be sorted by title
before the first page is known. So a search first walks the sort order and stops at the page's
end (``SqlBookRepository._page_by_walk``); on PostgreSQL the title order has an index that
carries the authors too (``TITLE_WALK_INDEX``, migration ``0011s_search_walk``), which the walk
reads alone, testing both keys from it, never the table. The FTS5 table and its shadow tables are
not ORM models; ``schema_filters`` keeps schema comparison (autogenerate, the drift test) off
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, literal_column, select, table, text

from adapters.sqlalchemy.models import TITLE_WALK_INDEX, YEAR_DESC_INDEX

FTS_TABLE = "books_search"
# FTS5 keeps its index in these shadow tables beside the virtual table.
FTS_TABLES = {FTS_TABLE, *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config"))}
MIN_TRIGRAM_WORD = 3


TRIGRAM_INDEXES = frozenset({"ix_books_title_key_trgm", "ix_books_authors_key_trgm"})
# Indexes the models create on PostgreSQL only (``ddl_if``).
POSTGRESQL_ONLY_INDEXES = TRIGRAM_INDEXES | {YEAR_DESC_INDEX, TITLE_WALK_INDEX}


def schema_filters(dialect: str) -> dict[str, Callable[..., bool]]:
    """Alembic ``include_name`` / ``include_object`` for comparing ``dialect``'s schema with the
    models: the FTS5 tables are not models, and some indexes exist on PostgreSQL only."""

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:  # noqa: ARG001
        return not (type_ == "table" and name in FTS_TABLES)

    def include_object(
        obj: object,  # noqa: ARG001
        name: str | None,
        type_: str,
        reflected: bool,  # noqa: ARG001
        compare_to: object,  # noqa: ARG001
    ) -> bool:
        return not (
            type_ == "index" and name in POSTGRESQL_ONLY_INDEXES and dialect != "postgresql"
        )

    return {"include_name": include_name, "include_object": include_object}


def fts_phrase(word: str) -> str:
    """``word`` as an FTS5 phrase: quoted, with quotes doubled, so no character is syntax."""
    return '"' + word.replace('"', '""') + '"'


def fts_match(words: list[str], author: str | None = None) -> ColumnElement[bool]:
    """Books whose title or authors hold every one of ``words``, and whose authors hold
    ``author`` (each three or more characters).

    Each word may be found in either column, as with the ``LIKE`` conditions it replaces.
    """
    terms = [fts_phrase(word) for word in words]
    if author is not None:
        terms.append(f"authors_key : {fts_phrase(author)}")
    matching: Select[tuple[Any]] = (
        select(literal_column("rowid"))
        .select_from(table(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :fts_terms").bindparams(fts_terms=" AND ".join(terms)))
    )
    return literal_column("books.rowid").in_(matching.scalar_subquery())
