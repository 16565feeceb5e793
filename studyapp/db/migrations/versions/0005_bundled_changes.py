"""Record the bundled cards and decks a learner deleted or renamed.

`studyapp init` and the app's first start after an upgrade bring in the bundled cards a
collection lacks; without this record a bundled card the learner deleted came back, and a
renamed bundled deck came back empty under its old name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundled_changes",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("bundled", sa.String(255), primary_key=True),
        sa.Column("current", sa.String(255), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("bundled_changes")
