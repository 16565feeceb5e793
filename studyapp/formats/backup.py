"""The JSON backup: the whole collection, losslessly, as one document.

    {"version": 1, "decks": [{"name", "description", "settings": {...}, "cards": [
        {"id", "front", "back", "tags", "source", "demo": {"id", "params"} | null,
         "suspended", "buried_until" (only when buried),
         "state": {"ease", "interval", "repetitions", "lapses", "due"},
         "memory": {"stability", "difficulty"} | null,
         "reviews": [{"at", "study_day", "rating", "duration_ms", "kind",
                      "before": {...state}, "after": {...state}, "imported",
                      "memory_before": {...memory} | null, "memory_after": ...}]}]}],
     "predictions": [{"card": card id | null, "demo", "params", "seed", "question_id",
                      "question", "predicted", "answer", "why", "correct", "at"}],
     "bundled_changes": {"deleted_cards", "deleted_decks", "renamed_decks"}}

A list of such cards, each with its "deck" (what `studyapp cards --json` prints), reads too.

A deck's settings hold its daily limits, day-start hour and scheduler ("scheduler",
"desired_retention", "fsrs_params": a list of 21 numbers or null for the defaults); the
memory state is FSRS's. A backup written before FSRS came has none of these, and reads as
SM-2 decks whose cards have no memory state yet. `bundled_changes` (the bundled cards and
decks the learner deleted or renamed, which updates of the bundled deck respect) is written
only when there are any.

Decks come in name order, cards in deck order, reviews and predictions oldest first, and
nothing depends on the time of the export, so exporting, importing into an empty collection
and exporting again gives the same bytes. A collection with no predictions writes no
"predictions" key, as backups did before predictions were kept. Reading checks every field
and names the entry that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from studyapp.formats.base import (
    CardDraft,
    DeckDraft,
    ExportCard,
    ExportDeck,
    FormatError,
    FormatSpec,
    ParseResult,
    PredictionDraft,
    ReviewDraft,
)
from studyapp.formats.textio import head_text, looks_like_text, read_text
from studyapp.model import (
    MAX_REVIEW_MS,
    MAX_SEED,
    REVIEW_KINDS,
    BundledChanges,
    DeckSettings,
    DemoLink,
    deck_name_problem,
    demo_link_problem,
    grade_problem,
    normalize_tags,
    question_id_problem,
    text_problem,
)
from studyapp.scheduling import SM2State
from studyapp.scheduling.days import DAY_BOUNDS, in_bounds, moment_in_bounds
from studyapp.scheduling.fsrs import FSRSMemory

NAME = "json"
VERSION = 1
_SETTINGS = ("new_per_day", "reviews_per_day", "day_start_hour")  # whole numbers


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head).lstrip()
    if text.startswith("{") and '"decks"' in text and '"version"' in text:
        return 0.95
    if text.startswith(("{", "[")) and path.suffix.lower() == ".json":
        return 0.6
    return 0.0


# --- writing --------------------------------------------------------------------------------


def state_to_dict(state: SM2State) -> dict[str, Any]:
    return {
        "ease": state.ease_cents / 100,
        "interval": state.interval,
        "repetitions": state.repetitions,
        "lapses": state.lapses,
        "due": state.due.isoformat() if state.due else None,
    }


def memory_to_dict(memory: FSRSMemory | None) -> dict[str, float] | None:
    return memory.to_dict() if memory is not None else None


def card_to_dict(card: ExportCard) -> dict[str, Any]:
    """A card as the backup holds it."""
    return {
        "id": card.uid,
        "front": card.front,
        "back": card.back,
        "tags": list(card.tags),
        "source": card.source,
        "demo": card.demo.to_dict() if card.demo else None,
        "suspended": card.suspended,
        **({"buried_until": card.buried_until.isoformat()} if card.buried_until else {}),
        "state": state_to_dict(card.state),
        "memory": memory_to_dict(card.memory),
        "reviews": [
            {
                "at": review.at.isoformat(),
                "study_day": review.study_day.isoformat(),
                "rating": review.rating,
                "duration_ms": review.duration_ms,
                "kind": review.kind,
                "before": state_to_dict(review.before),
                "after": state_to_dict(review.after),
                "imported": review.imported,
                "memory_before": memory_to_dict(review.memory_before),
                "memory_after": memory_to_dict(review.memory_after),
            }
            for review in card.reviews
        ],
    }


def prediction_to_dict(prediction: PredictionDraft) -> dict[str, Any]:
    card, demo, params, seed, question_id, question, predicted, answer, why, correct, at = (
        prediction
    )
    return {
        "card": card,
        "demo": demo,
        "params": dict(params),
        "seed": seed,
        "question_id": question_id,
        "question": question,
        "predicted": predicted,
        "answer": answer,
        "why": why,
        "correct": correct,
        "at": at.isoformat(),
    }


def document(
    decks: Sequence[ExportDeck],
    predictions: Sequence[PredictionDraft] = (),
    bundled: BundledChanges | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": VERSION,
        "decks": [
            {
                "name": deck.name,
                "description": deck.description,
                "settings": dict(deck.settings or {}),
                "cards": [card_to_dict(c) for c in sorted(deck.cards, key=lambda c: c.position)],
            }
            for deck in sorted(decks, key=lambda d: d.name)
        ],
    }
    if predictions:
        out["predictions"] = [prediction_to_dict(p) for p in predictions]
    if bundled:
        out["bundled_changes"] = bundled.to_dict()
    return out


def export(
    decks: Sequence[ExportDeck],
    predictions: Sequence[PredictionDraft] = (),
    bundled: BundledChanges | None = None,
) -> bytes:
    """The backup as JSON laid out for reading and diffing: one line per card.

    The text is `document(decks)` as the standard library's encoder writes it with its
    default separators, one card to a line. Each line is put together here from strings
    the C encoder escapes: building a dictionary per card and review and encoding it costs
    several times more at 100,000 cards (and indented output, in pure Python, ten times).
    Predictions, a few per demo run a learner predicted, go one to a line after the decks.
    """
    lines = ["{", f'  "version": {VERSION},', '  "decks": [']
    ordered = sorted(decks, key=lambda d: d.name)
    line = _CardLines().line
    for i, deck in enumerate(ordered):
        lines.append("    {")
        lines.append(f'      "name": {_compact(deck.name)},')
        lines.append(f'      "description": {_compact(deck.description)},')
        lines.append(f'      "settings": {_compact(dict(deck.settings or {}))},')
        cards = sorted(deck.cards, key=lambda c: c.position)
        if cards:
            lines.append('      "cards": [')
            lines += [f"        {line(card)}," for card in cards]
            lines[-1] = lines[-1][:-1]  # no comma after the last card
            lines.append("      ]")
        else:
            lines.append('      "cards": []')
        lines.append("    }" + ("," if i < len(ordered) - 1 else ""))
    if predictions:
        lines += ["  ],", '  "predictions": [']
        lines += [f"    {_compact(prediction_to_dict(p))}," for p in predictions]
        lines[-1] = lines[-1][:-1]
    if bundled:
        lines += ["  ],", f'  "bundled_changes": {_compact(bundled.to_dict())}', "}", ""]
    else:
        lines += ["  ]", "}", ""]
    return "\n".join(lines).encode("utf-8")


_compact = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
_string = json.encoder.encode_basestring  # a str as JSON, escaped as _compact escapes it


class _CardLines:
    """Cards as JSON lines, with the text of a state or a tag list worked out once.

    Cards and reviews share a few states (every new card has the same one) and tag lists;
    their text is kept by object, each object held so its id is not reused meanwhile.
    """

    def __init__(self) -> None:
        self.states: dict[int, tuple[SM2State, str]] = {}
        self.tags: dict[tuple[str, ...], str] = {}

    def state(self, state: SM2State) -> str:
        known = self.states.get(id(state))
        if known is None:
            known = self.states[id(state)] = (state, _compact(state_to_dict(state)))
        return known[1]

    def line(self, card: ExportCard) -> str:
        uid, front, back, tags, source, demo, state, reviews, suspended, _, memory, buried = card
        tag_list = self.tags.get(tags)
        if tag_list is None:
            tag_list = self.tags[tags] = _compact(list(tags))
        known = self.states.get(id(state))
        state_text = known[1] if known is not None else self.state(state)
        burial = f' "buried_until": "{buried.isoformat()}",' if buried else ""
        return (
            f'{{"id": {_string(uid)}, "front": {_string(front)}, "back": {_string(back)},'
            f' "tags": {tag_list}, "source": {_string(source)},'
            f' "demo": {_compact(demo.to_dict()) if demo else "null"},'
            f' "suspended": {"true" if suspended else "false"},'
            f"{burial}"
            f' "state": {state_text},'
            f' "memory": {_memory(memory)},'
            f' "reviews": [{", ".join(map(self.review, reviews)) if reviews else ""}]}}'
        )

    def review(self, review: ReviewDraft) -> str:
        at, study_day, rating, duration_ms, kind, before, after, m_before, m_after, imported = (
            review
        )
        return (
            f'{{"at": {_string(at.isoformat())}, "study_day": {_string(study_day.isoformat())},'
            f' "rating": {rating!r}, "duration_ms": {duration_ms!r},'
            f' "kind": {_string(kind)}, "before": {self.state(before)},'
            f' "after": {self.state(after)}, "imported": {"true" if imported else "false"},'
            f' "memory_before": {_memory(m_before)}, "memory_after": {_memory(m_after)}}}'
        )


def _memory(memory: FSRSMemory | None) -> str:
    return "null" if memory is None else _compact(memory.to_dict())


# --- reading --------------------------------------------------------------------------------


class _Entry:
    """Reads one object's fields, naming the entry in every error."""

    def __init__(self, path: Path, where: str, data: Any) -> None:
        self.path, self.where = path, where
        if not isinstance(data, dict):
            self.fail(f"expected an object, found {_kind(data)}")
        self.data: dict[str, Any] = data

    def fail(self, reason: str) -> None:
        raise FormatError.at(self.path, self.where, reason)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(f"{key!r} is missing")
            return default
        value = self.data[key]
        if value is None and default is None:
            return None
        bad_bool = isinstance(value, bool) and kind in (int, float, (int, float))
        if bad_bool or not isinstance(value, kind):
            self.fail(f"{key!r} must be {_name(kind)}, not {_kind(value)}")
        return value

    def text(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        problem = text_problem(value) if value is not None else None
        if problem is not None:
            self.fail(f"{key!r} {problem}")
        return value

    def day(self, key: str, default: Any = ...) -> date | None:
        value = self.get(key, str, default)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.fail(f"{key!r} is not a date (YYYY-MM-DD): {value!r}")
            raise
        if not in_bounds(day):
            self.fail(f"{key!r} {value} is outside {DAY_BOUNDS}")
        return day

    def memory(self, key: str) -> FSRSMemory | None:
        data = self.get(key, dict, None)
        if data is None:
            return None
        entry = _Entry(self.path, f"{self.where}, {key}", data)
        try:
            memory = FSRSMemory(
                float(entry.get("stability", (int, float))),
                float(entry.get("difficulty", (int, float))),
            )
            memory.check()
        except (ValueError, OverflowError) as exc:
            entry.fail(str(exc))
            raise
        return memory

    def state(self, key: str, default: Any = ...) -> SM2State | None:
        data = self.get(key, dict, default)
        if data is None:
            return None
        entry = _Entry(self.path, f"{self.where}, {key}", data)
        due = entry.day("due", None)
        try:
            state = SM2State(
                ease=round(float(entry.get("ease", (int, float))) * 100) / 100,
                repetitions=entry.get("repetitions", int),
                interval=entry.get("interval", int),
                due=due,
                lapses=entry.get("lapses", int),
            )
            state.check()
            if key == "state" and due is None and (state.repetitions or state.interval):
                # A card with no due day is new; one studied is due some day.
                raise ValueError(
                    f"a studied card (repetitions {state.repetitions}, interval "
                    f"{state.interval}) needs a due day"
                )
        except (ValueError, OverflowError) as exc:
            entry.fail(str(exc))
            raise
        return state


def _name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
    names.update({dict: "an object", list: "a list"})
    if isinstance(kind, tuple):
        return "a number"
    return names.get(kind, kind.__name__)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def parse(path: Path) -> ParseResult:
    text = read_text(path)
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FormatError.at(
            path, f"line {exc.lineno}", f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    except RecursionError:
        raise FormatError.at(path, None, "the JSON is nested too deeply to be a backup") from None
    except ValueError as exc:  # a number too long to read, or NaN / Infinity
        raise FormatError.at(path, None, f"not valid JSON ({exc})") from None
    return read_document(data, path)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def read_document(data: Any, path: Path) -> ParseResult:
    if isinstance(data, list):
        return _read_card_list(data, path)
    top = _Entry(path, "", data) if isinstance(data, dict) else None
    if top is None:
        raise FormatError.at(path, None, f"a backup is a JSON object, not {_kind(data)}")
    top.where = "top level"
    version = top.get("version", int)
    if version > VERSION:
        top.fail(f"the backup is version {version}, newer than this studyapp reads ({VERSION})")
    if version < 1:
        top.fail(f"unknown backup version {version}")
    result = ParseResult(format=NAME)
    entry_number = 0
    raw_predictions = top.get("predictions", list, [])
    for index, raw_deck in enumerate(top.get("decks", list), start=1):
        deck = _Entry(path, f"deck {index}", raw_deck)
        name = deck.text("name").strip()
        problem = deck_name_problem(name)
        if problem is not None:
            deck.fail(problem)
        deck.where = f"deck {name!r}"
        result.decks.append(DeckDraft(name, deck.text("description", ""), _settings(deck)))
        for raw_card in deck.get("cards", list, []):
            entry_number += 1
            result.cards.append(_read_card(path, entry_number, name, raw_card))
    card_ids = {card.key for card in result.cards}
    result.predictions = [
        _read_prediction(path, f"prediction {number}", raw, card_ids)
        for number, raw in enumerate(raw_predictions, start=1)
    ]
    raw_changes = top.get("bundled_changes", dict, None)
    if raw_changes is not None:
        result.bundled_changes = _bundled_changes(_Entry(path, "bundled_changes", raw_changes))
    return result


def _read_card_list(data: list[Any], path: Path) -> ParseResult:
    """The cards `studyapp cards --json` prints: a list of backup cards, each with its deck."""
    result = ParseResult(format=NAME)
    decks: set[str] = set()
    for number, raw in enumerate(data, start=1):
        if not isinstance(raw, dict):
            raise FormatError.at(
                path, f"entry {number}", f"a list of cards holds objects, not {_kind(raw)}"
            )
        name = _Entry(path, f"entry {number}", raw).text("deck").strip()
        problem = deck_name_problem(name)
        if problem is not None:
            raise FormatError.at(path, f"entry {number}", f"deck name: {problem}")
        if name not in decks:
            decks.add(name)
            result.decks.append(DeckDraft(name))
        result.cards.append(_read_card(path, number, name, raw))
    return result


def _bundled_changes(entry: _Entry) -> BundledChanges:
    def names(key: str, what: str) -> list[str]:
        values = entry.get(key, list, [])
        for value in values:
            if not isinstance(value, str) or not value.strip():
                entry.fail(f"{key!r} holds {_kind(value)}, not {what}")
        return values

    cards = names("deleted_cards", "a card id")
    for uid in cards:
        problem = text_problem(uid)
        if problem is not None:
            entry.fail(f"a card id in 'deleted_cards' {problem}")
    decks = names("deleted_decks", "a deck name")
    renamed = entry.get("renamed_decks", dict, {})
    for name in [*decks, *renamed, *renamed.values()]:
        problem = deck_name_problem(name) if isinstance(name, str) else "it is not text"
        if problem is not None:
            entry.fail(f"deck name {str(name)[:80]!r}: {problem}")
    return BundledChanges(frozenset(cards), frozenset(decks), dict(renamed))


def _settings(deck: _Entry) -> dict[str, Any] | None:
    raw = deck.get("settings", dict, None)
    if raw is None:
        return None
    entry = _Entry(deck.path, f"{deck.where}, settings", raw)
    defaults = DeckSettings()
    settings: dict[str, Any] = {
        key: entry.get(key, int, getattr(defaults, key)) for key in _SETTINGS
    }
    settings["scheduler"] = entry.text("scheduler", defaults.scheduler)
    settings["desired_retention"] = entry.get(
        "desired_retention", (int, float), defaults.desired_retention
    )
    params = entry.get("fsrs_params", list, None)
    settings["fsrs_params"] = tuple(params) if params is not None else None
    problem = DeckSettings(**settings).problem()
    if problem is not None:
        entry.fail(problem)
    settings["desired_retention"] = float(settings["desired_retention"])  # checked: in 0..1
    return settings


def _read_card(path: Path, number: int, deck: str, data: Any) -> CardDraft:
    entry = _Entry(path, f"entry {number}", data)
    card_id = entry.text("id").strip()
    if not card_id:
        entry.fail("'id' is empty")
    front = entry.text("front")
    if not front.strip():
        entry.fail("'front' is empty")
    tags = entry.get("tags", list, [])
    if not all(isinstance(t, str) for t in tags):
        entry.fail("'tags' must be a list of text")
    problem = text_problem("".join(tags))
    if problem is not None:
        entry.fail(f"a tag {problem}")
    demo = None
    raw_demo = entry.get("demo", dict, None)
    if raw_demo is not None:
        link = _Entry(path, f"entry {number}, demo", raw_demo)
        demo = DemoLink(link.text("id"), dict(link.get("params", dict, {})))
        problem = demo_link_problem(demo)
        if problem is not None:
            link.fail(problem)
    reviews = tuple(
        _read_review(path, f"entry {number}, review {i}", raw)
        for i, raw in enumerate(entry.get("reviews", list, []), start=1)
    )
    return CardDraft(
        front=front,
        back=entry.text("back", ""),
        tags=normalize_tags(tags),
        source=entry.text("source", ""),
        key=card_id,
        deck=deck,
        demo=demo,
        where=f"entry {number}",
        state=entry.state("state", None),
        reviews=reviews,
        suspended=entry.get("suspended", bool, False),
        memory=entry.memory("memory"),
        buried_until=entry.day("buried_until", None),
    )


def _moment(entry: _Entry, key: str) -> datetime:
    """A date and time with its zone, as the collection can store it (in UTC)."""
    text = entry.text(key)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        entry.fail(f"{key!r} is not a date and time: {text!r}")
        raise
    if at.tzinfo is None:
        entry.fail(f"{key!r} must carry its time zone: {text!r}")
    if not moment_in_bounds(at):  # stored in UTC
        entry.fail(f"{key!r} {text} is outside {DAY_BOUNDS} in UTC")
    return at


def _read_review(path: Path, where: str, data: Any) -> ReviewDraft:
    entry = _Entry(path, where, data)
    at = _moment(entry, "at")
    rating = entry.get("rating", int)
    if not 1 <= rating <= 5:
        entry.fail(f"'rating' must be from 1 to 5, not {rating}")
    kind = entry.text("kind")
    if kind not in REVIEW_KINDS:
        entry.fail(f"'kind' must be one of {', '.join(REVIEW_KINDS)}, not {kind!r}")
    duration = entry.get("duration_ms", int, 0)
    if not 0 <= duration <= MAX_REVIEW_MS:
        entry.fail(f"'duration_ms' must be from 0 to {MAX_REVIEW_MS:,} (a day), not {duration}")
    study_day = entry.day("study_day")
    before, after = entry.state("before"), entry.state("after")
    assert study_day is not None and before is not None and after is not None
    imported = entry.get("imported", bool, False)
    memory_before, memory_after = entry.memory("memory_before"), entry.memory("memory_after")
    return ReviewDraft(
        at, study_day, rating, duration, kind, before, after, memory_before, memory_after, imported
    )


def _read_prediction(
    path: Path, where: str, data: Any, card_ids: set[str | None]
) -> PredictionDraft:
    entry = _Entry(path, where, data)
    card = entry.text("card", None)
    if card is not None and card.strip() not in card_ids:
        entry.fail(f"'card' {card!r} is no card of this backup")
    demo = DemoLink(entry.text("demo"), dict(entry.get("params", dict)))
    problem = demo_link_problem(demo)
    if problem is not None:
        entry.fail(problem)
    seed = entry.get("seed", int)
    if not 0 <= seed <= MAX_SEED:
        entry.fail(f"'seed' must be from 0 to {MAX_SEED}, not {seed}")
    question_id = entry.text("question_id").strip()
    problem = question_id_problem(question_id)
    if problem is not None:
        entry.fail(problem)
    predicted = entry.text("predicted")
    if not predicted.strip():
        entry.fail("'predicted' is empty")
    answer = entry.text("answer", None)
    why = entry.text("why", None)
    correct = entry.get("correct", bool, None)
    problem = grade_problem(predicted, answer, correct)
    if problem is not None:
        entry.fail(problem)
    return PredictionDraft(
        card.strip() if card is not None else None,
        demo.id,
        demo.params,
        seed,
        question_id,
        entry.text("question"),
        predicted,
        answer,
        why,
        correct,
        _moment(entry, "at"),
    )


FORMATS = (
    FormatSpec(
        name=NAME,
        description="the full JSON backup (cards, scheduling state, review history, decks)",
        extensions=(".json",),
        sniff=sniff,
        parse=parse,
        export=export,
        export_predictions=export,
    ),
)
