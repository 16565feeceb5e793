"""Packages made by real Anki (current and legacy) and by genanki import whole and readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.formats.anki_html import html_to_text
from studyapp.formats.apkg import FORMATS, parse, sniff
from studyapp.formats.base import CardDraft
from tests.formats.anki_fixtures import (
    ACTIVATIONS,
    DECK,
    OPTIMIZERS,
    AnkiPackages,
    anki_packages,
)

pytest.importorskip("anki")


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> AnkiPackages:
    return anki_packages(tmp_path_factory)


def by_front(cards: list[CardDraft]) -> dict[str, CardDraft]:
    return {card.front: card for card in cards}


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_every_kind_of_anki_note_arrives_readable(packages: AnkiPackages, layout: str) -> None:
    result = parse(getattr(packages, layout))
    cards = by_front(result.cards)

    adam = cards["What does Adam keep per weight?"]
    assert adam.back == (
        "Two moving averages:\n- the mean of gradients\n- the mean of squared gradients"
    )
    assert adam.tags == ("dl::adam", "optimizers")
    assert adam.deck == OPTIMIZERS

    entities = cards["Is 3 < 5 && 5 > 3?"]
    assert entities.back == "Yes — always.\n\nSteps:\n1. forward\n2. backward"

    media = cards[r"Plot of \(\sigma(x)\): [image: sigmoid.png]"]
    assert media.back == "[sound: sigmoid.mp3]\nAn S-shaped curve"
    assert media.deck == ACTIVATIONS

    # "Basic (and reversed card)" gives two cards; the optional reverse only when asked for.
    assert cards["ReLU"].back == "max(0, x)"
    assert cards["max(0, x)"].back == "ReLU"
    assert cards["Epoch"].back == "One pass over the data"
    assert "One pass over the data" not in cards
    assert cards["Examples per step"].back == "Batch"

    assert cards["Default Adam lr?"].back == "0.001"

    # One card per cloze deletion, its own hidden, the hint shown in its place.
    full = "Dropout zeroes activations during training\nA regulariser"
    assert cards["[...] zeroes activations during training"].back == full
    assert cards["Dropout zeroes [what?] during training"].back == full
    assert cards["Dropout zeroes activations during [...]"].back == full
    assert cards["[...] stays"].back == "outer inner text stays"
    assert cards["outer [...] text stays"].back == "outer inner text stays"

    assert cards["Overfitting"].back == "Memorising noise\n(no example)"
    assert (
        cards["Momentum\nHint: physics"].back == "Velocity of updates\ne.g. a ball rolling downhill"
    )

    assert len(result.cards) == 17
    assert {card.deck for card in result.cards} == {OPTIMIZERS, ACTIVATIONS, DECK}
    assert all(card.key and card.key.startswith("anki:") for card in result.cards)
    assert len({card.key for card in result.cards}) == len(result.cards)


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_empty_cards_are_reported_not_dropped(packages: AnkiPackages, layout: str) -> None:
    result = parse(getattr(packages, layout))
    reasons = sorted(skipped.reason for skipped in result.skipped)
    assert reasons == [
        "its cloze deletion c2 is not in the note",
        "its front is empty in note type 'Basic'",
    ]
    assert all(skipped.where.startswith("note ") for skipped in result.skipped)


def test_current_and_legacy_packages_give_the_same_cards(packages: AnkiPackages) -> None:
    def essentials(path: Path) -> list[tuple]:
        cards = parse(path).cards
        return [(c.key, c.front, c.back, c.tags, c.deck, c.where) for c in cards]

    assert essentials(packages.current) == essentials(packages.legacy)


def test_reimporting_gives_the_same_keys_and_text(packages: AnkiPackages) -> None:
    assert parse(packages.current).cards == parse(packages.current).cards


def test_keys_and_places_name_the_anki_note_and_card(packages: AnkiPackages) -> None:
    anki_collection = pytest.importorskip("anki.collection")
    col = anki_collection.Collection(str(packages.collection))
    try:
        expected = {}
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            expected[f"anki:{card.note().guid}:{card.ord}"] = f"note {card.nid} card {card.ord}"
    finally:
        col.close()
    result = parse(packages.current)
    placed = {card.key: card.where for card in result.cards}
    skipped = {entry.where for entry in result.skipped}
    for key, where in expected.items():
        assert placed.get(key) == where or where in skipped
    assert len(placed) + len(skipped) == len(expected)


def test_fronts_and_backs_match_what_anki_itself_shows(packages: AnkiPackages) -> None:
    """Anki's own rendering, reduced to text, agrees with ours on every plain-template card."""
    anki_collection = pytest.importorskip("anki.collection")
    ours = {card.key: card for card in parse(packages.current).cards}
    col = anki_collection.Collection(str(packages.collection))
    compared = 0
    try:
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            draft = ours.get(f"anki:{card.note().guid}:{card.ord}")
            # Anki shows hints and typing boxes as widgets and sounds as play buttons.
            widgets = card.template()["qfmt"] + " ".join(card.note().fields)
            if draft is None or any(w in widgets for w in ("hint:", "type:", "[sound:")):
                continue
            assert html_to_text(card.question()) == draft.front
            assert html_to_text(card.answer()).endswith(draft.back)
            compared += 1
    finally:
        col.close()
    assert compared == 13


def test_genanki_package_imports_whole(packages: AnkiPackages) -> None:
    result = parse(packages.genanki)
    assert [(c.front, c.back, c.tags, c.deck, c.key) for c in result.cards] == [
        (
            "What does a 3×3 conv see?",
            "A 3×3 patch\nof every channel",
            ("cnn",),
            "Scripted::CNN",
            "anki:scripted-1:0",
        ),
        (
            "Pooling [...] the feature map",
            "Pooling shrinks the feature map",
            ("cnn", "pooling"),
            "Scripted::CNN",
            "anki:scripted-2:0",
        ),
        (
            "Pooling shrinks the [...]",
            "Pooling shrinks the feature map",
            ("cnn", "pooling"),
            "Scripted::CNN",
            "anki:scripted-2:1",
        ),
    ]
    assert result.deck_name == "Scripted::CNN"
    assert result.skipped == []


def test_packages_are_recognised_by_name_and_content(packages: AnkiPackages) -> None:
    head = packages.genanki.read_bytes()[:4096]
    assert sniff(packages.genanki, head) == 1.0
    assert sniff(Path("renamed.zip"), head) == 1.0
    assert sniff(Path("deck.apkg"), b"not a zip") > 0
    assert sniff(Path("deck.csv"), b"front,back\n") == 0
    assert FORMATS[0].name == "apkg"
    assert FORMATS[0].export is not None
    assert FORMATS[0].text is False


def test_media_left_behind_is_a_warning(packages: AnkiPackages) -> None:
    assert parse(packages.current).warnings == []
    with_media = parse(packages.with_media)
    assert with_media.warnings == [
        "2 media files (images, sounds) in the package were not imported; "
        "the cards name them instead"
    ]
    assert with_media.cards == parse(packages.current).cards
