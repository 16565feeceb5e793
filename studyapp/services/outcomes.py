"""What a rating does to a card under its deck's scheduler, SM-2 or FSRS.

The study session asks `next_state` when a card is rated; the rating bar asks `preview`
what each rating would do. Both answer from the scheduler itself, never from a copy of its
rules. Light on purpose (no database, no SQLAlchemy): the review screen paints its first
card before SQLAlchemy loads.
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


def preview(card: Card, settings: DeckSettings, day: date) -> dict[int, int]:
    """The interval in days each rating 1-5 would give the card as its first rating of study
    day `day`, from the deck's own scheduler."""
    return {rating: next_state(card, rating, day, settings)[0].interval for rating in range(1, 6)}
