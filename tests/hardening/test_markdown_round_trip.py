"""Whatever the app accepts and exports as a deck file, it imports again, unchanged.

NUL characters are refused at every way in (no text file can carry them), demo parameters
keep their JSON type, a parameter name a deck file cannot write is refused where it comes in,
and a deck name is one line of at most 200 characters everywhere.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from studyapp.db import Store, open_store
from studyapp.errors import UserError
from studyapp.formats.anki_export import export_apkg
from studyapp.formats.base import ExportCard, ExportDeck
from studyapp.model import DemoLink
from studyapp.scheduling import SM2State
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService
from tests.hardening.conftest import one_line, run_cli


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(str(tmp_path / "c.db"))
    yield opened
    opened.dispose()


def json_backup(name: str = "Deck", **card: Any) -> dict[str, Any]:
    return {"version": 1, "decks": [{"name": name, "cards": [{"id": "k-1", "front": "q", **card}]}]}


def md_round_trip(store: Store, tmp_path: Path, deck: str) -> tuple[str, Store]:
    """Export `deck` as a deck file and import it into a new collection."""
    text = LibraryService(store).export("md", deck).decode()
    path = tmp_path / "deck.md"
    path.write_text(text, encoding="utf-8")
    other = open_store(str(tmp_path / "other.db"))
    LibraryService(other).import_files([path])
    return text, other


# --- NUL ------------------------------------------------------------------------------------


def test_nul_is_refused_when_a_card_is_added_or_edited(store: Store) -> None:
    cards = CardService(store)
    with pytest.raises(UserError, match="front holds a NUL character"):
        cards.add("Deck", "a\x00b", "back")
    card = cards.add("Deck", "fine", "back")
    with pytest.raises(UserError, match="back holds a NUL character"):
        cards.update(card.id, back="\x00")
    with pytest.raises(UserError, match="tags holds a NUL character"):
        cards.update(card.id, tags=["a\x00"])
    assert cards.detail(card.id).card.back == "back"


def test_nul_in_a_backup_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "nul.json"
    source.write_text(json.dumps(json_backup(back="a\x00b")))
    status, _, err = run_cli(capsys, "import", source, "--db", tmp_path / "c.db")
    assert status == 2
    assert one_line(err) == (
        f"studyapp: {source}, entry 1: 'back' holds a NUL character, "
        "which no deck file or CSV can carry"
    )


def test_nul_in_an_anki_package_skips_that_card_and_says_why(store: Store, tmp_path: Path) -> None:
    def card(uid: str, front: str) -> ExportCard:
        return ExportCard(uid, front, "back", (), "", None, SM2State.new(), (), False, 1)

    package = tmp_path / "nul.apkg"
    package.write_bytes(export_apkg([ExportDeck("Anki", (card("a", "x\x00y"), card("b", "ok")))]))
    report = LibraryService(store).import_files([package])
    assert report.added == 1
    assert [s.reason for s in report.skipped] == [
        "its front holds a NUL character, which no deck file or CSV can carry"
    ]


def test_a_card_kept_with_nul_by_an_older_version_is_named_by_a_text_export(
    store: Store, tmp_path: Path
) -> None:
    card = CardService(store).add("Old", "front", "back")
    assert store.path is not None
    with sqlite3.connect(store.path) as raw:
        raw.execute("UPDATE cards SET back = ? WHERE id = ?", ("a\x00b", card.id))
    raw.close()
    library = LibraryService(store)
    for fmt in ("md", "csv", "tsv"):
        with pytest.raises(UserError) as refused:
            library.export(fmt)
        assert str(refused.value) == (
            f"card {card.uid} in deck 'Old' holds a NUL character, which a {fmt} file cannot "
            "carry: edit the card, or export json"
        )
    assert '"back": "a\\u0000b"' in library.export("json").decode()


# --- demo parameters ------------------------------------------------------------------------


def test_demo_parameters_keep_their_json_type_in_a_deck_file(store: Store, tmp_path: Path) -> None:
    params = {
        "none": None,
        "items": [1, "two words", [3.5, None], {"k": "v"}],
        "table": {"a b": [True, False], "=": '"quoted" = text'},
        "null_text": "null",
        "list_text": "[1,2]",
        "number_text": "12",
        "huge": 10**40,
        "tiny": 1e-300,
        "word": "sgd",
        "spaced": "two  spaces",
        "empty": "",
    }
    CardService(store).add("Demo", "q", "a", demo=DemoLink("some_demo", params))
    text, other = md_round_trip(store, tmp_path, "Demo")
    (card,) = CardService(other).search()
    assert card.demo == DemoLink("some_demo", params)
    assert {k: type(v) for k, v in card.demo.params.items()} == {
        k: type(v) for k, v in params.items()
    }
    assert "none=null" in text and "huge=" + str(10**40) in text
    other.dispose()


def test_a_parameter_name_no_deck_file_can_write_is_refused_where_it_comes_in(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("two words", "a=b", 'quo"te'):
        source = tmp_path / "param.json"
        source.write_text(json.dumps(json_backup(demo={"id": "adam_vs_sgd", "params": {name: 1}})))
        status, _, err = run_cli(capsys, "import", source, "--db", tmp_path / "c.db")
        assert status == 2
        assert f"entry 1, demo: demo parameter name {name!r} is not a single word" in one_line(err)
    with pytest.raises(UserError, match="is not a single word"):
        CardService(store).add("D", "q", "a", demo=DemoLink("x", {"a b": 1}))


def test_a_number_a_deck_file_reads_as_infinity_stays_text(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "inf.md"
    path.write_text("# Inf\n\n## i-1\ndemo: some_demo lr=1e400 n=-inf\n\nq\n\n---\n\na\n")
    LibraryService(store).import_files([path])
    (card,) = CardService(store).search()
    assert card.demo == DemoLink("some_demo", {"lr": "1e400", "n": "-inf"})
    LibraryService(store).export("json")  # JSON cannot write infinity: it is text, so it can


# --- deck names -----------------------------------------------------------------------------


CONTROL_IN_NAME = "a deck name cannot hold a control character or a lone surrogate (it holds {})"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("two\nlines", CONTROL_IN_NAME.format("U+000A")),
        ("tab\there", CONTROL_IN_NAME.format("U+0009")),
        ("esc\x1b[2J", CONTROL_IN_NAME.format("U+001B")),
        ("c1\x9b", CONTROL_IN_NAME.format("U+009B")),
        ("x" * 100_000, "a deck name has at most 200 characters; this one has 100,000"),
    ],
)
def test_a_deck_name_is_one_line_of_at_most_200_characters_everywhere(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    reason: str,
) -> None:
    with pytest.raises(UserError) as refused:
        DeckService(store).create(name)
    assert str(refused.value) == reason
    with pytest.raises(UserError) as refused:
        CardService(store).add(name, "q", "a")
    assert str(refused.value) == reason
    assert DeckService(store).list() == []

    db = tmp_path / "cli.db"
    source = tmp_path / "deck.json"
    source.write_text(json.dumps(json_backup(name=name)))
    status, out, err = run_cli(capsys, "import", source, "--db", db)
    assert (status, out) == (2, "")
    assert one_line(err) == f"studyapp: {source}, deck 1: {reason}"
    csv = tmp_path / "deck.csv"
    csv.write_text("front,back\nq,a\n")
    status, out, err = run_cli(capsys, "import", csv, "--deck", name, "--db", db)
    assert one_line(err) == f"studyapp: {reason}" and status == 2
    if "\n" not in name:
        md = tmp_path / "deck.md"
        md.write_text(f"# {name}\n\n## k-1\n\nq\n\n---\n\na\n", encoding="utf-8")
        status, out, err = run_cli(capsys, "import", md, "--db", db)
        assert one_line(err) == f"studyapp: {md}, line 1: {reason}" and status == 2
    assert len(err) < 400, "the name is not echoed back"
    for command in (
        ("add", "--deck", name, "--front", "q", "--back", "a"),
        ("deck", name, "--create"),
    ):
        status, out, err = run_cli(capsys, *command, "--db", db)
        assert (status, out, one_line(err)) == (2, "", f"studyapp: {reason}"), command
    status, out, _ = run_cli(capsys, "decks", "--db", db, "--json")
    assert json.loads(out) == []
    DeckService(store).create("Kept")
    with pytest.raises(UserError) as refused:
        DeckService(store).rename("Kept", name)
    assert str(refused.value) == reason
    assert [d.name for d in DeckService(store).list()] == ["Kept"]


def test_a_deck_file_written_by_the_app_reimports_as_no_change(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "  Deep   learning: [bold] «ünï»  "
    cards = CardService(store)
    cards.add(name, "first", "back", tags=("a,b", "[x", "c"), source="s1  s2")
    cards.add(name, "\n  indented\n## not a heading\n---\n\\escaped\n", "   ")
    DeckService(store).get(name.strip())  # kept stripped
    db = store.path
    assert db is not None
    folder = tmp_path / "out"
    folder.mkdir()
    status, _, err = run_cli(capsys, "export", "--db", db, "--format", "md", "--output", folder)
    assert status == 0, err
    (deck_file,) = folder.iterdir()
    status, out, err = run_cli(capsys, "import", deck_file, "--db", db)
    assert status == 0, err
    assert out.startswith(f"Imported md into {name.strip()}: 0 added, 0 updated, 2 unchanged")
    fresh = tmp_path / "fresh.db"
    assert run_cli(capsys, "import", deck_file, "--db", fresh)[0] == 0
    again = tmp_path / "again"
    again.mkdir()
    assert run_cli(capsys, "export", "--db", fresh, "--format", "md", "--output", again)[0] == 0
    assert (again / deck_file.name).read_bytes() == deck_file.read_bytes()
    status, out, _ = run_cli(capsys, "decks", "--db", fresh, "--json")
    assert [d["name"] for d in json.loads(out)] == [name.strip()]
