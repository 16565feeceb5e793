"""What a rating does to a card under its deck's scheduler, SM-2 or FSRS.

The study session asks `next_state` when a card is rated, and for each rating when the
rating bar previews what it would do (`StudySession.preview`): both answer from the
scheduler itself, never from a copy of its rules. Light on purpose (no database, no
SQLAlchemy): the review screen paints its first card before SQLAlchemy loads.
"""

from __future__ import annotations

from datetime import date

from studyapp.model import Card, DeckSettings
from studyapp.scheduling import SM2State, sm2_answer
from studyapp.scheduling.fsrs import FSRSMemory, fsrs_review


def next_state(
    card: Card, rating: int, day: date, settings: DeckSettings
) -> tuple[SM2State, FSRSMemory | None]:
    """The card's schedule and FSRS memory after its first rating of study day `day`, under
    its deck's scheduler. SM-2 (with its rule for reviews ahead of the due date) leaves the
    memory state as it was."""
    if settings.scheduler == "fsrs":
        return fsrs_review(card.state, card.memory, rating, day, settings.fsrs)
    return sm2_answer(card.state, rating, day), card.memory
