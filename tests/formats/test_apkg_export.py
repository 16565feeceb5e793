"""Our `.apkg` imports into real Anki with every card, and back into studyapp unchanged."""

from __future__ import annotations

import html
import io
import itertools
import re
import sqlite3
import threading
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studyapp.formats import anki_export, package_zip
from studyapp.formats.anki_export import MODEL_ID, deck_id, export_apkg, note_guid, text_to_html
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


def test_a_sound_reference_read_from_anki_comes_back_unchanged(tmp_path: Path) -> None:
    shown = "[sound: adam.mp3] as the card showed it"
    decks = [ExportDeck("Sounds", (card("s-1", "Hear this", shown),))]
    first = parse(write(tmp_path, decks, "first.apkg")).cards[0]
    again = [ExportDeck("Sounds", (card("s-1", first.front, first.back),))]
    assert parse(write(tmp_path, again, "second.apkg")).cards[0].back == shown


def test_ids_are_stable_across_exports(tmp_path: Path) -> None:
    first = parse(write(tmp_path, sample_decks(), "first.apkg"))
    second = parse(write(tmp_path, sample_decks(), "second.apkg"))
    assert [c.key for c in first.cards] == [c.key for c in second.cards]
    assert deck_id("Deep Learning::Optimizers") == deck_id("Deep Learning::Optimizers")
    assert deck_id("Activations") != deck_id("Deep Learning::Optimizers")


BLANKS = [
    ("trailing space ", "two blank lines\n\n\nbetween"),
    ("\nstarts with a line break", "ends with one\n"),
    ("no-break\xa0space", "a tab at the end\t"),
    ("a line of spaces:\n   \nabove", "[sound:ping.mp3] [latex]x[/latex] [$]y[/$]"),
]


def test_every_blank_and_bracket_of_our_cards_comes_back_exactly(tmp_path: Path) -> None:
    """Spaces and tabs at line ends, blank lines, no-break spaces and Anki's bracket syntax
    are kept through our own package, as in every other format the app writes."""
    decks = [ExportDeck("Blanks", tuple(card(f"b-{i}", f, b) for i, (f, b) in enumerate(BLANKS)))]
    result = parse(write(tmp_path, decks))
    assert [(c.front, c.back) for c in result.cards] == BLANKS


def test_anki_shows_bracket_syntax_in_card_text_as_text(tmp_path: Path, anki_col: Any) -> None:
    """Card text is data in Anki too: `[sound:...]` plays nothing and shows as written."""
    front, back = BLANKS[3][1], "[sound:other.mp3]"
    anki_import(anki_col, write(tmp_path, [ExportDeck("D", (card("s-1", front, back),))]))
    (card_id,) = anki_col.find_cards("")
    anki_card = anki_col.get_card(card_id)
    assert anki_card.question_av_tags() == [] and anki_card.answer_av_tags() == []
    assert html.unescape(anki_card.question()).endswith(front)
    assert html.unescape(anki_card.answer()).endswith(back)


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
    assert [f["name"] for f in model["flds"]] == ["Front", "Back", "studyapp id"]
    uids = {anki_col.get_note(nid)["studyapp id"] for nid in anki_col.find_notes("")}
    assert uids == {c.uid for deck in decks for c in deck.cards}


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


def test_each_cards_review_log_is_found_through_an_index(tmp_path: Path) -> None:
    """Anki's legacy importer (its only one before 2.1.50) reads each card's review log by
    itself: without an index, a package of many studied cards would take it hours."""
    with zipfile.ZipFile(write(tmp_path, bulk_decks())) as archive:
        collection = archive.read("collection.anki2")
    with closing(sqlite3.connect(":memory:")) as db:
        db.deserialize(collection)
        plan = db.execute("EXPLAIN QUERY PLAN SELECT * FROM revlog WHERE cid = ?", (1,))
        assert "USING INDEX" in " ".join(str(step[-1]) for step in plan)


# A thousand cards, several to a deck, some decks nested under others or under a deck the
# package does not hold; fronts with line breaks, tabs and markup-like text.
BULK_DECKS = ("Deep Learning", "Deep Learning::Optimizers", "Deep Learning::Optimizers::Adam")
BULK_DECKS += ("Vision::CNN",)


def bulk_decks(back: str = "answer") -> list[ExportDeck]:
    decks = []
    for number, name in enumerate(BULK_DECKS):
        cards = []
        for i in range(250):
            text = TRICKY[i % len(TRICKY)]
            front = f"{name} {i}: {text[i % 2]}"
            tags = (f"deck {number}", "bulk") if i % 3 else ()
            cards.append(card(f"bulk-{number}-{i}", front, f"{back} {i}\n{text[0]}", tags))
        decks.append(ExportDeck(name, tuple(cards)))
    return decks


def anki_notes(col: Any) -> dict[str, tuple[str, str, tuple[str, ...], str, str]]:
    """Each note Anki holds, by its studyapp id: Front, Back, tags, deck and guid."""
    notes = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        (anki_card,) = note.cards()
        tags = tuple(sorted(note.tags))
        deck = col.decks.name(anki_card.did)
        notes[note["studyapp id"]] = (note["Front"], note["Back"], tags, deck, note.guid)
    return notes


def test_a_thousand_cards_arrive_whole_and_a_new_export_updates_them(
    tmp_path: Path, anki_col: Any
) -> None:
    genanki = pytest.importorskip("genanki")
    anki_import(anki_col, write(tmp_path, bulk_decks(), "first.apkg", at=1.7e9))
    assert anki_col.note_count() == anki_col.card_count() == 1000

    def expected(decks: list[ExportDeck]) -> dict[str, tuple[str, str, tuple[str, ...], str, str]]:
        return {
            c.uid: (
                text_to_html(c.front),
                text_to_html(c.back),
                tuple(sorted(t.replace(" ", "_") for t in c.tags)),
                deck.name,
                # The guid earlier (genanki-written) exports gave, so Anki still matches them.
                genanki.guid_for("studyapp", c.uid),
            )
            for deck in decks
            for c in deck.cards
        }

    assert anki_notes(anki_col) == expected(bulk_decks())
    assert anki_col.decks.by_name("Vision") is not None

    edited = bulk_decks(back="edited")
    anki_import(anki_col, write(tmp_path, edited, "second.apkg", at=1.7e9 + 60))
    assert anki_col.note_count() == anki_col.card_count() == 1000
    assert anki_notes(anki_col) == expected(edited)


def test_sort_fields_and_checksums_are_the_ones_anki_computes(
    tmp_path: Path, anki_col: Any
) -> None:
    package = write(tmp_path, bulk_decks())
    with zipfile.ZipFile(package) as archive:
        (tmp_path / "collection.anki2").write_bytes(archive.read("collection.anki2"))
    with closing(sqlite3.connect(tmp_path / "collection.anki2")) as connection:
        ours = connection.execute("SELECT guid, sfld, csum FROM notes").fetchall()
    # Anki recomputes both when it imports a note.
    anki_import(anki_col, package)
    theirs = anki_col.db.all("SELECT guid, sfld, csum FROM notes")
    assert sorted(map(tuple, theirs)) == sorted(ours)
    assert len(ours) == 1000


def test_the_same_decks_at_the_same_time_give_the_same_package() -> None:
    first = export_apkg(bulk_decks(), timestamp=1.7e9)
    assert export_apkg(bulk_decks(), timestamp=1.7e9) == first
    assert export_apkg(bulk_decks(), timestamp=1.7e9 + 1) != first


@pytest.mark.parametrize("chunk", [1, 7, 250])
def test_notes_written_a_chunk_at_a_time_give_the_same_package(
    monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Notes and their cards go to SQLite on a second thread, a chunk at a time; however
    many chunks, the package holds the same rows as one written a deck at a time."""
    whole = package_rows(export_apkg(bulk_decks(), timestamp=1.7e9))
    monkeypatch.setattr(anki_export._Writer, "CHUNK", chunk)
    assert package_rows(export_apkg(bulk_decks(), timestamp=1.7e9)) == whole


def package_rows(package: bytes) -> dict[str, list[Any]]:
    """Every row of a package's collection, table by table."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        collection = archive.read("collection.anki2")
    with closing(sqlite3.connect(":memory:")) as db:
        db.deserialize(collection)
        tables = [
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {name: db.execute(f"SELECT * FROM {name} ORDER BY 1").fetchall() for name in tables}


def test_an_insert_that_fails_on_the_writing_thread_fails_the_export(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(anki_export._Writer, "CHUNK", 100)
    monkeypatch.setattr(anki_export, "insert_columns", refused)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        export_apkg(bulk_decks(), timestamp=1.7e9)
    assert not [t for t in threading.enumerate() if t.name.startswith("anki export")]


def test_a_failure_while_notes_are_worked_out_stops_the_writing_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = 0

    def tags_then_failure(tags: tuple[str, ...]) -> tuple[str, ...]:
        nonlocal seen
        seen += 1
        if seen == 3:  # the third tag list of the thousand cards: after a chunk went over
            raise RuntimeError("broken tags")
        return tags

    monkeypatch.setattr(anki_export._Writer, "CHUNK", 10)
    monkeypatch.setattr(anki_export, "normalize_tags", tags_then_failure)
    with pytest.raises(RuntimeError, match="broken tags"):
        export_apkg(bulk_decks(), timestamp=1.7e9)
    assert not [t for t in threading.enumerate() if t.name.startswith("anki export")]


def per_line_html(text: str) -> str:
    """text_to_html written another way: each line escaped and its blanks marked on its own
    (a space or tab at either end or after another, every tab, every no-break space, and
    every `[` and field separator)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    significant = re.compile(r"(?<=[ \t])[ \t]|^[ \t]|[ \t]$|\t|\xa0|\[|\x1f")
    references = {" ": "&nbsp;", "\t": "&#9;", "\xa0": "&#160;", "[": "&#91;", "\x1f": "&#31;"}

    def reference(match: re.Match[str]) -> str:
        return references[match.group(0)]

    return "<br>".join(significant.sub(reference, html.escape(line, quote=False)) for line in lines)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(" \t\r\n&<>;a\xa0[\x1f")) | st.text())
def test_field_html_is_the_same_as_line_by_line(text: str) -> None:
    assert text_to_html(text) == per_line_html(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text("ab <\n", max_size=4), st.text("ab &\t", max_size=4))))
def test_each_field_is_its_own_html_whatever_the_cards_beside_it(
    texts: list[tuple[str, str]],
) -> None:
    """A deck's text is looked at whole to find out whether it needs HTML at all; each card
    still gets the HTML it would get alone (a blank front is a no-break space)."""
    cards = tuple(card(f"u{i}", front, back) for i, (front, back) in enumerate(texts))
    with zipfile.ZipFile(io.BytesIO(export_apkg([ExportDeck("D", cards)]))) as archive:
        collection = archive.read("collection.anki2")
    with closing(sqlite3.connect(":memory:")) as db:
        db.deserialize(collection)
        fields = [row[0].split("\x1f") for row in db.execute("SELECT flds FROM notes ORDER BY id")]
    expected = [
        [text_to_html(front) if front.strip() else "&nbsp;", text_to_html(back), f"u{i}"]
        for i, (front, back) in enumerate(texts)
    ]
    assert fields == expected


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_note_guids_are_the_ones_earlier_exports_gave(uid: str) -> None:
    genanki = pytest.importorskip("genanki")
    assert note_guid(uid) == genanki.guid_for("studyapp", uid)


def test_the_package_holds_each_cards_guid_short_ones_too() -> None:
    """Guids are worked out again inside the export's loop; these uids' guids begin with
    zero digits, which genanki left out (9 characters instead of 10)."""
    uids = ["x100", "x237", "plain-uid", "card 7"]
    cards = tuple(card(uid, "front", "back") for uid in uids)
    with zipfile.ZipFile(io.BytesIO(export_apkg([ExportDeck("D", cards)]))) as archive:
        collection = archive.read("collection.anki2")
    with closing(sqlite3.connect(":memory:")) as db:
        db.deserialize(collection)
        guids = [guid for (guid,) in db.execute("SELECT guid FROM notes ORDER BY id")]
    assert guids == [note_guid(uid) for uid in uids]
    assert [len(guid) for guid in guids[:2]] == [9, 9]


def earlier_export(tmp_path: Path, decks: list[ExportDeck]) -> Path:
    """The package an earlier version wrote: a two-field note type, the same guids."""
    genanki = pytest.importorskip("genanki")
    model = genanki.Model(
        1_730_462_811,
        "Basic (studyapp)",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Front}}",
                "afmt": "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}",
            }
        ],
    )
    package = genanki.Package([genanki.Deck(deck_id(deck.name), deck.name) for deck in decks])
    for anki_deck, deck in zip(package.decks, decks, strict=True):
        for c in deck.cards:
            fields = [text_to_html(c.front), text_to_html(c.back)]
            guid = genanki.guid_for("studyapp", c.uid)
            tags = [t.replace(" ", "_") for t in c.tags]
            anki_deck.add_note(genanki.Note(model, fields, tags=tags, guid=guid))
    database = tmp_path / "earlier.anki2"
    with closing(sqlite3.connect(database)) as connection:
        package.write_to_db(connection.cursor(), 1.7e9, itertools.count(1_700_000_000_000))
        connection.commit()
    path = tmp_path / "earlier.apkg"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(database, "collection.anki2")
        archive.writestr("media", "{}")
    return path


def test_notes_from_an_earlier_export_are_matched_not_copied(tmp_path: Path, anki_col: Any) -> None:
    collection = pytest.importorskip("anki.collection")
    anki_import(anki_col, earlier_export(tmp_path, sample_decks()))
    newer = write(tmp_path, sample_decks(back_of_first="an edited back"), at=1.7e9 + 60)

    # Anki's default options leave the notes alone: their note type changed.
    anki_import(anki_col, newer)
    assert anki_col.note_count() == 6
    assert arrived_back(anki_col) == TRICKY[0][1]

    # With "merge note types" they move onto the new note type and take the new text.
    options = collection.ImportAnkiPackageOptions(merge_notetypes=True)
    request = collection.ImportAnkiPackageRequest(package_path=str(newer), options=options)
    anki_col.import_anki_package(request)
    assert anki_col.note_count() == 6
    assert arrived_back(anki_col) == "an edited back"
    assert {anki_col.get_note(n).mid for n in anki_col.find_notes("")} == {MODEL_ID}


def arrived_back(col: Any) -> str:
    return anki_cards(col)[TRICKY[0][0]][0]


def test_a_package_deflated_in_many_pieces_reads_whole(
    tmp_path: Path, anki_col: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large collection is deflated in pieces side by side; small pieces make many here.
    monkeypatch.setattr(package_zip, "PIECE", 4096)
    package = write(tmp_path, bulk_decks(), at=1.7e9)
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None
        assert archive.getinfo("collection.anki2").file_size > 50 * 4096
    monkeypatch.undo()
    assert package.read_bytes() != export_apkg(bulk_decks(), timestamp=1.7e9)
    assert [c.front for c in parse(package).cards] == [
        c.front for deck in bulk_decks() for c in deck.cards
    ]
    anki_import(anki_col, package)
    assert anki_col.note_count() == anki_col.card_count() == 1000


def test_a_package_too_large_for_a_plain_zip_is_written_by_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(package_zip, "ZIP64_LIMIT", 0)
    package = write(tmp_path, sample_decks(), at=1.7e9)
    monkeypatch.undo()
    with (
        zipfile.ZipFile(package) as archive,
        zipfile.ZipFile(write(tmp_path, sample_decks(), "plain.apkg", at=1.7e9)) as plain,
    ):
        assert [(i.filename, i.date_time, i.external_attr) for i in archive.infolist()] == [
            (i.filename, i.date_time, i.external_attr) for i in plain.infolist()
        ]
        assert [archive.read(n) for n in archive.namelist()] == [
            plain.read(n) for n in plain.namelist()
        ]


@pytest.mark.parametrize("uid", ["a\x1fb", "x  y", "<id> & [more]", "tab\there", "ünï"])
def test_a_card_id_of_any_text_brings_the_card_back_onto_itself(tmp_path: Path, uid: str) -> None:
    result = parse(write(tmp_path, [ExportDeck("D", (card(uid, "front", "back"),))]))
    ((found, front, back),) = [(c.key, c.front, c.back) for c in result.cards]
    assert (found, front, back) == (uid, "front", "back")
