"""Our `.apkg` imports into real Anki with every card, and back into studyapp unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studyapp.formats.anki_export import MODEL_ID, deck_id, export_apkg
from studyapp.formats.anki_html import html_to_text
from studyapp.formats.apkg import parse
from studyapp.formats.base import ExportCard, ExportDeck
from studyapp.scheduling import SM2State

TRICKY = [
    ("w[i] <- w[i] - lr * grad", "[bold] is text, [/] too"),
    ("What does <tag> & &amp; mean?", "Literally <tag>,\nthen & and &amp;"),
    (
        "Steps of SGD:",
        "1. sample a batch\n2. w <- w - lr * g\n   (indented)\n\n- bullet\n\tand a tab",
    ),
    ("σ(x) = 1/(1+e⁻ˣ), ∇f, λ", "Unicode survives: 学习率"),
    ("Leading spaces?", "  two  spaces  inside"),
]


def card(uid: str, front: str, back: str, tags: tuple[str, ...] = ()) -> ExportCard:
    return ExportCard(
        uid=uid,
        front=front,
        back=back,
        tags=tags,
        source="",
        demo=None,
        state=SM2State.new(),
        reviews=(),
        suspended=False,
        position=0,
    )


def sample_decks(back_of_first: str = TRICKY[0][1]) -> list[ExportDeck]:
    tricky = [card(f"t-{i}", f, b, ("fundamentals",)) for i, (f, b) in enumerate(TRICKY)]
    tricky[0] = card("t-0", TRICKY[0][0], back_of_first, ("learning rate", "optimizers"))
    return [
        ExportDeck(
            "Deep Learning::Optimizers",
            tuple(tricky),
            description="<!-- studyapp deck · source: x -->\nTricky text & <symbols>",
        ),
        ExportDeck("Activations", (card("a-1", "ReLU", "max(0, x)", ("activations",)),)),
    ]


def write(
    tmp_path: Path, decks: list[ExportDeck], name: str = "out.apkg", at: float | None = None
) -> Path:
    path = tmp_path / name
    path.write_bytes(export_apkg(decks, timestamp=at))
    return path


def test_our_import_of_our_export_gives_back_the_same_cards(tmp_path: Path) -> None:
    decks = sample_decks()
    result = parse(write(tmp_path, decks))
    expected = [
        (c.front, c.back, tuple(t.replace(" ", "_") for t in c.tags), deck.name)
        for deck in decks
        for c in deck.cards
    ]
    got = [(c.front, c.back, c.tags, c.deck) for c in result.cards]
    assert sorted(got) == sorted(expected)
    assert result.skipped == []


def test_ids_are_stable_across_exports(tmp_path: Path) -> None:
    first = parse(write(tmp_path, sample_decks(), "first.apkg"))
    second = parse(write(tmp_path, sample_decks(), "second.apkg"))
    assert [c.key for c in first.cards] == [c.key for c in second.cards]
    assert deck_id("Deep Learning::Optimizers") == deck_id("Deep Learning::Optimizers")
    assert deck_id("Activations") != deck_id("Deep Learning::Optimizers")


def anki_import(col: Any, package: Path) -> None:
    collection = pytest.importorskip("anki.collection")
    col.import_anki_package(collection.ImportAnkiPackageRequest(package_path=str(package)))


def anki_cards(col: Any) -> dict[str, tuple[str, str, tuple[str, ...], str]]:
    """Each card Anki holds, by its front as text: back as text, tags and deck."""
    cards = {}
    for card_id in col.find_cards(""):
        anki_card = col.get_card(card_id)
        front = html_to_text(anki_card.question())
        answer = html_to_text(anki_card.answer())
        assert answer.startswith(front + "\n")
        deck = col.decks.name(anki_card.did)
        cards[front] = (answer[len(front) + 1 :], front, tuple(anki_card.note().tags), deck)
    return cards


@pytest.fixture
def anki_col(tmp_path: Path) -> Any:
    collection = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def test_real_anki_imports_every_card_verbatim(tmp_path: Path, anki_col: Any) -> None:
    decks = sample_decks()
    anki_import(anki_col, write(tmp_path, decks))

    arrived = anki_cards(anki_col)
    assert len(arrived) == anki_col.card_count() == 6
    for deck in decks:
        for sent in deck.cards:
            back, front, tags, deck_name = arrived[sent.front.strip()]
            assert front == sent.front.strip()
            # HTML collapses a space before a line end; everything else is as sent.
            assert back == "\n".join(line.rstrip() for line in sent.back.split("\n"))
            assert sorted(tags) == sorted(t.replace(" ", "_") for t in sent.tags)
            assert deck_name == deck.name
    described = anki_col.decks.by_name("Deep Learning::Optimizers")
    assert described is not None
    assert html_to_text(described["desc"]) == "Tricky text & <symbols>"
    model = anki_col.models.get(MODEL_ID)
    assert model is not None
    assert [f["name"] for f in model["flds"]] == ["Front", "Back"]


def test_exporting_again_updates_the_same_notes_in_anki(tmp_path: Path, anki_col: Any) -> None:
    # With Anki's default settings, a note is updated from a package whose note is newer.
    anki_import(anki_col, write(tmp_path, sample_decks(), "first.apkg", at=1.7e9))
    edited = sample_decks(back_of_first="an edited back")
    anki_import(anki_col, write(tmp_path, edited, "second.apkg", at=1.7e9 + 60))

    arrived = anki_cards(anki_col)
    assert anki_col.note_count() == 6
    assert arrived[TRICKY[0][0]][0] == "an edited back"


def test_an_empty_front_still_gives_anki_a_card(tmp_path: Path, anki_col: Any) -> None:
    decks = [ExportDeck("Odd", (card("o-1", "", "an answer without a question"),))]
    anki_import(anki_col, write(tmp_path, decks))
    assert anki_col.card_count() == 1


def test_an_empty_collection_exports_a_valid_package(tmp_path: Path) -> None:
    result = parse(write(tmp_path, []))
    assert result.cards == []
