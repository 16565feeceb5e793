"""The collection's tables, as SQLAlchemy 2.x typed models.

Only the repository and the migrations use these; everything above them sees the plain
values of `studyapp.model`. Column types are portable (no SQLite-only SQL), so a PostgreSQL
URL can hold a shared collection.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from studyapp.model import DEFAULT_NEW_PER_DAY, DEFAULT_REVIEWS_PER_DAY
from studyapp.scheduling import DEFAULT_DAY_START_HOUR

MAX_ROWID = 2**63 - 1  # the largest id a row can have (SQLite and PostgreSQL BIGINT)


class Base(DeclarativeBase):
    pass


class CollectionInfo(Base):
    """Key-value facts about the collection itself (which app version wrote it, when made)."""

    __tablename__ = "collection_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DeckRow(Base):
    __tablename__ = "decks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    new_per_day: Mapped[int] = mapped_column(Integer, default=DEFAULT_NEW_PER_DAY)
    reviews_per_day: Mapped[int] = mapped_column(Integer, default=DEFAULT_REVIEWS_PER_DAY)
    day_start_hour: Mapped[int] = mapped_column(Integer, default=DEFAULT_DAY_START_HOUR)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # "sm2" or "fsrs"; the recall FSRS aims at; FSRS's 21 parameters as JSON (None: defaults).
    scheduler: Mapped[str] = mapped_column(String(8), default="sm2", server_default="sm2")
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9, server_default="0.9")
    fsrs_params: Mapped[str | None] = mapped_column(Text, nullable=True)

    cards: Mapped[list[CardRow]] = relationship(back_populates="deck")


class CardRow(Base):
    """A card with its content and its current scheduling state.

    `tags` is stored as " tag1 tag2 " (space-delimited with a leading and trailing space) so
    a tag search is a portable LIKE '% tag %'. Ease is kept in exact hundredths.
    """

    __tablename__ = "cards"
    __table_args__ = (
        Index("ix_cards_deck_state", "deck_id", "due", "suspended", "buried_until"),
        Index("ix_cards_deck_position", "deck_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(128), unique=True)
    deck_id: Mapped[int] = mapped_column(ForeignKey("decks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text, default=" ")
    source: Mapped[str] = mapped_column(Text, default="")
    content_key: Mapped[str] = mapped_column(String(64))
    demo_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    demo_params: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON object
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    buried_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    ease_cents: Mapped[int] = mapped_column(Integer, default=250)
    interval: Mapped[int] = mapped_column(Integer, default=0)
    repetitions: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    modified_at: Mapped[datetime] = mapped_column(DateTime)
    # The FSRS memory state, None until the card has one (a new card, a deck never on FSRS).
    stability: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty: Mapped[float | None] = mapped_column(Float, nullable=True)

    deck: Mapped[DeckRow] = relationship(back_populates="cards")


class ReviewRow(Base):
    """One rating in the append-only review log, with the card's state before and after.

    `at` is UTC; `study_day` is the local study day the rating counted for. `imported` marks
    a review brought in from another app's history (an Anki package's review log).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_card_day", "card_id", "study_day"),
        Index("ix_reviews_day", "study_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    study_day: Mapped[date] = mapped_column(Date)
    rating: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    ease_before: Mapped[int] = mapped_column(Integer)
    interval_before: Mapped[int] = mapped_column(Integer)
    repetitions_before: Mapped[int] = mapped_column(Integer)
    lapses_before: Mapped[int] = mapped_column(Integer)
    due_before: Mapped[date | None] = mapped_column(Date, nullable=True)
    ease_after: Mapped[int] = mapped_column(Integer)
    interval_after: Mapped[int] = mapped_column(Integer)
    repetitions_after: Mapped[int] = mapped_column(Integer)
    lapses_after: Mapped[int] = mapped_column(Integer)
    due_after: Mapped[date | None] = mapped_column(Date, nullable=True)
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    stability_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    stability_after: Mapped[float | None] = mapped_column(Float, nullable=True)
    difficulty_after: Mapped[float | None] = mapped_column(Float, nullable=True)


class BundledChangeRow(Base):
    """What the learner did to the bundled deck that its updates must respect.

    `kind` is "deleted_card" (`bundled` is the card's id), "deleted_deck" or "renamed_deck"
    (`bundled` is the deck's name in the bundled files; `current`, for a rename, the name the
    learner gave it). Only bundled cards and decks are recorded here, and only when the
    learner deletes or renames them.
    """

    __tablename__ = "bundled_changes"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    bundled: Mapped[str] = mapped_column(String(255), primary_key=True)
    current: Mapped[str | None] = mapped_column(String(255), nullable=True)


class DemoResultRow(Base):
    """A cached demo result, keyed by demo id, parameters, seed and the demo's code version."""

    __tablename__ = "demo_results"
    __table_args__ = (UniqueConstraint("cache_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64))
    demo_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)  # DemoResult as JSON
    created_at: Mapped[datetime] = mapped_column(DateTime)


class PredictionRow(Base):
    """A prediction of a demo's outcome, written before the run and graded after it.

    `card_id` is null for a run from the command line; a card's predictions go with it.
    `answer`, `why` and `correct` are null until the run has finished. `at` is UTC.
    """

    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_card", "card_id"),
        Index("ix_predictions_demo", "demo_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int | None] = mapped_column(
        ForeignKey("cards.id", ondelete="CASCADE"), nullable=True
    )
    demo_id: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text)  # JSON object: the run's resolved parameters
    seed: Mapped[int] = mapped_column(BigInteger)  # up to 2**32 - 1, past a 32-bit integer
    question_id: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    chosen: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    why: Mapped[str | None] = mapped_column(Text, nullable=True)
    correct: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime)
