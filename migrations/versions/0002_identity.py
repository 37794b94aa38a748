"""Identity: refresh tokens, API keys, service clients and revoked access tokens.

Revision ID: 0002_identity
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_identity"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types as they are in this revision.
STRING_LIST = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
INSTANT = sa.DateTime(timezone=True)
ID = sa.String(length=36)
DIGEST = sa.String(length=64)  # SHA-256, hex


def _version(table: str) -> tuple[sa.Column[int], sa.CheckConstraint]:
    return (
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f(f"ck_{table}_version_positive")),
    )


def upgrade() -> None:
    op.create_table(
        "refresh_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("family_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("token_hash", DIGEST, nullable=False),
        sa.Column("issued_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.Column("used_at", INSTANT, nullable=True),
        sa.Column("revoked_at", INSTANT, nullable=True),
        *_version("refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_refresh_tokens_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_family_id"), "refresh_tokens", ["family_id"])
    op.create_index(op.f("ix_refresh_tokens_member_id"), "refresh_tokens", ["member_id"])
    op.create_index(op.f("ix_refresh_tokens_expires_at"), "refresh_tokens", ["expires_at"])

    op.create_table(
        "api_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", DIGEST, nullable=False),
        sa.Column("scopes", STRING_LIST, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("expires_at", INSTANT, nullable=True),
        sa.Column("revoked_at", INSTANT, nullable=True),
        *_version("api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_created_at_id"), "api_keys", ["created_at", "id"])

    op.create_table(
        "service_clients",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", DIGEST, nullable=False),
        sa.Column("scopes", STRING_LIST, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("revoked_at", INSTANT, nullable=True),
        *_version("service_clients"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_clients")),
    )
    op.create_index(
        op.f("ix_service_clients_created_at_id"), "service_clients", ["created_at", "id"]
    )

    op.create_table(
        "revoked_tokens",
        sa.Column("identifier", sa.String(length=80), nullable=False),
        sa.Column("expires_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_revoked_tokens")),
    )
    op.create_index(op.f("ix_revoked_tokens_expires_at"), "revoked_tokens", ["expires_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in ("revoked_tokens", "service_clients", "api_keys", "refresh_tokens"):
        op.drop_table(table)
