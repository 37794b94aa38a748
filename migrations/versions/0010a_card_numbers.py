"""Library card numbers: every member gets a unique ``card_number``, the key the desk scans.

Existing members are numbered in the library's card number format (the
``CIRCULATE_CARD_NUMBER_FORMAT`` setting as it is when the migration runs, default ``2{12}``):
serials 1, 2, 3 ... in order of registration (ties by id), each followed by its Luhn check
digit. The numbering is deterministic, so the same database migrated twice (a rehearsal, then
production) gives every member the same card. New members get random serials from the
application, which skips any number already taken.

Revision ID: 0010a_card_numbers
Revises: 0009c_webhooks
Create Date: 2026-12-04
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0010a_card_numbers"
down_revision: str | Sequence[str] | None = "0009c_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CARD_NUMBER = sa.String(length=32)
DEFAULT_FORMAT = "2{12}"
_FORMAT = re.compile(r"^(?P<prefix>[A-Za-z0-9]{0,8})\{(?P<digits>\d{1,2})\}$")
_BATCH = 1000


# Frozen copies of ``domain.cards`` as it is in this revision: the migration must number cards
# the same way however that module changes later.
def _luhn_digit(digits: str) -> str:
    total = 0
    for place, char in enumerate(reversed(digits)):
        value = int(char)
        if place % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return str((10 - total % 10) % 10)


def _card_format() -> tuple[str, int]:
    text = os.environ.get("CIRCULATE_CARD_NUMBER_FORMAT", DEFAULT_FORMAT).strip()
    match = _FORMAT.match(text)
    if match is None or not 6 <= int(match["digits"]) <= 15:
        raise RuntimeError(
            f"CIRCULATE_CARD_NUMBER_FORMAT={text!r} is not PREFIX{{DIGITS}} (6-15 digits)"
        )
    return match["prefix"].upper(), int(match["digits"])


def upgrade() -> None:
    prefix, digits = _card_format()
    op.add_column("members", sa.Column("card_number", CARD_NUMBER, nullable=True))
    members = sa.table("members", sa.column("id", sa.String), sa.column("card_number", CARD_NUMBER))
    if context.is_offline_mode():
        raise RuntimeError(
            "0010a_card_numbers numbers the members it finds, so it cannot be printed as SQL: "
            "apply it with `circulate db upgrade`"
        )
    connection = op.get_bind()
    ids = [
        member_id
        for (member_id,) in connection.execute(
            sa.text("SELECT id FROM members ORDER BY created_at, id")
        )
    ]
    if len(ids) >= 10**digits:
        raise RuntimeError(f"{len(ids)} members do not fit {digits}-digit card serials")
    update = (
        members.update()
        .where(members.c.id == sa.bindparam("member_id"))
        .values(card_number=sa.bindparam("number"))
    )
    for start in range(0, len(ids), _BATCH):
        rows = []
        for serial, member_id in enumerate(ids[start : start + _BATCH], start=start + 1):
            body = f"{serial:0{digits}d}"
            rows.append({"member_id": member_id, "number": f"{prefix}{body}{_luhn_digit(body)}"})
        connection.execute(update, rows)
    _require_card_numbers()


def _require_card_numbers() -> None:
    with op.batch_alter_table("members") as batch:
        batch.alter_column("card_number", existing_type=CARD_NUMBER, nullable=False)
        batch.create_unique_constraint(op.f("uq_members_card_number"), ["card_number"])


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("uq_members_card_number"), type_="unique")
        batch.drop_column("card_number")
