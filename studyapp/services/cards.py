"""Cards: find them with the query language, read one with its history, add, edit, suspend
and delete them.

A card's history is its review log and the predictions made on its demo from the card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from studyapp.clock import Clock, system_clock, today
from studyapp.db import Store
from studyapp.db import predictions as prediction_log
from studyapp.db import repository as repo
from studyapp.db.models import MAX_ROWID, CardRow, DeckRow, ReviewRow
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
from studyapp.services.bundled_files import BUNDLED_DIR
from studyapp.services.query import CardQuery

SEARCH_LIMIT = 500
NAMED_IN_ERRORS = 5  # unknown cards a refused deletion names
_CHUNK = 500


@dataclass(frozen=True)
class CardDetail:
    card: Card
    history: list[Review]
    predictions: list[Prediction] = field(default_factory=list)
    scheduler: str = "sm2"  # the scheduler of the card's deck


@dataclass(frozen=True)
class Deleted:
    """What a deletion took away, and where the collection as it was is kept."""

    cards: list[Card]
    reviews: int
    backup: Path | None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pattern(text: str) -> str:
    """A LIKE pattern for a name where `*` stands for any text."""
    return "%".join(_like_escape(part) for part in text.split("*"))


class CardService:
    def __init__(
        self, store: Store, clock: Clock = system_clock, bundled_dir: Path | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.bundled_dir = bundled_dir or BUNDLED_DIR
        self._shipped_cards: frozenset[str] | None = None  # read when first needed

    def search(
        self,
        text: str = "",
        tags: Iterable[str] = (),
        deck: str | None = None,
        limit: int = SEARCH_LIMIT,
    ) -> list[Card]:
        """Cards whose front, back or source contain every word of `text` and carry every tag."""
        decks = (deck,) if deck is not None else ()
        return self.find(CardQuery(tuple(text.split()), tuple(tags), decks), limit)

    def find(self, query: CardQuery, limit: int | None = SEARCH_LIMIT) -> list[Card]:
        """The cards that match `query`, in deck order (deck by name, then the deck's order);
        at most `limit` of them (None: all)."""
        with self.store.read() as session:
            statement = self._matching(session, query, select(CardRow, DeckRow.name))
            statement = statement.order_by(DeckRow.name, CardRow.position, CardRow.id)
            if limit is not None:
                statement = statement.limit(limit)
            return [repo.to_card(row, name) for row, name in session.execute(statement)]

    def find_with_history(self, query: CardQuery) -> list[CardDetail]:
        """Every card that matches `query`, with its whole review log."""
        cards = self.find(query, limit=None)
        history: dict[int, list[Review]] = {}
        with self.store.read() as session:
            ids = [card.id for card in cards]
            for start in range(0, len(ids), _CHUNK):
                rows = session.scalars(
                    select(ReviewRow)
                    .where(ReviewRow.card_id.in_(ids[start : start + _CHUNK]))
                    .order_by(ReviewRow.id)
                )
                for row in rows:
                    history.setdefault(row.card_id, []).append(repo.to_review(row))
        return [CardDetail(card, history.get(card.id, [])) for card in cards]

    def _matching(self, session: Session, query: CardQuery, columns: Select[Any]) -> Select[Any]:
        statement = columns.join(DeckRow, CardRow.deck_id == DeckRow.id)
        for word in query.words:
            pattern = f"%{_like_escape(word)}%"
            statement = statement.where(
                or_(
                    CardRow.front.ilike(pattern, escape="\\"),
                    CardRow.back.ilike(pattern, escape="\\"),
                    CardRow.source.ilike(pattern, escape="\\"),
                )
            )
        for tag in normalize_tags(query.tags):
            statement = statement.where(CardRow.tags.ilike(f"% {_like_escape(tag)} %", escape="\\"))
        for deck in query.decks:
            statement = statement.where(DeckRow.name.ilike(_pattern(deck), escape="\\"))
        for state in query.states:
            if state == "new":
                statement = statement.where(CardRow.due.is_(None))
            elif state == "suspended":
                statement = statement.where(CardRow.suspended.is_(True))
            else:
                statement = statement.where(self._due(session))
        return statement

    def _due(self, session: Session) -> Any:
        """Due today in its own deck's study day, and available to study."""
        hours = session.scalars(select(DeckRow.day_start_hour).distinct()).all()
        due_by_hour = []
        for hour in hours:
            day = today(self.clock, hour)
            due_by_hour.append(
                and_(DeckRow.day_start_hour == hour, CardRow.due <= day, repo.available(day))
            )
        return or_(*due_by_hour) if due_by_hour else CardRow.id.is_(None)

    def same_front(self, deck: str, front: str) -> list[Card]:
        """The cards of `deck` whose front reads the same (case and spacing aside)."""
        wanted = " ".join(clean_text(front).split()).casefold()
        with self.store.read() as session:
            row = repo.deck_by_name(session, deck.strip())
            if row is None:
                return []
            return [
                card
                for card in repo.deck_cards(session, row.id, row.name)
                if " ".join(card.front.split()).casefold() == wanted
            ]

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
                found[1].scheduler,
            )

    def update(
        self,
        card_id: int,
        *,
        front: str | None = None,
        back: str | None = None,
        tags: Iterable[str] | None = None,
        demo: DemoLink | None | bool = False,
        shown: Card | None = None,
    ) -> Card:
        """Edit a card's content; its scheduling state and history stay as they are.

        `demo=False` leaves the link alone; None removes it; a field given as None is left
        alone. `shown` is the card as an editor showed it: the edit is refused (UserError,
        nothing written) when that card was deleted since, or when a field being changed was
        changed since by someone else (another window, an import), whose change it would undo.
        """
        front = clean_text(front) if front is not None else None
        back = clean_text(back) if back is not None else None
        tags = normalize_tags(tags) if tags is not None else None
        check_content(front, back, tags, None, demo if isinstance(demo, DemoLink) else None)
        with self.store.write() as session:
            found = repo.card_by_id(session, card_id)
            if found is None and shown is not None:
                raise UserError(DELETED_SINCE)
            if found is None:
                raise UserError(f"there is no card with id {card_id}")
            row, deck = found
            if shown is not None:
                _check_unchanged(repo.to_card(row, deck.name), shown, front, back, tags, demo)
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

    def set_suspended(self, card_id: int, suspended: bool, uid: str | None = None) -> Card:
        """Suspend or unsuspend a card; with `uid`, only the card that has it (a row id is
        given again to a card added after the card that had it was deleted)."""
        with self.store.write() as session:
            found = repo.card_by_id(session, card_id)
            if found is None or (uid is not None and found[0].uid != uid):
                raise UserError(f"there is no card with id {card_id}")
            row, deck = found
            row.suspended = suspended
            return repo.to_card(row, deck.name)

    def delete(self, refs: Sequence[str | int], shown: Sequence[Card] = ()) -> Deleted:
        """Delete cards, named by id or uid, with their review history, after a backup.

        All or nothing: when any card is not found, nothing is deleted (and no backup made).
        A bundled card deleted here stays deleted when the bundled deck is brought up to date.
        `shown` are the cards as a screen showed them: a row id among them that another card
        holds now (the one shown was deleted since) is refused like a card not found.
        """
        if not refs:
            raise UserError("name at least one card to delete (its id or uid)")
        from studyapp.services.bundled_changes import note_cards_deleted, shipped

        bundled = shipped(self.bundled_dir)
        with self.store.write() as session:
            found = _resolve(session, refs)
            uids = {card.id: card.uid for card in shown}
            gone = [card.id for card in found if uids.get(card.id, card.uid) != card.uid]
            if gone:
                raise UserError(
                    f"card {gone[0]} was deleted since it was shown (another card has its id "
                    "now); nothing was deleted"
                )
            ids = [card.id for card in found]
            reviews = 0
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                reviews += (
                    session.scalar(
                        select(func.count())
                        .select_from(ReviewRow)
                        .where(ReviewRow.card_id.in_(chunk))
                    )
                    or 0
                )
            from studyapp.services.server_backups import backup_before

            backup = backup_before(self.store, "delete")
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                session.execute(delete(ReviewRow).where(ReviewRow.card_id.in_(chunk)))
                session.execute(delete(CardRow).where(CardRow.id.in_(chunk)))
            note_cards_deleted(session, (card.uid for card in found), bundled)
        return Deleted(found, reviews, backup)

    def any_bundled(self, uids: Sequence[str]) -> bool:
        """Whether any of these cards came with the bundled deck (deleting one is recorded,
        so that updates of the bundled deck leave it deleted)."""
        if self._shipped_cards is None:
            from studyapp.services.bundled_changes import shipped

            self._shipped_cards = shipped(self.bundled_dir).cards
        return any(uid in self._shipped_cards for uid in uids)

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


_FIELDS_EDITED = ("front", "back", "tags", "demo")


def _check_unchanged(
    stored: Card,
    shown: Card,
    front: str | None,
    back: str | None,
    tags: tuple[str, ...] | None,
    demo: DemoLink | None | bool,
) -> None:
    """Refuse an edit of `shown` that would undo what someone else changed since."""
    if stored.uid != shown.uid:
        raise UserError(DELETED_SINCE)
    edited = (front is not None, back is not None, tags is not None, demo is not False)
    changed = [
        name
        for name, is_edited in zip(_FIELDS_EDITED, edited, strict=True)
        if is_edited and getattr(stored, name) != getattr(shown, name)
    ]
    if changed:
        raise ChangedSinceError(changed)


DELETED_SINCE = "this card was deleted since it was opened; nothing was saved"


class ChangedSinceError(UserError):
    """An edit refused because someone else changed the `fields` it edits since they were
    shown; nothing was saved."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        super().__init__(
            f"the card's {' and '.join(fields)} changed since it was opened (in another window "
            "or by an import); nothing was saved: open it again to see the change"
        )


def _resolve(session: Session, refs: Sequence[str | int]) -> list[Card]:
    """The cards `refs` name (a number is a card's id, text its uid or its id), each once, in
    the order given; UserError naming those that are not there, or that name two cards."""
    found: dict[int, Card] = {}
    missing: list[str] = []
    for ref in refs:
        text = str(ref).strip()
        by_uid = None
        if not isinstance(ref, int):
            row = session.execute(
                select(CardRow, DeckRow).join(DeckRow).where(CardRow.uid == text)
            ).first()
            by_uid = (row[0], row[1]) if row else None
        number = int(text) if text.isascii() and text.isdigit() else None
        by_id = (
            repo.card_by_id(session, number) if number is not None and number <= MAX_ROWID else None
        )
        if by_uid and by_id and by_uid[0].id != by_id[0].id:
            raise UserError(
                f"{text!r} is the id of card {by_id[0].uid} and the uid of card "
                f"{by_uid[0].id}; nothing was deleted: name the card by its other id"
            )
        match = by_uid or by_id
        if match is None:
            missing.append(text)
        else:
            found.setdefault(match[0].id, repo.to_card(*_named(match)))
    if missing:
        shown = ", ".join(repr(m) for m in missing[:NAMED_IN_ERRORS])
        more = (
            f" and {len(missing) - NAMED_IN_ERRORS} more" if len(missing) > NAMED_IN_ERRORS else ""
        )
        raise UserError(
            f"no card has the id or uid {shown}{more}; nothing was deleted: "
            "`studyapp cards` lists them"
        )
    return list(found.values())
