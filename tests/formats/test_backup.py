"""The JSON backup at the format level: every field read back, every bad entry named."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.formats import FormatError
from studyapp.formats.backup import document, export, parse
from studyapp.formats.base import ExportCard, ExportDeck, ReviewDraft
from studyapp.model import REVIEW_KINDS, DemoLink
from studyapp.scheduling import SM2State
from studyapp.scheduling.days import DAY_BOUNDS
from studyapp.scheduling.fsrs import FSRSMemory, default_parameters

BEFORE = SM2State.new()
AFTER = SM2State(ease=2.6, repetitions=1, interval=1, due=date(2026, 3, 3), lapses=0)
MEMORY = FSRSMemory(stability=3.1734, difficulty=5.28)
PARAMS = tuple(round(p * 1.01, 4) for p in default_parameters()[:20]) + (0.2,)
SETTINGS = {
    "new_per_day": 5,
    "reviews_per_day": 50,
    "day_start_hour": 3,
    "scheduler": "fsrs",
    "desired_retention": 0.85,
    "fsrs_params": PARAMS,
}


def deck() -> ExportDeck:
    review = ReviewDraft(
        at=datetime(2026, 3, 2, 8, 30, 1, 250000, tzinfo=UTC),
        study_day=date(2026, 3, 2),
        rating=5,
        duration_ms=4200,
        kind="new",
        before=BEFORE,
        after=AFTER,
        memory_after=MEMORY,
        imported=True,
    )
    card = ExportCard(
        uid="q2-001",
        front="w[i] <- w[i] - lr",
        back="[bold]",
        tags=("optimizers",),
        source="s",
        demo=DemoLink("adam_vs_sgd", {"steps": 400}),
        state=AFTER,
        reviews=(review,),
        suspended=True,
        position=1,
        memory=MEMORY,
        buried_until=date(2026, 3, 3),
    )
    return ExportDeck("Opt", (card,), "about", {**SETTINGS, "fsrs_params": list(PARAMS)})


def test_every_field_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(export([deck()]))
    result = parse(path)
    (card,) = result.cards
    assert (card.key, card.front, card.back, card.tags, card.source, card.deck) == (
        "q2-001",
        "w[i] <- w[i] - lr",
        "[bold]",
        ("optimizers",),
        "s",
        "Opt",
    )
    assert card.demo == DemoLink("adam_vs_sgd", {"steps": 400})
    assert card.state == AFTER and card.suspended and card.memory == MEMORY
    assert card.buried_until == date(2026, 3, 3)
    assert card.reviews == deck().cards[0].reviews
    assert card.reviews[0].imported and card.reviews[0].memory_after == MEMORY
    (described,) = result.decks
    assert (described.name, described.description, described.settings) == (
        "Opt",
        "about",
        SETTINGS,
    )


def test_a_backup_from_before_fsrs_reads_as_sm2_without_memory(tmp_path: Path) -> None:
    data = document([deck()])
    data["decks"][0]["settings"] = {"new_per_day": 5, "reviews_per_day": 50, "day_start_hour": 3}
    card = data["decks"][0]["cards"][0]
    del card["memory"]
    for review in card["reviews"]:
        for key in ("imported", "memory_before", "memory_after"):
            del review[key]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    result = parse(path)
    (read,) = result.cards
    assert read.memory is None and read.state == AFTER
    assert not read.reviews[0].imported and read.reviews[0].memory_after is None
    assert result.decks[0].settings == {
        "new_per_day": 5,
        "reviews_per_day": 50,
        "day_start_hour": 3,
        "scheduler": "sm2",
        "desired_retention": 0.9,
        "fsrs_params": None,
    }


def bad(tmp_path: Path, mutate: Any) -> str:
    data = document([deck()])
    mutate(data)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        parse(path)
    return str(caught.value).removeprefix(f"{path}, ")


def card(data: dict) -> dict:
    return data["decks"][0]["cards"][0]


def test_bad_entries_are_named(tmp_path: Path) -> None:
    assert bad(tmp_path, lambda d: card(d).pop("front")) == "entry 1: 'front' is missing"
    assert (
        bad(tmp_path, lambda d: card(d).update(tags="a"))
        == "entry 1: 'tags' must be a list, not text"
    )
    assert bad(tmp_path, lambda d: card(d)["state"].update(ease=0.5)) == (
        "entry 1, state: ease 0.5 is outside 1.3..1000"
    )
    assert bad(
        tmp_path, lambda d: card(d)["state"].update(due=None, interval=30, repetitions=5)
    ) == ("entry 1, state: a studied card (repetitions 5, interval 30) needs a due day")
    assert bad(tmp_path, lambda d: card(d).update(buried_until="soon")) == (
        "entry 1: 'buried_until' is not a date (YYYY-MM-DD): 'soon'"
    )
    assert bad(tmp_path, lambda d: card(d).update(buried_until="0001-01-01")) == (
        f"entry 1: 'buried_until' 0001-01-01 is outside {DAY_BOUNDS}"
    )
    assert bad(tmp_path, lambda d: card(d)["reviews"][0].update(rating=9)) == (
        "entry 1, review 1: 'rating' must be from 1 to 5, not 9"
    )
    assert bad(tmp_path, lambda d: d.update(version=7)).startswith(
        "top level: the backup is version 7, newer than"
    )
    assert (
        bad(tmp_path, lambda d: d["decks"][0].update(name=3))
        == "deck 1: 'name' must be text, not a number"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 1,\n "decks": [}', "line 2: not valid JSON (Expecting value at column 12)"),
        ("[1, 2]", "entry 1: a list of cards holds objects, not a number"),
        ('"cards"', "a backup is a JSON object, not text"),
        ('{"version": 1, "decks": [], "x": NaN}', "not valid JSON (NaN is not a JSON number)"),
        ("[" * 100_000, "the JSON is nested too deeply to be a backup"),
    ],
)
def test_malformed_json_is_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        parse(path)
    assert str(caught.value) == f"{path}, {message}" or str(caught.value) == f"{path}: {message}"


def one_card_a_line(decks: list[ExportDeck]) -> bytes:
    """The layout the backup promises: the standard encoder's text, one card to a line."""
    doc = document(decks)
    lines = ["{", f'  "version": {json.dumps(doc["version"])},', '  "decks": [']
    for i, listed in enumerate(doc["decks"]):
        lines.append("    {")
        for key in ("name", "description", "settings"):
            lines.append(f"      {json.dumps(key)}: {json.dumps(listed[key], ensure_ascii=False)},")
        cards = [json.dumps(c, ensure_ascii=False) for c in listed["cards"]]
        if cards:
            lines += ['      "cards": [', *(f"        {c}," for c in cards[:-1])]
            lines += [f"        {cards[-1]}", "      ]"]
        else:
            lines.append('      "cards": []')
        lines.append("    }" + ("," if i < len(doc["decks"]) - 1 else ""))
    lines += ["  ]", "}", ""]
    return "\n".join(lines).encode("utf-8")


TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
STATES = st.just(SM2State.new()) | st.builds(
    SM2State,
    ease=st.sampled_from([1.3, 2.5, 2.36]),
    repetitions=st.integers(0, 9),
    interval=st.integers(0, 400),
    due=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    lapses=st.integers(0, 9),
)
MEMORIES = st.none() | st.builds(
    FSRSMemory,
    stability=st.floats(0.001, 36_500, allow_nan=False),
    difficulty=st.floats(1, 10, allow_nan=False),
)
REVIEWS = st.builds(
    ReviewDraft,
    at=st.datetimes(timezones=st.just(UTC)),
    study_day=st.dates(),
    rating=st.integers(1, 5),
    duration_ms=st.integers(0, 10**6),
    kind=st.sampled_from(list(REVIEW_KINDS)),
    before=STATES,
    after=STATES,
    memory_before=MEMORIES,
    memory_after=MEMORIES,
    imported=st.booleans(),
)
CARDS = st.builds(
    ExportCard,
    uid=TEXT,
    front=TEXT,
    back=TEXT,
    tags=st.tuples(TEXT, TEXT) | st.just(()),
    source=TEXT,
    demo=st.none() | st.builds(DemoLink, st.just("adam_vs_sgd"), st.just({"steps": 4, "t": "é"})),
    state=STATES,
    reviews=st.lists(REVIEWS, max_size=2).map(tuple),
    suspended=st.booleans(),
    position=st.integers(0, 5),
    memory=MEMORIES,
    buried_until=st.none() | st.dates(),
)
DECKS = st.builds(
    ExportDeck,
    name=TEXT,
    cards=st.lists(CARDS, max_size=4).map(tuple),
    description=TEXT,
    settings=st.none() | st.just({"new_per_day": 5, "reviews_per_day": 50, "day_start_hour": 3}),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(DECKS, max_size=3))
def test_the_backup_is_the_standard_encoding_one_card_a_line(decks: list[ExportDeck]) -> None:
    assert export(decks) == one_card_a_line(decks)
