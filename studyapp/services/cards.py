"""Cards: search by text and tag, read one with its history, edit, suspend and unsuspend.

A card's history is its review log and the predictions made on its demo from the card.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.db import predictions as prediction_log
from studyapp.db import repository as repo
from studyapp.db.models import CardRow, DeckRow
from studyapp.db.store import rows_in
from studyapp.errors import UserError
from studyapp.model import (
    Card,
    DemoLink,
    Prediction,
    Review,
    demo_link_problem,
    normalize_tags,
    text_problem,
)

SEARCH_LIMIT = 500


@dataclass(frozen=True)
class CardDetail:
    card: Card
    history: list[Review]
    predictions: list[Prediction] = field(default_factory=list)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class CardService:
    def __init__(self, store: Store, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def search(
        self,
        text: str = "",
        tags: Iterable[str] = (),
        deck: str | None = None,
        limit: int = SEARCH_LIMIT,
    ) -> list[Card]:
        """Cards whose front, back or source contain every word of `text` and carry every tag."""
        query = select(CardRow, DeckRow.name).join(DeckRow)
        for word in text.split():
            pattern = f"%{_like_escape(word)}%"
            query = query.where(
                or_(
                    CardRow.front.ilike(pattern, escape="\\"),
                    CardRow.back.ilike(pattern, escape="\\"),
                    CardRow.source.ilike(pattern, escape="\\"),
                )
            )
        for tag in normalize_tags(tags):
            query = query.where(CardRow.tags.ilike(f"% {_like_escape(tag)} %", escape="\\"))
        if deck is not None:
            query = query.where(DeckRow.name == deck)
        query = query.order_by(DeckRow.name, CardRow.position, CardRow.id).limit(limit)
        with self.store.read() as session:
            return [repo.to_card(row, name) for row, name in session.execute(query)]

    def add(
        self,
        deck: str,
        front: str,
        back: str,
        tags: Iterable[str] = (),
        source: str = "",
        demo: DemoLink | None = None,
    ) -> Card:
        """A new card at the end of `deck` (made if missing)."""
        front, back, source = clean_text(front), clean_text(back), " ".join(source.split())
        tags = normalize_tags(tags)
        check_content(front, back, tags, source, demo)
        now = repo.utc_naive(self.clock())
        with self.store.write() as session:
            deck_row = repo.ensure_deck(session, deck, self.clock())
            demo_id, demo_params = repo.demo_to_db(demo)
            row = CardRow(
                uid=repo.new_uid(),
                deck_id=deck_row.id,
                position=repo.next_position(session, deck_row.id),
                front=front,
                back=back,
                tags=repo.tags_to_db(tags),
                source=source,
                content_key=repo.content_key(front, back),
                demo_id=demo_id,
                demo_params=demo_params,
                suspended=False,
                buried_until=None,
                ease_cents=250,
                interval=0,
                repetitions=0,
                lapses=0,
                due=None,
                created_at=now,
                modified_at=now,
            )
            session.add(row)
            session.flush()
            return repo.to_card(row, deck_row.name)

    def detail(self, card_id: int) -> CardDetail:
        with self.store.read() as session:
            found = repo.card_by_id(session, card_id)
            if found is None:
                raise UserError(f"there is no card with id {card_id}")
            return CardDetail(
                repo.to_card(*_named(found)),
                repo.reviews_of(session, card_id),
                prediction_log.of_card(rows_in(session), card_id),
            )

    def update(
        self,
        card_id: int,
        *,
        front: str | None = None,
        back: str | None = None,
        tags: Iterable[str] | None = None,
        demo: DemoLink | None | bool = False,
    ) -> Card:
        """Edit a card's content; its scheduling state and history stay as they are.

        `demo=False` leaves the link alone; None removes it.
        """
        front = clean_text(front) if front is not None else None
        back = clean_text(back) if back is not None else None
        tags = normalize_tags(tags) if tags is not None else None
        check_content(front, back, tags, None, demo if isinstance(demo, DemoLink) else None)
        with self.store.write() as session:
            found = repo.card_by_id(session, card_id)
            if found is None:
                raise UserError(f"there is no card with id {card_id}")
            row, deck = found
            if front is not None:
                row.front = front
            if back is not None:
                row.back = back
            if tags is not None:
                row.tags = repo.tags_to_db(tags)
            if demo is not False:
                row.demo_id, row.demo_params = repo.demo_to_db(demo or None)
            row.content_key = repo.content_key(row.front, row.back)
            row.modified_at = repo.utc_naive(self.clock())
            return repo.to_card(row, deck.name)

    def set_suspended(self, card_id: int, suspended: bool) -> Card:
        with self.store.write() as session:
            found = repo.card_by_id(session, card_id)
            if found is None:
                raise UserError(f"there is no card with id {card_id}")
            row, deck = found
            row.suspended = suspended
            return repo.to_card(row, deck.name)

    def all_tags(self) -> list[str]:
        with self.store.read() as session:
            tags: set[str] = set()
            for text in session.scalars(select(CardRow.tags).distinct()):
                tags.update(text.split())
            return sorted(tags)


def clean_text(text: str) -> str:
    """A side of a card as it is kept: line breaks as "\\n" (what every file format reads)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_content(
    front: str | None,
    back: str | None,
    tags: Iterable[str] | None,
    source: str | None,
    demo: DemoLink | None,
) -> None:
    """Raise UserError when a card cannot hold this content (see `studyapp.model`); None is
    a field left as it is."""
    if front is not None and not front.strip():
        raise UserError("a card needs a front")
    tag_text = " ".join(tags) if tags is not None else None
    for name, text in (("front", front), ("back", back), ("source", source), ("tags", tag_text)):
        problem = text_problem(text) if text is not None else None
        if problem is not None:
            raise UserError(f"the card's {name} {problem}")
    problem = demo_link_problem(demo) if demo is not None else None
    if problem is not None:
        raise UserError(problem)


def _named(found: tuple[CardRow, DeckRow]) -> tuple[CardRow, str]:
    return found[0], found[1].name
