"""The audit trail, and members who are anonymised rather than deleted.

``audit_events`` is append-only: triggers refuse UPDATE and DELETE on it (and TRUNCATE on
PostgreSQL), whoever asks, so not even a mistaken script rewrites history. Members gain the
``anonymised`` status; loans get an index on ``returned_at`` for the retention job. Existing rows
need no change: no member is anonymised yet, and no audit record can be made up for the past.

Revision ID: 0010c_audit_privacy
Revises: 0010b_charges
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010c_audit_privacy"
down_revision: str | Sequence[str] | None = "0010b_charges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTANT = sa.DateTime(timezone=True)
REFUSAL = "audit_events is append-only"

_POSTGRES_TRIGGERS = (
    f"""
    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
    """,
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
    """,
)
_SQLITE_TRIGGERS = (
    f"""
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
    """,
    f"""
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
    """,
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _members_as_of_0010b(*statuses: str) -> sa.Table:
    """The members table as this migration finds it, for SQLite without a database to reflect
    (``alembic upgrade --sql``): batch mode rebuilds the table from this definition."""
    listed = ", ".join(f"'{status}'" for status in statuses)
    return sa.Table(
        "members",
        sa.MetaData(),
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("membership_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), server_default="standard", nullable=False),
        sa.Column("card_number", sa.String(32), nullable=False),
        sa.UniqueConstraint("card_number", name="uq_members_card_number"),
        sa.CheckConstraint("role IN ('member', 'librarian', 'admin')", name="ck_members_role"),
        sa.CheckConstraint("version >= 1", name="ck_members_version_positive"),
        sa.CheckConstraint(f"status IN ({listed})", name="ck_members_status"),
    )


def _member_statuses(*statuses: str, were: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{status}'" for status in statuses)
    offline = context.is_offline_mode() and not _postgres()
    copy_from = _members_as_of_0010b(*were) if offline else None
    with op.batch_alter_table("members", copy_from=copy_from) as batch:
        batch.drop_constraint(op.f("ck_members_status"), type_="check")
        batch.create_check_constraint(op.f("ck_members_status"), f"status IN ({listed})")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", INSTANT, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        op.f("ix_audit_events_entity_type_entity_id_id"),
        "audit_events",
        ["entity_type", "entity_id", "id"],
    )
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor", "id"])
    op.create_index(op.f("ix_audit_events_action_id"), "audit_events", ["action", "id"])
    op.create_index(op.f("ix_audit_events_occurred_at"), "audit_events", ["occurred_at"])
    for statement in _POSTGRES_TRIGGERS if _postgres() else _SQLITE_TRIGGERS:
        op.execute(statement)
    _member_statuses("active", "suspended", "anonymised", were=("active", "suspended"))
    op.create_index(op.f("ix_loans_returned_at"), "loans", ["returned_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_loans_returned_at"), table_name="loans")
    # Anonymised members stay what they are (their data is gone); they become suspended ones.
    op.execute("UPDATE members SET status = 'suspended' WHERE status = 'anonymised'")
    _member_statuses("active", "suspended", were=("active", "suspended", "anonymised"))
    op.drop_table("audit_events")  # its triggers go with it
    if _postgres():
        op.execute("DROP FUNCTION audit_events_append_only()")
