"""FSRS beside SM-2: a scheduler per deck, a memory state per card, imported reviews marked.

Decks get their scheduler ('sm2', the default, or 'fsrs'), the recall probability FSRS aims
at and their fitted FSRS parameters (JSON; null until fitted). Cards get their FSRS memory
state (stability and difficulty, null until the card has one) beside the SM-2 state, and
each review logs it before and after, so undo and the backup keep it. A review brought in
from another app's history is marked as imported.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decks") as batch:
        batch.add_column(sa.Column("scheduler", sa.String(8), nullable=False, server_default="sm2"))
        batch.add_column(
            sa.Column("desired_retention", sa.Float(), nullable=False, server_default="0.9")
        )
        batch.add_column(sa.Column("fsrs_params", sa.Text(), nullable=True))
    with op.batch_alter_table("cards") as batch:
        batch.add_column(sa.Column("stability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("difficulty", sa.Float(), nullable=True))
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(
            sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        for name in (
            "stability_before",
            "difficulty_before",
            "stability_after",
            "difficulty_after",
        ):
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        for name in (
            "difficulty_after",
            "stability_after",
            "difficulty_before",
            "stability_before",
            "imported",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("cards") as batch:
        batch.drop_column("difficulty")
        batch.drop_column("stability")
    with op.batch_alter_table("decks") as batch:
        batch.drop_column("fsrs_params")
        batch.drop_column("desired_retention")
        batch.drop_column("scheduler")
