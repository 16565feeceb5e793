"""For any collection the app accepts, export then import gives back the same collection.

Collections are generated as JSON backups (the one way in that sets every field: content,
deck settings and descriptions, scheduling state, review logs) with text of every kind but
what the app refuses (NUL, lone surrogates; control characters in deck names). Whatever the
app took in is then exported and imported into an empty collection:

- as a JSON backup: every field, the schedule and the review log come back;
- as deck files (one per deck): every field a deck file carries comes back;
- as an Anki package: every card's text, tags and deck come back;
- as CSV or TSV: every tag comes back whole, and re-importing the export changes nothing.

Each example runs on in-memory copies of one empty collection, so a run takes seconds.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from studyapp.db import Store, open_store
from studyapp.formats.backup import REVIEW_KINDS
from studyapp.model import MAX_DECK_NAME, MAX_PER_DAY, MAX_REVIEW_MS, DemoLink, demo_link_problem
from studyapp.scheduling import MAX_COUNT, MAX_EASE_CENTS, MAX_INTERVAL, MIN_EASE_CENTS
from studyapp.scheduling.days import FIRST_DAY, LAST_DAY
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService

EXAMPLES = 30
CARD_TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
NAME_TEXT = st.characters(blacklist_categories=("Cs", "Cc"))


@pytest.fixture(scope="module")
def template() -> Iterator[sqlite3.Connection]:
    """An empty collection at the current schema, kept in memory to copy per example."""
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "empty.db"))
        assert store.path is not None
        store.dispose()
        memory = sqlite3.connect(":memory:", check_same_thread=False)
        with sqlite3.connect(store.path) as source:
            source.backup(memory)
        source.close()
    yield memory
    memory.close()


def fresh(template: sqlite3.Connection) -> Store:
    store = Store("sqlite://")
    raw = store.engine.raw_connection()
    try:
        template.backup(raw.driver_connection)  # type: ignore[arg-type]
    finally:
        raw.close()
    return store


# --- what a collection can hold ---------------------------------------------------------------

texts = st.text(CARD_TEXT, max_size=40)
fronts = texts.filter(lambda t: t.replace("\r", "").strip() != "")
deck_names = st.text(NAME_TEXT, min_size=1, max_size=40).map(str.strip).filter(bool) | st.just(
    "d" * MAX_DECK_NAME
)
demo_names = st.text(NAME_TEXT, min_size=1, max_size=12).filter(
    lambda name: demo_link_problem(DemoLink(name)) is None
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
demos = st.none() | st.fixed_dictionaries(
    {"id": demo_names, "params": st.dictionaries(demo_names, json_values, max_size=3)}
)
days = st.dates(FIRST_DAY, LAST_DAY)
states = st.fixed_dictionaries(
    {
        "ease": st.integers(MIN_EASE_CENTS, MAX_EASE_CENTS).map(lambda c: c / 100),
        "interval": st.integers(0, MAX_INTERVAL),
        "repetitions": st.integers(0, MAX_COUNT),
        "lapses": st.integers(0, MAX_COUNT),
        "due": st.none() | days.map(date.isoformat),
    }
)
# A card's own state: with no due day it is new, so it has no repetitions or interval (a
# review's before and after may be anything the scheduler wrote).
card_states = states.map(
    lambda s: s if s["due"] is not None else {**s, "repetitions": 0, "interval": 0}
)
zones = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
# Reviews are no later than a day from now: the last moment drawn is in the past for good.
moments = st.datetimes(datetime(2, 1, 1), datetime(9999, 12, 29), timezones=zones)
reviews = st.fixed_dictionaries(
    {
        "at": moments.map(datetime.isoformat),
        "study_day": days.map(date.isoformat),
        "rating": st.integers(1, 5),
        "duration_ms": st.integers(0, MAX_REVIEW_MS),
        "kind": st.sampled_from(REVIEW_KINDS),
        "before": states,
        "after": states,
    }
)
cards = st.fixed_dictionaries(
    {
        "front": fronts,
        "back": texts,
        "tags": st.lists(st.text(CARD_TEXT, min_size=1, max_size=8), max_size=4),
        "source": texts,
        "demo": demos,
        "suspended": st.booleans(),
        "state": card_states,
        "reviews": st.lists(reviews, max_size=3),
    },
    optional={"buried_until": days.map(date.isoformat)},
)
limits = st.integers(0, MAX_PER_DAY)
decks = st.fixed_dictionaries(
    {
        "description": texts,
        "settings": st.fixed_dictionaries(
            {
                "new_per_day": limits,
                "reviews_per_day": limits,
                "day_start_hour": st.integers(0, 23),
            }
        ),
        "cards": st.lists(cards, max_size=4),
    }
)


@st.composite
def backups(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(deck_names, min_size=1, max_size=2, unique=True))
    document: dict[str, Any] = {"version": 1, "decks": []}
    number = 0
    for name in names:
        deck = {"name": name, **draw(decks)}
        for card in deck["cards"]:
            number += 1
            card["id"] = f"k{number}"
        document["decks"].append(deck)
    return document


# --- what a collection is, to compare two -----------------------------------------------------


def contents(store: Store, *, schedule: bool) -> dict[str, Any]:
    """Every deck and card as the user knows them; with `schedule`, states and review logs."""
    with store.reading() as rows:
        decks = rows(
            "SELECT id, name, description, new_per_day, reviews_per_day, day_start_hour "
            "FROM decks ORDER BY name",
            {},
        )
        out: dict[str, Any] = {}
        for deck_id, name, description, *settings in decks:
            cards = []
            for row in rows(
                "SELECT id, uid, front, back, tags, source, demo_id, demo_params, suspended,"
                " ease_cents, interval, repetitions, lapses, due, buried_until"
                " FROM cards WHERE deck_id = :deck ORDER BY position, id",
                {"deck": deck_id},
            ):
                card_id, *content, demo_params, suspended = row[:9]
                card: dict[str, Any] = {
                    "content": content,
                    "params": json.loads(demo_params) if demo_params else None,
                    "suspended": bool(suspended),
                }
                if schedule:
                    card["state"] = list(row[9:])
                    card["reviews"] = rows(
                        "SELECT at, study_day, rating, duration_ms, kind, ease_before,"
                        " interval_before, repetitions_before, lapses_before, due_before,"
                        " ease_after, interval_after, repetitions_after, lapses_after, due_after"
                        " FROM reviews WHERE card_id = :card ORDER BY id",
                        {"card": card_id},
                    )
                cards.append(card)
            out[name] = {"description": description, "cards": cards}
            if schedule:
                out[name]["settings"] = settings
        return out


def taken_in(
    template: sqlite3.Connection, folder: Path, document: dict[str, Any], twin: bool
) -> Store:
    """A collection holding whatever the app takes from this backup; with `twin`, one card
    added again by hand, word for word (the app takes that too)."""
    source = folder / "generated.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    store = fresh(template)
    LibraryService(store).import_files([source])
    cards = CardService(store)
    first = cards.search(limit=1)
    if twin and first:
        card = first[0]
        cards.add(card.deck, card.front, card.back, card.tags, card.source, card.demo)
    return store


ROUND_TRIP = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@ROUND_TRIP
@given(document=backups(), twin=st.booleans())
def test_a_json_backup_gives_back_every_field_schedule_and_review(
    template: sqlite3.Connection, document: dict[str, Any], twin: bool
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        original = taken_in(template, folder, document, twin)
        exported = LibraryService(original).export("json")
        (folder / "exported.json").write_bytes(exported)
        copy = fresh(template)
        report = LibraryService(copy).import_files([folder / "exported.json"])
        assert report.skipped == []
        assert contents(copy, schedule=True) == contents(original, schedule=True)
        assert LibraryService(copy).export("json") == exported
        original.dispose()
        copy.dispose()


CARRIAGE_RETURN_DESCRIPTION = {
    "version": 1,
    "decks": [{"name": "D", "description": "\r", "cards": [{"id": "k1", "front": "q\r"}]}],
}

_NO_LIMITS = {"new_per_day": 0, "reviews_per_day": 0, "day_start_hour": 0}
LONG_NAME_THEN_QUESTION_MARK = {
    "version": 1,
    "decks": [
        {"name": "d" * 200, "description": "", "settings": _NO_LIMITS, "cards": []},
        {"name": "?", "description": "0", "settings": _NO_LIMITS, "cards": []},
    ],
}
LONG_NAME_QUESTION_MARK_DESCRIPTION = {
    "version": 1,
    "decks": [{"name": "d" * 200, "description": "?", "settings": _NO_LIMITS, "cards": []}],
}


@ROUND_TRIP
@given(document=backups(), twin=st.booleans())
@example(document=CARRIAGE_RETURN_DESCRIPTION, twin=False)
@example(document=LONG_NAME_THEN_QUESTION_MARK, twin=False)
@example(document=LONG_NAME_QUESTION_MARK_DESCRIPTION, twin=False)
def test_deck_files_give_back_every_field_they_carry(
    template: sqlite3.Connection, document: dict[str, Any], twin: bool
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        original = taken_in(template, folder, document, twin)
        library = LibraryService(original)
        files = []
        for number, deck in enumerate(library.export_decks(fields=frozenset()), start=1):
            path = folder / f"deck-{number}.md"
            path.write_bytes(library.export("md", deck.name))
            files.append(path)
        copy = fresh(template)
        report = LibraryService(copy).import_files(files)
        assert report.skipped == []
        assert contents(copy, schedule=False) == contents(original, schedule=False)
        again = LibraryService(copy)
        for path in files:
            deck_name = path.read_text(encoding="utf-8").split("\n", 1)[0][2:]
            assert again.export("md", deck_name) == path.read_bytes()
        original.dispose()
        copy.dispose()


def card_texts(store: Store) -> dict[str, list[tuple[str, ...]]]:
    """Each deck that has cards, with its cards' ids, text and tags in deck order."""
    with store.reading() as rows:
        found = rows(
            "SELECT d.name, c.uid, c.front, c.back, c.tags FROM cards AS c"
            " JOIN decks AS d ON d.id = c.deck_id ORDER BY d.name, c.position, c.id",
            {},
        )
    out: dict[str, list[tuple[str, ...]]] = {}
    for deck, *card in found:
        out.setdefault(deck, []).append(tuple(card))
    return out


_STATE_AT_THE_END = {"ease": 2.5, "interval": 36_500, "repetitions": 9, "lapses": 0, "due": None}
# A review on the first day the collection keeps goes out to Anki with a negative log id
# and comes back.
REVIEWED_ON_THE_FIRST_DAY_KEPT = {
    "version": 1,
    "decks": [
        {
            "name": "D",
            "cards": [
                {
                    "id": "k1",
                    "front": "q",
                    "reviews": [
                        {
                            "at": "0001-01-02T00:00:00+00:00",
                            "study_day": "0001-01-02",
                            "rating": 5,
                            "duration_ms": 1,
                            "kind": "review",
                            "before": _STATE_AT_THE_END,
                            "after": _STATE_AT_THE_END,
                        }
                    ],
                }
            ],
        }
    ],
}


@ROUND_TRIP
@given(document=backups(), twin=st.booleans())
@example(document=REVIEWED_ON_THE_FIRST_DAY_KEPT, twin=False)
def test_an_anki_package_gives_back_every_card_text_tag_and_deck(
    template: sqlite3.Connection, document: dict[str, Any], twin: bool
) -> None:
    """An `.apkg` carries each card's id, both sides and tags in its deck: all come back
    character for character (blank lines, spaces at line ends, `[sound:...]` included)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        original = taken_in(template, folder, document, twin)
        (folder / "exported.apkg").write_bytes(LibraryService(original).export("apkg"))
        copy = fresh(template)
        report = LibraryService(copy).import_files([folder / "exported.apkg"])
        assert report.skipped == []
        assert card_texts(copy) == card_texts(original)
        original.dispose()
        copy.dispose()


plain_texts = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12)
tagged_cards = st.fixed_dictionaries(
    {
        "front": plain_texts.map(lambda text: f"q {text}"),
        "back": plain_texts,
        "tags": st.lists(st.text(CARD_TEXT, min_size=1, max_size=8), max_size=5),
    }
)


@ROUND_TRIP
@given(cards=st.lists(tagged_cards, min_size=1, max_size=4), name=st.sampled_from(["csv", "tsv"]))
@example(cards=[{"front": "q", "back": "a", "tags": ["a,b"]}], name="csv")
@example(cards=[{"front": "q", "back": "a", "tags": ["a,b", ",", '"', "c;d"]}], name="tsv")
def test_a_csv_or_tsv_export_gives_back_every_tag(
    template: sqlite3.Connection, cards: list[dict[str, Any]], name: str
) -> None:
    """Any tag the app accepts (commas, quotes, separators and all) comes back whole, and
    re-importing an unchanged export changes nothing."""
    document = {
        "version": 1,
        "decks": [
            {"name": "D", "cards": [{**card, "id": f"k{n}"} for n, card in enumerate(cards)]}
        ],
    }
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        original = taken_in(template, folder, document, twin=False)
        path = folder / f"exported.{name}"
        path.write_bytes(LibraryService(original).export(name))
        before = card_texts(original)
        report = LibraryService(original).import_files([path])
        assert (report.added, report.updated, report.skipped) == (0, 0, [])
        assert card_texts(original) == before
        copy = fresh(template)
        LibraryService(copy).import_files([path])
        assert card_texts(copy) == before
        original.dispose()
        copy.dispose()
