"""The library service: import onto the collection, re-import, round trips, the bundled deck."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import event

from studyapp.db import Store, open_store
from studyapp.db.store import backup_folder
from studyapp.errors import UserError
from studyapp.formats.native import parse_text
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService, key_to_uid
from studyapp.services.study import StudySession
from tests.backends import scalar
from tests.services.conftest import FakeClock

DATA = Path(__file__).resolve().parents[2] / "data"
TRICKY = ("w[i] <- w[i] - lr", "[bold]", "[/]", "line one\n\n  - indented\n\\ back\\slash")

DECK = """\
# Optimizers

<!-- made by hand -->

## opt-1
tags: optimizers
source: notes card 1
demo: adam_vs_sgd

What does Adam keep?

---

First and second moments.

## opt-2

What is momentum?

---

A running average of gradients.
"""


def seed(stem: str) -> Path:
    return next(DATA.glob(f"{stem}_*.txt"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(store: Store) -> bytes:
    return LibraryService(store).export("json")


@pytest.fixture
def library(store: Store, clock: FakeClock) -> LibraryService:
    return LibraryService(store, clock)


def test_seed_files_import_with_the_right_counts_and_twice_changes_nothing(
    library: LibraryService,
) -> None:
    expected = {"000": 21, "002": 37, "003": 103, "004": 24}
    for stem, count in expected.items():
        report = library.import_files([seed(stem)])
        assert (report.added, report.updated, report.unchanged) == (count, 0, 0)
    for stem, count in expected.items():
        report = library.import_files([seed(stem)])
        assert (report.added, report.updated, report.unchanged) == (0, 0, count)
    decks = {c.name: c.total for c in DeckService(library.store).counts()}
    assert decks == {
        "Class Thirteen": 21,
        "Deep learning Interview Questions": 37,
        "Quiz 2 - Optimization, CNN": 103,
        "004_94e693ab075b1c21": 24,
    }
    report = library.import_files([seed("003")])
    assert report.to_dict()["skipped"] == [
        {"where": "card 67", "reason": "card has no question and no answer"}
    ]


def test_an_edited_card_updates_in_place_and_keeps_its_schedule(
    library: LibraryService, tmp_path: Path, clock: FakeClock
) -> None:
    path = write(tmp_path, "opt.md", DECK)
    assert library.import_files([path]).added == 2
    session = StudySession(library.store, "Optimizers", clock)
    while session.current is not None:
        session.answer(5)
    before = {c.uid: c for c in CardService(library.store).search(deck="Optimizers")}
    history = CardService(library.store).detail(before["opt-1"].id).history
    assert history and not before["opt-1"].state.is_new

    write(tmp_path, "opt.md", DECK.replace("First and second moments.", "m and v."))
    clock.advance(days=1)
    report = library.import_files([path])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    after = {c.uid: c for c in CardService(library.store).search(deck="Optimizers")}
    assert after["opt-1"].back == "m and v."
    assert after["opt-1"].state == before["opt-1"].state
    assert after["opt-1"].id == before["opt-1"].id
    assert CardService(library.store).detail(after["opt-1"].id).history == history


def test_a_site_export_re_import_never_resets_state_and_matches_by_front(
    library: LibraryService, tmp_path: Path, clock: FakeClock
) -> None:
    path = write(tmp_path, "cards.csv", "front,back\nWhat is ReLU?,max(0 x)\nWhat is SGD?,steps\n")
    library.import_files([path])
    StudySession(library.store, "cards", clock).answer(4)
    write(tmp_path, "cards.csv", 'front,back\nWhat is ReLU?,"max(0, x)"\nWhat is SGD?,steps\n')
    report = library.import_files([path])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    cards = {c.front: c for c in CardService(library.store).search(deck="cards")}
    assert cards["What is ReLU?"].back == "max(0, x)"
    assert not cards["What is ReLU?"].state.is_new


def test_duplicates_inside_one_import_are_reported(library: LibraryService, tmp_path: Path) -> None:
    text = "front,back,id\nq,a,\nq,a,\nq2,b,k1\nq3,c,k1\n"
    report = library.import_files([write(tmp_path, "d.csv", text)])
    assert report.added == 2
    assert [(s.where, s.reason) for s in report.skipped] == [
        ("line 3", "same card as line 2"),
        ("line 5", "id 'k1' is used again (first at line 4)"),
    ]


def test_import_is_all_or_nothing(library: LibraryService, tmp_path: Path) -> None:
    library.import_files([write(tmp_path, "first.md", DECK)])
    before = snapshot(library.store)
    good = write(tmp_path, "good.csv", "front,back\nnew card,x\n")
    broken = write(tmp_path, "broken.csv", 'front,back\n"never closed,x\n')
    with pytest.raises(UserError, match="broken.csv, line 2"):
        library.import_files([good, broken])
    assert snapshot(library.store) == before


def test_dry_run_reports_the_same_and_writes_nothing(
    library: LibraryService, tmp_path: Path
) -> None:
    path = write(tmp_path, "opt.md", DECK)
    before = snapshot(library.store)
    dry = library.import_files([path], dry_run=True)
    assert snapshot(library.store) == before
    real = library.import_files([path])
    assert dry.to_dict() == real.to_dict()


@pytest.mark.sqlite_only  # a server's collection is backed up with the server's own tools
def test_a_backup_is_made_before_importing_into_a_collection_with_cards(
    library: LibraryService, tmp_path: Path
) -> None:
    assert library.store.path is not None
    folder = backup_folder(library.store.path)
    library.import_files([write(tmp_path, "opt.md", DECK)])
    assert not folder.exists()  # nothing to back up in a new, empty collection
    library.import_files([seed("000")])
    assert len(list(folder.glob("*-import.db"))) == 1


def test_deck_option_and_deck_names(library: LibraryService) -> None:
    report = library.import_files([seed("000")], deck="Mine")
    assert report.deck == "Mine"
    assert [d.name for d in DeckService(library.store).list()] == ["Mine"]
    with pytest.raises(UserError):
        library.import_files([seed("000")], deck="  ")


def test_demo_links_to_unknown_demos_warn_and_are_kept(
    library: LibraryService, tmp_path: Path
) -> None:
    text = DECK.replace("demo: adam_vs_sgd", "demo: no_such_demo steps=3")
    report = library.import_files([write(tmp_path, "opt.md", text)])
    assert report.warnings == [
        "line 5: demo link 'no_such_demo' will not run (unknown demo 'no_such_demo'); kept"
    ]
    card = CardService(library.store).search("Adam")[0]
    assert card.demo is not None and card.demo.id == "no_such_demo"


def populated(store: Store, clock: FakeClock, tmp_path: Path) -> LibraryService:
    library = LibraryService(store, clock)
    library.import_files([write(tmp_path, "opt.md", DECK)])
    library.import_files([seed("000")])
    cards = CardService(store, clock)
    for text in TRICKY:
        cards.add("Tricky", text, text + " back", tags=["t"])
    session = StudySession(store, "Optimizers", clock)
    for rating in (2, 5, 4, 5):
        if session.current is not None:
            session.answer(rating)
    clock.advance(days=2, hours=3)
    StudySession(store, "Class Thirteen", clock).answer(3)
    cards.set_suspended(cards.search("[bold]")[0].id, True)
    DeckService(store, clock).update_settings("Tricky", new_per_day=7, day_start_hour=2)
    DeckService(store, clock).create("Empty deck")
    return library


def test_json_backup_restores_everything_byte_for_byte(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    first = populated(store, clock, tmp_path).export("json")
    document = json.loads(first)
    reviews = [r for d in document["decks"] for c in d["cards"] for r in c["reviews"]]
    assert len(reviews) >= 4 and any(c["suspended"] for d in document["decks"] for c in d["cards"])
    backup = write(tmp_path, "backup.json", first.decode("utf-8"))
    fresh = LibraryService(open_store(str(tmp_path / "fresh.db")), clock)
    report = fresh.import_files([backup])
    assert report.added == sum(len(d["cards"]) for d in document["decks"])
    assert fresh.export("json") == first
    again = fresh.import_files([backup])
    assert (again.added, again.updated) == (0, 0)
    assert fresh.export("json") == first


def test_deck_files_and_csv_round_trip(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    library = populated(store, clock, tmp_path)
    fresh = LibraryService(open_store(str(tmp_path / "fresh.db")), clock)
    for deck in ("Optimizers", "Tricky", "Class Thirteen"):
        data = library.export("md", deck)
        path = write(tmp_path, f"{deck}.md", data.decode("utf-8"))
        fresh.import_files([path])
        assert fresh.export("md", deck) == data
    csv_path = write(tmp_path, "all.csv", library.export("csv").decode("utf-8"))
    other = LibraryService(open_store(str(tmp_path / "other.db")), clock)
    other.import_files([csv_path])
    fields = lambda lib: sorted(  # noqa: E731
        (c.uid, c.deck, c.front, c.back, c.tags, c.source) for c in CardService(lib.store).search()
    )
    assert fields(other) == fields(library)
    assert other.import_files([csv_path]).unchanged == len(fields(library))


@pytest.mark.parametrize("format", ["json", "md", "csv", "tsv", "apkg"])
def test_card_text_survives_every_format_verbatim(
    store: Store, clock: FakeClock, tmp_path: Path, format: str
) -> None:
    cards = CardService(store, clock)
    for text in TRICKY:
        cards.add("Tricky", text, f"{text} <b>not html</b> &amp;")
    data = LibraryService(store, clock).export(format, "Tricky")
    path = tmp_path / f"out.{format}"
    path.write_bytes(data)
    fresh = LibraryService(open_store(str(tmp_path / "fresh.db")), clock)
    fresh.import_files([path], format=format)
    got = sorted((c.front, c.back) for c in CardService(fresh.store).search())
    assert got == sorted((t, f"{t} <b>not html</b> &amp;") for t in TRICKY)


def test_md_export_of_several_decks_needs_a_deck(store: Store, clock: FakeClock) -> None:
    cards = CardService(store, clock)
    cards.add("A", "q", "a")
    cards.add("B", "q", "a")
    with pytest.raises(UserError, match="one deck"):
        LibraryService(store, clock).export("md")
    with pytest.raises(UserError, match="no deck named 'C'"):
        LibraryService(store, clock).export("json", "C")


def test_keys_that_are_not_deck_file_ids_still_round_trip(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    uid = key_to_uid("anki:Xy{%/+]:0")
    assert parse_text(f"# D\n\n## {uid}\n\nq\n---\n", "x").cards[0].key == uid
    assert key_to_uid("anki:Xy{%/+]:0") == uid and key_to_uid("q2-001") == "q2-001"
    text = '{"version": 1, "decks": [{"name": "D", "cards": [{"id": "a b/c", "front": "q"}]}]}'
    library = LibraryService(store, clock)
    library.import_files([write(tmp_path, "k.json", text)])
    md = write(tmp_path, "d.md", library.export("md", "D").decode("utf-8"))
    assert library.import_files([md]).unchanged == 1


def test_the_bundled_deck_loads_once_and_never_overwrites_edits(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    write(folder, "optimizers.md", DECK)
    write(folder, "README.md", "# How the deck was made\n\n## Not a card deck\n")
    library = LibraryService(store, clock, bundled_dir=folder)
    assert not library.bundled_loaded()
    first = library.load_bundled()
    assert first.added == 2
    assert [d.name for d in DeckService(store).counts()] == ["Optimizers"]
    assert library.bundled_loaded()
    card = CardService(store).search("Adam")[0]
    CardService(store).update(card.id, back="my own words")
    again = library.load_bundled()
    assert (again.added, again.updated, again.merged) == (0, [], [])
    assert CardService(store).search("Adam")[0].back == "my own words"
    assert DeckService(store).get("Optimizers").description == "<!-- made by hand -->"


def test_without_bundled_files_nothing_is_loaded(store: Store, tmp_path: Path) -> None:
    library = LibraryService(store, bundled_dir=tmp_path / "missing")
    report = library.load_bundled()
    assert report.added == 0 and report.warnings and not library.bundled_loaded()


def test_review_times_are_exported_in_utc(store: Store, clock: FakeClock) -> None:
    CardService(store, clock).add("D", "q", "a")
    StudySession(store, "D", clock).answer(5)
    review = json.loads(LibraryService(store).export("json"))["decks"][0]["cards"][0]["reviews"][0]
    assert review["at"] == clock.now.astimezone(UTC).isoformat()


def test_our_own_export_re_imported_adds_nothing_in_any_format(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    library = populated(store, clock, tmp_path)
    total = len(CardService(store).search())
    for format in ("json", "csv", "tsv", "apkg"):
        path = tmp_path / f"all.{format}"
        path.write_bytes(library.export(format))
        report = library.import_files([path], format=format)
        assert (report.added, report.updated, report.skipped) == (0, 0, []), format
    assert len(CardService(store).search()) == total


def test_reimport_matches_cards_by_content_whatever_their_spacing_and_case(
    store: Store, tmp_path: Path
) -> None:
    # Content keys are stored with the cards: a later import with the text spaced or cased
    # differently (or an older collection's keys) must find the same cards.
    first = tmp_path / "first.csv"
    first.write_text("front,back\nWhat is  Adam?,An optimizer\nReLU?,max(0 x)\n", "utf-8")
    again = tmp_path / "again.csv"
    again.write_text("front,back\n what is adam? ,\tAN   OPTIMIZER\nNew card,yes\n", "utf-8")
    library = LibraryService(store)
    assert library.import_files([first], deck="D").added == 2
    report = library.import_files([again], deck="D")
    assert (report.added, report.unchanged, report.updated) == (1, 1, 0)
    key = scalar(store.url, "SELECT content_key FROM cards WHERE front = 'ReLU?'")
    assert key == hashlib.sha256(b"relu?\x1fmax(0 x)").hexdigest()[:32]


def test_a_second_file_matches_the_cards_the_first_one_added(
    library: LibraryService, tmp_path: Path
) -> None:
    first = write(tmp_path, "first.csv", "front,back,tags\nq1,a1,x\nq2,a2,x\n")
    second = write(tmp_path, "second.csv", "front,back\nq1,a1\nq3,a3\nq2,other\n")
    report = library.import_files([first, second], deck="D")
    assert (report.added, report.updated, report.unchanged) == (4, 0, 0)
    assert [(s.where, s.reason) for s in report.skipped] == [
        (f"{second}, line 2", f"same card as {first}, line 2")
    ]
    cards = sorted(CardService(library.store).search(deck="D"), key=lambda c: c.position)
    assert [(c.front, c.back, c.tags) for c in cards] == [
        ("q1", "a1", ("x",)),
        ("q2", "a2", ("x",)),
        ("q3", "a3", ()),
        ("q2", "other", ()),
    ]


def test_a_deck_name_in_another_letter_case_is_the_deck_you_have(
    store: Store, library: LibraryService, clock: FakeClock, tmp_path: Path
) -> None:
    """As in Anki, "optimizers" is the deck "Optimizers": an import, a lookup, the stats and
    a review find it; a new deck or a rename cannot make a second one that differs only in
    case; a rename that only changes the case is a rename."""
    decks = DeckService(store, clock)
    decks.create("Optimizers")
    first = write(tmp_path, "a.csv", "front,back\nWhat does Adam adapt?,Each weight's step\n")
    report = library.import_files([first], deck="optimizers")
    assert (report.added, report.deck) == (1, "Optimizers")
    second = write(tmp_path, "b.csv", "front,back,deck\nq,a,OPTIMIZERS\n")
    assert library.import_files([second]).deck == "Optimizers"
    assert [d.name for d in decks.list()] == ["Optimizers"]
    assert decks.get("optimizers").name == "Optimizers"
    assert StudySession(store, "OPTIMIZERS", clock).remaining.new == 2
    with pytest.raises(UserError, match="already a deck named 'Optimizers'"):
        decks.create("optimizers")
    decks.create("Other")
    with pytest.raises(UserError, match="already a deck named 'Other'"):
        decks.rename("Optimizers", "other")
    assert decks.rename("optimizers", "OPTIMIZERS").name == "OPTIMIZERS"
    assert [d.name for d in decks.list()] == ["OPTIMIZERS", "Other"]


def test_decks_one_backup_names_apart_by_case_stay_apart(
    store: Store, library: LibraryService, tmp_path: Path
) -> None:
    """Whatever the app exports it imports again: a collection holding "Optimizers" and
    "optimizers" (from before names were told apart by letters only) keeps both."""
    document = {
        "version": 1,
        "decks": [
            {"name": "Optimizers", "cards": [{"id": "k1", "front": "upper", "back": "a"}]},
            {"name": "optimizers", "cards": [{"id": "k2", "front": "lower", "back": "b"}]},
        ],
    }
    source = write(tmp_path, "backup.json", json.dumps(document))
    library.import_files([source])
    exported = library.export("json")
    names = [deck["name"] for deck in json.loads(exported)["decks"]]
    assert sorted(names) == ["Optimizers", "optimizers"]
    fronts = {d["name"]: [c["front"] for c in d["cards"]] for d in json.loads(exported)["decks"]}
    assert fronts == {"Optimizers": ["upper"], "optimizers": ["lower"]}


def test_one_file_naming_a_deck_in_two_letter_cases_makes_one_deck(
    store: Store, library: LibraryService, clock: FakeClock, tmp_path: Path
) -> None:
    """A file's second spelling of a deck it makes goes into the first, as it would if the
    collection had held that deck: no import makes two decks that differ only in case."""
    source = write(
        tmp_path,
        "two.csv",
        "front,back,deck\nq1,a1,Optimizers\nq2,a2,optimizers\nq3,a3,OPTIMIZERS\n",
    )
    report = library.import_files([source])
    assert (report.added, report.deck) == (3, "Optimizers")
    decks = DeckService(store, clock)
    assert [(d.name, d.total) for d in decks.counts()] == [("Optimizers", 3)]
    assert library.import_files([source]).unchanged == 3


def test_a_deck_a_backup_makes_takes_another_files_spelling_of_it(
    store: Store, library: LibraryService, clock: FakeClock, tmp_path: Path
) -> None:
    """Only decks a backup lists side by side stay apart by case (see above): a deck the
    backup makes is the deck another file of the same import names in another case."""
    document = {
        "version": 1,
        "decks": [{"name": "Optimizers", "cards": [{"id": "k1", "front": "q1", "back": "a"}]}],
    }
    backup = write(tmp_path, "backup.json", json.dumps(document))
    cards = write(tmp_path, "more.csv", "front,back,deck\nq2,a2,optimizers\n")
    library.import_files([backup, cards])
    decks = DeckService(store, clock)
    assert [(d.name, d.total) for d in decks.counts()] == [("Optimizers", 2)]


def test_a_backups_decks_stay_apart_when_an_earlier_file_made_one_of_them(
    store: Store, library: LibraryService, clock: FakeClock, tmp_path: Path
) -> None:
    """A CSV makes "opt", then a backup of the same import lists "Opt" and "opt": the
    backup's two decks come in as it lists them, the CSV's card in its "opt"."""
    cards = write(tmp_path, "more.csv", "front,back,deck\ncsv question,a,opt\n")
    document = {
        "version": 1,
        "decks": [
            {"name": "Opt", "cards": [{"id": "k1", "front": "upper", "back": "a"}]},
            {"name": "opt", "cards": [{"id": "k2", "front": "lower", "back": "b"}]},
        ],
    }
    backup = write(tmp_path, "backup.json", json.dumps(document))
    library.import_files([cards, backup])
    decks = DeckService(store, clock)
    assert sorted((d.name, d.total) for d in decks.counts()) == [("Opt", 1), ("opt", 2)]


def test_two_files_of_one_import_name_one_deck_in_two_letter_cases(
    store: Store, library: LibraryService, clock: FakeClock, tmp_path: Path
) -> None:
    first = write(tmp_path, "a.md", "# Optimizers\n\n## k1\n\nq1\n\n---\n\na1\n")
    second = write(tmp_path, "b.csv", "front,back,deck\nq2,a2,OPTIMIZERS\n")
    library.import_files([first, second])
    decks = DeckService(store, clock)
    assert [(d.name, d.total) for d in decks.counts()] == [("Optimizers", 2)]


def test_thousands_of_cards_and_reviews_round_trip_whole_and_in_order(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """More cards and reviews than one insert statement takes (a thousand rows each)."""
    document = json.loads(populated(store, clock, tmp_path).export("json"))
    studied = next(c for d in document["decks"] for c in d["cards"] if c["reviews"])
    many = [
        {
            **studied,
            "id": f"c{i:015x}",
            "front": f"card {i}: {studied['front']}",
            "tags": [f"t{i % 7}"],
        }
        for i in range(2_345)
    ]
    document["decks"].append({**document["decks"][0], "name": "Many", "cards": many})
    backup = write(tmp_path, "many.json", json.dumps(document))
    fresh = LibraryService(open_store(str(tmp_path / "fresh.db")), clock)
    assert fresh.import_files([backup]).added == sum(len(d["cards"]) for d in document["decks"])
    exported = json.loads(fresh.export("json"))["decks"]
    assert sorted(exported, key=lambda d: d["name"]) == sorted(
        document["decks"], key=lambda d: d["name"]
    )

    lines = ["front,back,tags"] + [f'"q{i}, ""quoted""",ä{i},t{i % 3}' for i in range(2_345)]
    csv_file = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    assert fresh.import_files([csv_file], deck="From CSV").added == 2_345
    cards = next(d for d in json.loads(fresh.export("json"))["decks"] if d["name"] == "From CSV")
    assert [(c["front"], c["back"], c["tags"]) for c in cards["cards"]] == [
        (f'q{i}, "quoted"', f"ä{i}", [f"t{i % 3}"]) for i in range(2_345)
    ]


@pytest.mark.parametrize(
    "source",
    [
        "Core VALUES handbook",
        "x VALUES (?,1,?,?,?,?,char(112,119,110),?,NULL,NULL,1,NULL,250,0,0,0,NULL,"
        "(SELECT created_at FROM decks),(SELECT created_at FROM decks),NULL,NULL)--",
        "it's '); DROP TABLE cards; --",
    ],
)
def test_text_every_card_of_a_file_shares_is_stored_as_it_is(
    store: Store, clock: FakeClock, tmp_path: Path, source: str
) -> None:
    quoted = source.replace('"', '""')
    lines = ["front,back,source", *(f'q{i},a{i},"{quoted}"' for i in range(1_234))]
    path = write(tmp_path, "shared.csv", "\n".join(lines) + "\n")
    assert LibraryService(store, clock).import_files([path], deck="Deck").added == 1_234
    cards = json.loads(LibraryService(store, clock).export("json", deck="Deck"))["decks"][0]
    assert {(c["source"], c["suspended"]) for c in cards["cards"]} == {(source, False)}
    assert [c["front"] for c in cards["cards"]] == [f"q{i}" for i in range(1_234)]


@pytest.mark.sqlite_only  # the statements of SQLite's many-row inserts
def test_an_imports_statements_hold_no_text_from_the_file_nor_its_time(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    """SQLite caches each statement's program: one of each size serves every import."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO cards"):
            statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", note)
    library = LibraryService(store, clock)
    for name in ("one", "two"):
        lines = ["front,back,source", *(f"{name} {i},a,Marker {name}" for i in range(1_500))]
        library.import_files([write(tmp_path, f"{name}.csv", "\n".join(lines))], deck=name)
        clock.advance(hours=1)
    assert len(statements) == 4 and statements[:2] == statements[2:]
    assert not any("Marker" in sql or "2026-03-02" in sql for sql in statements)
