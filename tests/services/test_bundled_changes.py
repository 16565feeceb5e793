"""A bundled card or deck the learner deleted stays deleted; a renamed bundled deck keeps its
new name when the bundled deck is brought up to date (`init`, the first start after an
upgrade), and a backup carries both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.db import Store, open_store
from studyapp.formats import get_format
from studyapp.model import BundledChanges
from studyapp.services.backups import BackupService
from studyapp.services.bundled import HISTORY_FILE, BundledHistory
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.services.library import LibraryService
from tests.services.conftest import FakeClock

Deck = dict[str, tuple[str, str]]
ONE: Deck = {
    "one-1": ("What is SGD?", "Gradient descent on minibatches."),
    "one-2": ("Adam?", "An optimizer."),
}
TWO: Deck = {"two-1": ("What is dropout?", "Random units off in training.")}


def deck_text(name: str, cards: Deck, description: str) -> str:
    text = f"# {name}\n\n{description}\n\n"
    for uid, (front, back) in cards.items():
        text += f"## {uid}\ntags: bundled\n\n{front}\n\n---\n\n{back}\n\n"
    return text


def write_release(folder: Path, *versions: dict[str, tuple[Deck, str]]) -> None:
    """A bundled folder with the last of `versions` ({deck name: (cards, description)}) and
    a history of all of them."""
    folder.mkdir(parents=True, exist_ok=True)
    native = get_format("md")
    assert native.parse is not None
    results = []
    for i, version in enumerate(versions):
        for j, (name, (cards, description)) in enumerate(version.items()):
            path = folder / f"v{i}-{j}.tmp"
            path.write_text(deck_text(name, cards, description), encoding="utf-8")
            results.append(native.parse(path))
            path.unlink()
    for old in folder.glob("*.md"):
        old.unlink()
    for j, (name, (cards, description)) in enumerate(versions[-1].items()):
        text = deck_text(name, cards, description)
        (folder / f"deck-{j}.md").write_text(text, encoding="utf-8")
    (folder / HISTORY_FILE).write_text(BundledHistory.of(results, {}).to_json(), encoding="utf-8")


V1 = {"One": (ONE, "About optimizers."), "Two": (TWO, "About dropout.")}
V2 = {
    "One": ({**ONE, "one-3": ("Momentum?", "A running mean of gradients.")}, "Optimizers, v2."),
    "Two": ({**TWO, "two-2": ("Dropout at test time?", "Every unit kept.")}, "About dropout."),
}


@pytest.fixture
def release(tmp_path: Path) -> Path:
    folder = tmp_path / "cards"
    write_release(folder, V1)
    return folder


@pytest.fixture
def loaded(store: Store, release: Path, clock: FakeClock) -> Store:
    LibraryService(store, clock, bundled_dir=release).load_bundled()
    return store


def uids(store: Store, deck: str | None = None) -> dict[str, str]:
    """Every card's uid, with its deck's name."""
    return {c.uid: c.deck for c in CardService(store).search(deck=deck)}


def update(store: Store, release: Path, clock: FakeClock) -> None:
    LibraryService(store, clock, bundled_dir=release).load_bundled()


def test_a_deleted_bundled_card_is_not_brought_back_by_init_or_an_upgrade(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    cards = CardService(loaded, clock, bundled_dir=release)
    cards.delete(["one-1"])
    update(loaded, release, clock)
    assert "one-1" not in uids(loaded)

    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert sorted(uids(loaded)) == ["one-2", "one-3", "two-1", "two-2"]


def test_a_deleted_bundled_deck_stays_deleted_with_the_cards_later_releases_add(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    deleted = DeckService(loaded, clock, bundled_dir=release).delete("Two")
    assert deleted.cards == 1
    update(loaded, release, clock)
    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert [d.name for d in DeckService(loaded).list()] == ["One"]
    assert sorted(uids(loaded)) == ["one-1", "one-2", "one-3"]


def test_the_update_says_how_many_deleted_cards_it_left_out(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    CardService(loaded, clock, bundled_dir=release).delete(["one-1"])
    DeckService(loaded, clock, bundled_dir=release).delete("Two")
    write_release(release, V1, V2)
    report = LibraryService(loaded, clock, bundled_dir=release).load_bundled()
    assert (report.added, report.left_out) == (1, 3)  # one-3 in; one-1, two-1, two-2 out


def test_a_deleted_bundled_deck_imported_again_takes_updates_again(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    DeckService(loaded, clock, bundled_dir=release).delete("Two")
    LibraryService(loaded, clock).import_files([release / "deck-1.md"])
    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert sorted(uids(loaded, "Two")) == ["two-1", "two-2"]


def test_a_renamed_bundled_deck_keeps_its_name_and_takes_new_cards_and_corrections(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    decks = DeckService(loaded, clock, bundled_dir=release)
    decks.rename("One", "My optimizers")
    update(loaded, release, clock)
    assert [d.name for d in decks.list()] == ["My optimizers", "Two"]

    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert [d.name for d in decks.list()] == ["My optimizers", "Two"]
    assert uids(loaded)["one-3"] == "My optimizers"
    assert decks.get("My optimizers").description == "Optimizers, v2."


def test_renaming_twice_and_back_follows_the_deck(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    decks = DeckService(loaded, clock, bundled_dir=release)
    decks.rename("One", "A")
    decks.rename("A", "B")
    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert uids(loaded)["one-3"] == "B"

    decks.rename("B", "One")
    decks.create("B")  # a deck of the learner's own, which takes nothing bundled
    v3 = {**V2, "One": ({**V2["One"][0], "one-4": ("Q4", "A4")}, "Optimizers, v3.")}
    write_release(release, V1, V2, v3)
    update(loaded, release, clock)
    assert uids(loaded)["one-4"] == "One"
    assert uids(loaded, "B") == {}


def test_deleting_a_renamed_bundled_deck_deletes_the_bundled_deck(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    decks = DeckService(loaded, clock, bundled_dir=release)
    decks.rename("One", "Mine")
    decks.delete("Mine")
    write_release(release, V1, V2)
    update(loaded, release, clock)
    assert [d.name for d in decks.list()] == ["Two"]


def test_the_learners_own_cards_and_decks_are_not_recorded(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    cards = CardService(loaded, clock, bundled_dir=release)
    mine = cards.add("Mine", "my question", "my answer")
    cards.delete([mine.uid])
    decks = DeckService(loaded, clock, bundled_dir=release)
    decks.rename("Mine", "Still mine")
    decks.delete("Still mine")
    assert not _recorded(loaded)


def test_the_question_before_deleting_speaks_of_the_bundled_deck_only_for_its_cards(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    from studyapp.tui.deleting import question

    cards = CardService(loaded, clock, bundled_dir=release)
    mine = cards.add("Mine", "my question", "my answer")
    shipped = next(c for c in cards.search("") if c.uid == "one-1")
    for chosen, bundled in (([mine], False), ([shipped], True), ([mine, shipped], True)):
        assert cards.any_bundled([c.uid for c in chosen]) is bundled
        _, body = question(chosen, cards.any_bundled([c.uid for c in chosen]))
        assert ("stays deleted" in body) is bundled
        assert "backed up first" in body


def test_a_deleted_bundled_card_imported_again_takes_the_corrections_again(
    loaded: Store, release: Path, clock: FakeClock, tmp_path: Path
) -> None:
    CardService(loaded, clock, bundled_dir=release).delete(["two-1"])
    (tmp_path / "back.md").write_text(deck_text("Two", TWO, "About dropout."), encoding="utf-8")
    LibraryService(loaded, clock).import_files([tmp_path / "back.md"])
    fixed = {"Two": ({"two-1": ("What is dropout?", "Units dropped at random.")}, "x")}
    write_release(release, V1, {**V1, **fixed})
    update(loaded, release, clock)
    assert CardService(loaded).search(deck="Two")[0].back == "Units dropped at random."


def test_a_json_backup_carries_what_was_deleted_and_renamed(
    loaded: Store, release: Path, clock: FakeClock, tmp_path: Path
) -> None:
    CardService(loaded, clock, bundled_dir=release).delete(["one-1"])
    decks = DeckService(loaded, clock, bundled_dir=release)
    decks.delete("Two")
    decks.rename("One", "Renamed")
    backup = tmp_path / "backup.json"
    backup.write_bytes(LibraryService(loaded, clock).export("json"))

    restored = open_store(str(tmp_path / "restored.db"))
    LibraryService(restored, clock).import_files([backup])
    assert _recorded(restored) == BundledChanges(
        frozenset({"one-1", "two-1"}), frozenset({"Two"}), {"One": "Renamed"}
    )
    assert LibraryService(restored, clock).export("json") == backup.read_bytes()
    write_release(release, V1, V2)
    update(restored, release, clock)
    assert sorted(uids(restored).items()) == [("one-2", "Renamed"), ("one-3", "Renamed")]


def test_a_backup_imported_into_a_collection_that_holds_the_cards_deletes_nothing(
    loaded: Store, release: Path, clock: FakeClock, tmp_path: Path
) -> None:
    other = open_store(str(tmp_path / "other.db"))
    update(other, release, clock)
    CardService(other, clock, bundled_dir=release).delete(["one-1"])
    backup = tmp_path / "backup.json"
    backup.write_bytes(LibraryService(other, clock).export("json"))

    LibraryService(loaded, clock).import_files([backup])
    assert "one-1" in uids(loaded)
    assert not _recorded(loaded).deleted_cards


def _recorded(store: Store) -> BundledChanges:
    from studyapp.db import bundled_changes

    with store.read() as session:
        return bundled_changes.read(session)


def test_a_restored_backup_brings_back_what_the_learner_had_deleted_and_renamed(
    loaded: Store, db: str, release: Path, clock: FakeClock, tmp_path: Path
) -> None:
    CardService(loaded, clock, bundled_dir=release).delete(["one-1"])
    DeckService(loaded, clock, bundled_dir=release).rename("Two", "Dropout")
    backups = BackupService(loaded)
    made = backups.backup(tmp_path)
    CardService(loaded, clock, bundled_dir=release).delete(["one-2"])  # after the backup

    backups.restore(made)
    restored = open_store(db)  # a store open before a restore stops: it names other cards
    write_release(release, V1, V2)
    update(restored, release, clock)
    # one-1 stays deleted and Two keeps its new name; one-2, deleted after the backup, is back.
    assert uids(restored) == {
        "one-2": "One",
        "one-3": "One",
        "two-1": "Dropout",
        "two-2": "Dropout",
    }


def test_deleting_a_card_or_a_deck_backs_the_collection_up_first(
    loaded: Store, release: Path, clock: FakeClock
) -> None:
    deleted = CardService(loaded, clock, bundled_dir=release).delete(["one-1"])
    assert deleted.backup is not None and deleted.backup.exists()
    gone = DeckService(loaded, clock, bundled_dir=release).delete("Two")
    assert gone.backup is not None and gone.backup.exists()
    if loaded.path is None:  # a server's backup is its JSON backup, the card still in it
        cards = [
            c["id"] for d in json.loads(deleted.backup.read_text())["decks"] for c in d["cards"]
        ]
        assert "one-1" in cards
