"""Packages made by real Anki (current and legacy) and by genanki import whole and readable,
and a studyapp card that went to Anki comes back onto itself."""

from __future__ import annotations

import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import Store, open_store
from studyapp.formats.anki_html import html_to_text
from studyapp.formats.apkg import FORMATS, parse, sniff
from studyapp.formats.base import CardDraft
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession
from tests.formats.anki_fixtures import (
    ACTIVATIONS,
    DECK,
    OPTIMIZERS,
    AnkiPackages,
    anki_packages,
    export_package,
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


# A studyapp card that went to Anki and came back.

OPTIMIZERS_DECK = "Deep Learning::Optimizers"


@pytest.fixture
def anki_col(tmp_path: Path) -> Any:
    anki_collection = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = anki_collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def studied_collection(path: Path) -> Store:
    """A studyapp collection of two cards, both answered once."""
    store = open_store(str(path))
    cards = CardService(store)
    cards.add(OPTIMIZERS_DECK, "What does Adam keep?", "m and v", ("adam",), "notes card 1")
    cards.add(OPTIMIZERS_DECK, "What is momentum?", "A running average", (), "notes card 2")
    session = StudySession(store, OPTIMIZERS_DECK)
    while session.current is not None:
        session.answer(4)
    return store


def note_with_uid(col: Any, uid: str) -> Any:
    (note,) = [n for n in map(col.get_note, col.find_notes("")) if n["studyapp id"] == uid]
    return note


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_a_card_edited_in_anki_comes_back_onto_its_studyapp_card(
    tmp_path: Path, anki_col: Any, legacy: bool
) -> None:
    anki_collection = pytest.importorskip("anki.collection")
    store = studied_collection(tmp_path / "studyapp.db")
    library = LibraryService(store)
    adam = CardService(store).search("Adam")[0]
    history = CardService(store).detail(adam.id).history
    assert history and not adam.state.is_new
    sent = tmp_path / "studyapp.apkg"
    sent.write_bytes(library.export("apkg"))

    request = anki_collection.ImportAnkiPackageRequest(package_path=str(sent))
    anki_col.import_anki_package(request)
    note = note_with_uid(anki_col, adam.uid)
    note["Back"] = "<b>m</b> and v, bias-corrected"
    anki_col.update_note(note)
    # "Create Copy" in Anki: the same fields, studyapp id too, on a note of its own.
    copy = anki_col.new_note(note.note_type())
    for name in ("Back", "studyapp id"):
        copy[name] = note[name]
    copy["Front"] = "What does AdamW add?"
    anki_col.add_note(copy, note.cards()[0].did)
    returned = export_package(anki_col, tmp_path / "from-anki.apkg", legacy=legacy)

    report = library.import_files([returned])
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert report.skipped == []
    after = {card.front: card for card in CardService(store).search(deck=OPTIMIZERS_DECK)}
    edited = after["What does Adam keep?"]
    assert (edited.id, edited.uid, edited.back) == (adam.id, adam.uid, "m and v, bias-corrected")
    assert edited.state == adam.state
    assert edited.source == "notes card 1"
    assert edited.tags == ("adam",)
    assert CardService(store).detail(adam.id).history == history
    assert after["What does AdamW add?"].uid != adam.uid
    assert after["What does AdamW add?"].state.is_new


def test_a_damaged_or_foreign_studyapp_id_keys_the_card_as_any_anki_card(tmp_path: Path) -> None:
    store = studied_collection(tmp_path / "studyapp.db")
    sent = tmp_path / "studyapp.apkg"
    sent.write_bytes(LibraryService(store).export("apkg"))
    uids = sorted(card.uid for card in CardService(store).search())
    assert sorted(card.key or "" for card in parse(sent).cards) == uids

    # The same notes with the ids garbled, or taken by a note that was not exported for them.
    with zipfile.ZipFile(sent) as archive:
        database = tmp_path / "collection.anki2"
        database.write_bytes(archive.read("collection.anki2"))
    with closing(sqlite3.connect(database)) as connection:
        fields = connection.execute("SELECT id, flds FROM notes ORDER BY id").fetchall()
        first, second = (row[1].split("\x1f") for row in fields)
        first[2], second[2] = "not an id!", f"<b>{first[2]}</b>"
        for (note_id, _), changed in zip(fields, (first, second), strict=True):
            connection.execute(
                "UPDATE notes SET flds = ? WHERE id = ?", ("\x1f".join(changed), note_id)
            )
        connection.commit()
        guids = [guid for (guid,) in connection.execute("SELECT guid FROM notes ORDER BY id")]
    garbled = tmp_path / "garbled.apkg"
    with zipfile.ZipFile(garbled, "w") as archive:
        archive.write(database, "collection.anki2")
        archive.writestr("media", "{}")
    assert sorted(card.key or "" for card in parse(garbled).cards) == sorted(
        f"anki:{guid}:0" for guid in guids
    )
