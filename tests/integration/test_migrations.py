"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy import migrate
from adapters.sqlalchemy.engine import create_engine_for
from adapters.sqlalchemy.models import metadata
from adapters.sqlalchemy.search import schema_filters

TABLES = {
    "books",
    "book_words",
    "book_title_blocks",
    "copies",
    "members",
    "loans",
    "holds",
    "ledger_entries",
    "ledger_allocations",
    "refresh_tokens",
    "api_keys",
    "service_clients",
    "revoked_tokens",
    "idempotency_keys",
    "member_categories",
    "item_types",
    "circulation_rules",
    "closures",
    "outbox_messages",
    "job_runs",
    "webhook_subscriptions",
    "audit_events",
}


def tables_in(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_to_head_downgrade_to_base_and_back(empty_database_url: str) -> None:
    url = empty_database_url
    assert migrate.current(url) is None
    assert not migrate.is_at_head(url)

    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    assert migrate.is_at_head(url)
    assert tables_in(url) == TABLES

    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    assert tables_in(url) == set()

    migrate.upgrade(url, "head")
    assert migrate.is_at_head(url)
    assert tables_in(url) == TABLES


# That index exists on PostgreSQL only; Alembic warns that SQLite cannot reflect an index on
# expressions before the schema filter leaves it out of the comparison.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index "
    "'ix_books_year_desc_id_desc':UserWarning"
)
def test_the_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = create_engine_for(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    **schema_filters(connection.dialect.name),
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_the_partial_unique_index_is_created(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    engine = create_engine_for(empty_database_url)
    try:
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("loans")}
    finally:
        engine.dispose()
    open_copy = indexes["uq_loans_open_copy_id"]
    assert open_copy["unique"]
    assert open_copy["column_names"] == ["copy_id"]
    where = open_copy.get("dialect_options", {})
    assert any("returned_at IS NULL" in str(value) for value in where.values()), where


def test_migrations_need_no_config_file_or_working_directory(
    empty_sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    migrate.upgrade(empty_sqlite_url)
    assert migrate.is_at_head(empty_sqlite_url)
    assert list(elsewhere.iterdir()) == []


def test_without_a_url_the_environment_variable_is_used(
    empty_sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIRCULATE_DATABASE_URL", empty_sqlite_url)
    command.upgrade(migrate.alembic_config(), "head")
    assert migrate.is_at_head(empty_sqlite_url)


def test_a_percent_encoded_url_survives_the_config(tmp_path: Path) -> None:
    # Alembic's config interpolates "%"; an encoded password or path must pass through as is.
    url = f"sqlite:///{tmp_path / 'a%20b.db'}"
    migrate.upgrade(url)
    assert migrate.is_at_head(url)
    assert [p.name for p in tmp_path.glob("*.db")] == ["a b.db"]


BROKEN_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO books (id) VALUES ('breaks a NOT NULL column')")


def downgrade() -> None:
    op.drop_table("half_done")
"""


def test_a_failing_upgrade_leaves_the_database_as_it_was(
    empty_database_url: str, tmp_path: Path
) -> None:
    scripts = tmp_path / "migrations"
    shutil.copytree(
        migrate.migrations_directory(), scripts, ignore=shutil.ignore_patterns("__pycache__")
    )
    (scripts / "versions" / "9999_broken.py").write_text(
        BROKEN_REVISION.format(head=migrate.head())
    )
    config = migrate.alembic_config(empty_database_url)
    config.set_main_option("script_location", str(scripts))

    with pytest.raises(IntegrityError):
        command.upgrade(config, "head")

    # Both revisions ran in one transaction: neither the good one nor half the bad one stayed.
    assert migrate.current(empty_database_url) is None
    assert tables_in(empty_database_url) == set()
