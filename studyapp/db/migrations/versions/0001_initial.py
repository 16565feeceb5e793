"""The first collection schema: decks, cards with their state, the review log, demo cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "decks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("new_per_day", sa.Integer(), nullable=False),
        sa.Column("reviews_per_day", sa.Integer(), nullable=False),
        sa.Column("day_start_hour", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(128), nullable=False, unique=True),
        sa.Column(
            "deck_id", sa.Integer(), sa.ForeignKey("decks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("front", sa.Text(), nullable=False),
        sa.Column("back", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("content_key", sa.String(64), nullable=False),
        sa.Column("demo_id", sa.String(64), nullable=True),
        sa.Column("demo_params", sa.Text(), nullable=True),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("buried_until", sa.Date(), nullable=True),
        sa.Column("ease_cents", sa.Integer(), nullable=False),
        sa.Column("interval", sa.Integer(), nullable=False),
        sa.Column("repetitions", sa.Integer(), nullable=False),
        sa.Column("lapses", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cards_deck_due", "cards", ["deck_id", "due"])
    op.create_index("ix_cards_deck_position", "cards", ["deck_id", "position"])
    op.create_index("ix_cards_content_key", "cards", ["content_key"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "card_id", sa.Integer(), sa.ForeignKey("cards.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("study_day", sa.Date(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ease_before", sa.Integer(), nullable=False),
        sa.Column("interval_before", sa.Integer(), nullable=False),
        sa.Column("repetitions_before", sa.Integer(), nullable=False),
        sa.Column("lapses_before", sa.Integer(), nullable=False),
        sa.Column("due_before", sa.Date(), nullable=True),
        sa.Column("ease_after", sa.Integer(), nullable=False),
        sa.Column("interval_after", sa.Integer(), nullable=False),
        sa.Column("repetitions_after", sa.Integer(), nullable=False),
        sa.Column("lapses_after", sa.Integer(), nullable=False),
        sa.Column("due_after", sa.Date(), nullable=True),
    )
    op.create_index("ix_reviews_card_day", "reviews", ["card_id", "study_day"])
    op.create_index("ix_reviews_day", "reviews", ["study_day"])
    op.create_table(
        "demo_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cache_key", sa.String(64), nullable=False, unique=True),
        sa.Column("demo_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_demo_results_demo_id", "demo_results", ["demo_id"])


def downgrade() -> None:
    op.drop_table("demo_results")
    op.drop_table("reviews")
    op.drop_table("cards")
    op.drop_table("decks")
    op.drop_table("collection_info")
