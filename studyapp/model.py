"""Plain values that cross layers: the database hands these to services, the TUI and formats.

No ORM object outlives its session; what leaves the database is one of these frozen types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from studyapp.scheduling import DEFAULT_DAY_START_HOUR, SM2State

LEECH_TAG = "leech"
LEECH_LAPSES = 8
DEFAULT_NEW_PER_DAY = 20
DEFAULT_REVIEWS_PER_DAY = 200
# What a review was: a new card's first rating, a review, a relearning after a lapse, or a
# same-day repeat that changes nothing (a drill).
REVIEW_KINDS = ("new", "review", "relearn", "drill")

_TAG_SPACE = re.compile(r"\s+")


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags without spaces, without duplicates, in first-seen order.

    A space inside a tag becomes an underscore, as Anki does, so a tag list can always be
    written as space-separated words.
    """
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = _TAG_SPACE.sub("_", tag.strip())
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


@dataclass(frozen=True)
class DemoLink:
    """A link from a card to a demo in our registry: an id and parameter overrides."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "params": dict(self.params)}


@dataclass(frozen=True)
class DeckSettings:
    """Per-deck study limits and the hour at which the study day rolls over."""

    new_per_day: int = DEFAULT_NEW_PER_DAY
    reviews_per_day: int = DEFAULT_REVIEWS_PER_DAY
    day_start_hour: int = DEFAULT_DAY_START_HOUR


@dataclass(frozen=True)
class Deck:
    id: int
    name: str
    settings: DeckSettings
    description: str = ""


@dataclass(frozen=True)
class DeckCounts:
    """What `studyapp decks` shows for one deck."""

    name: str
    total: int
    new: int
    due: int
    learning: int
    suspended: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total": self.total,
            "new": self.new,
            "due": self.due,
            "learning": self.learning,
        }


@dataclass(frozen=True)
class Review:
    """One entry of the review log: a rating with the card's state before and after."""

    id: int
    card_id: int
    at: datetime  # aware, UTC
    study_day: date
    rating: int
    duration_ms: int
    kind: str  # "new", "review", "relearn" or "drill" (a same-day repeat that changes nothing)
    before: SM2State
    after: SM2State


@dataclass(frozen=True)
class Card:
    """A card as the rest of the app sees it."""

    id: int
    uid: str
    deck: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    source: str = ""
    demo: DemoLink | None = None
    state: SM2State = field(default_factory=SM2State.new)
    suspended: bool = False
    buried_until: date | None = None
    position: int = 0

    @property
    def is_leech(self) -> bool:
        return LEECH_TAG in self.tags
