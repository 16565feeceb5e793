"""Corrections to the bundled deck reach a collection that already holds it.

A learner who started with an older release has the old cards, with months of reviews on
them. On `init` (and the app's first start after an upgrade) every card they have not edited
takes the corrected content and keeps its schedule and history; every card they edited stays
exactly as they wrote it and is reported; a merged duplicate hands its history to the card
kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from studyapp.cli.tui import bring_bundled_deck_up_to_date
from studyapp.db import Store
from studyapp.db.models import CardRow, CollectionInfo, ReviewRow
from studyapp.formats import get_format
from studyapp.model import LEECH_TAG
from studyapp.services import bundled_files
from studyapp.services.bundled import HISTORY_FILE, BundledHistory, row_fingerprint
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from studyapp.services.study import StudySession
from tests.services.conftest import FakeClock

ROOT = Path(__file__).resolve().parents[2]

HEAD = """# {name}

{description}

"""
CARD = """## {uid}
tags: {tags}
source: notes.txt card {n}

{front}

---

{back}

"""

V1 = {
    "a-1": ("What does dropout do at test time?", "Nodes less than p get set to 0."),
    "a-2": ("Accuracy", "TP + TN / (TP + TN + FP + FN)"),
    "a-3": ("What is SGD?", "Gradient descent on minibatches."),
    "a-4": ("What is momentum?", "An average of past gradients."),
}
V2 = {
    "a-1": (
        "What does dropout do at test time?",
        "Nothing: every unit is kept; inverted dropout scaled the kept units by 1/(1-p) in "
        "training.",
    ),
    "a-2": ("Accuracy", "(TP + TN) / (TP + TN + FP + FN)"),
    "a-3": ("What is SGD?", "Gradient descent on minibatches."),
    # a-4 is merged into a-3 in V2.
}


def deck_text(cards: dict[str, tuple[str, str]], description: str = "About dropout.") -> str:
    text = HEAD.format(name="One", description=description)
    for n, (uid, (front, back)) in enumerate(cards.items(), start=1):
        text += CARD.format(uid=uid, tags="regularization", n=n, front=front, back=back)
    return text


def write_release(
    folder: Path,
    versions: list[dict[str, tuple[str, str]]],
    merged: dict[str, str] | None = None,
    descriptions: list[str] | None = None,
) -> None:
    """A bundled folder holding the last of `versions`, with a history of all of them."""
    descriptions = descriptions or ["About dropout."] * len(versions)
    folder.mkdir(parents=True, exist_ok=True)
    native = get_format("md")
    assert native.parse is not None
    results = []
    for i, (cards, description) in enumerate(zip(versions, descriptions, strict=True)):
        path = folder / f"v{i}.tmp"
        path.write_text(deck_text(cards, description), encoding="utf-8")
        results.append(native.parse(path))
        path.unlink()
    (folder / "one.md").write_text(deck_text(versions[-1], descriptions[-1]), encoding="utf-8")
    history = BundledHistory.of(results, merged or {})
    (folder / HISTORY_FILE).write_text(history.to_json(), encoding="utf-8")


def card(store: Store, uid: str) -> CardRow | None:
    with store.read() as session:
        row = session.scalar(select(CardRow).where(CardRow.uid == uid))
        if row is not None:
            session.expunge(row)
        return row


def reviews_of(store: Store, uid: str) -> list[tuple[int, str]]:
    with store.read() as session:
        rows = session.execute(
            select(ReviewRow.rating, ReviewRow.kind)
            .join(CardRow, CardRow.id == ReviewRow.card_id)
            .where(CardRow.uid == uid)
            .order_by(ReviewRow.at)
        )
        return [tuple(r) for r in rows]


def rate(store: Store, clock: FakeClock, uid: str, rating: int) -> None:
    """Rate the card `uid` through a study session, as the review screen does (the cards
    before it in the queue are buried for the moment, then brought back untouched)."""
    session = StudySession(store, "One", clock)
    passed = []
    while session.current is not None and session.current.uid != uid:
        passed.append(session.bury().id)
    assert session.current is not None, f"{uid} is not in today's queue"
    session.answer(rating)
    with store.write() as db:
        db.execute(update(CardRow).where(CardRow.id.in_(passed)).values(buried_until=None))


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return tmp_path / "cards"


def library(store: Store, folder: Path, clock: FakeClock) -> LibraryService:
    return LibraryService(store, clock, bundled_dir=folder)


def test_a_corrected_card_takes_the_new_words_and_keeps_its_schedule_and_history(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    assert library(store, release, clock).load_bundled().added == 4
    rate(store, clock, "a-1", 4)
    rate(store, clock, "a-2", 2)
    before = card(store, "a-1")
    assert before is not None and before.repetitions == 1

    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    clock.advance(days=1)
    update = library(store, release, clock).load_bundled()

    assert sorted(update.updated) == ["a-1", "a-2"]
    after = card(store, "a-1")
    assert after is not None and after.back == V2["a-1"][1]
    assert (after.ease_cents, after.interval, after.repetitions, after.due) == (
        before.ease_cents,
        before.interval,
        before.repetitions,
        before.due,
    )
    assert after.id == before.id
    assert reviews_of(store, "a-1") == [(4, "new")]
    assert card(store, "a-2").back == "(TP + TN) / (TP + TN + FP + FN)"  # type: ignore[union-attr]
    assert len(reviews_of(store, "a-2")) >= 1


def test_running_the_update_again_changes_nothing(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    first = library(store, release, clock).load_bundled()
    assert first.changed
    again = library(store, release, clock).load_bundled()
    assert not again.changed and again.added == 0 and not again.edited


def test_a_card_the_learner_edited_is_left_as_they_wrote_it_and_reported(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    mine = card(store, "a-2")
    assert mine is not None
    CardService(store, clock).update(mine.id, back="(TP+TN)/all four, my words")

    write_release(release, [V1, V2])
    update = library(store, release, clock).load_bundled()

    assert update.edited == ["a-2"]
    assert "a-2" not in update.updated
    assert card(store, "a-2").back == "(TP+TN)/all four, my words"  # type: ignore[union-attr]
    assert "1 card you edited was left as you wrote it (a-2)" in update.summary()


def test_the_leech_tag_the_scheduler_added_is_not_an_edit_and_survives_the_update(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    leech = card(store, "a-1")
    assert leech is not None
    CardService(store, clock).update(leech.id, tags=["regularization", LEECH_TAG])

    write_release(release, [V1, V2])
    update = library(store, release, clock).load_bundled()

    assert "a-1" in update.updated and not update.edited
    after = card(store, "a-1")
    assert after is not None and after.back == V2["a-1"][1]
    assert after.tags.split() == ["regularization", LEECH_TAG]


def test_a_merged_duplicate_hands_its_history_and_schedule_to_the_card_kept(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    rate(store, clock, "a-3", 5)
    clock.advance(days=1)
    rate(store, clock, "a-4", 3)  # the duplicate was studied later
    removed = card(store, "a-4")
    assert removed is not None

    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    update = library(store, release, clock).load_bundled()

    assert update.merged == [("a-4", "a-3")]
    assert card(store, "a-4") is None
    kept = card(store, "a-3")
    assert kept is not None
    assert reviews_of(store, "a-3") == [(5, "new"), (3, "new")]
    assert (kept.ease_cents, kept.interval, kept.repetitions, kept.due) == (
        removed.ease_cents,
        removed.interval,
        removed.repetitions,
        removed.due,
    )


def test_a_merged_duplicate_studied_earlier_leaves_the_kept_schedule(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    rate(store, clock, "a-4", 3)
    clock.advance(days=1)
    rate(store, clock, "a-3", 5)
    kept_before = card(store, "a-3")

    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    library(store, release, clock).load_bundled()

    kept = card(store, "a-3")
    assert kept is not None and kept_before is not None
    assert (kept.interval, kept.due) == (kept_before.interval, kept_before.due)
    assert sorted(reviews_of(store, "a-3")) == [(3, "new"), (5, "new")]


def test_an_edited_duplicate_is_not_merged_away(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    dup = card(store, "a-4")
    assert dup is not None
    CardService(store, clock).update(dup.id, back="momentum, in my own words")

    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    update = library(store, release, clock).load_bundled()

    assert update.merged == [] and "a-4" in update.edited
    assert card(store, "a-4").back == "momentum, in my own words"  # type: ignore[union-attr]


def test_a_duplicate_whose_kept_card_is_missing_takes_the_kept_id(
    store: Store, release: Path, clock: FakeClock
) -> None:
    only_dup = {"a-4": V1["a-4"]}
    write_release(release, [only_dup])
    library(store, release, clock).load_bundled()
    rate(store, clock, "a-4", 4)
    old = card(store, "a-4")
    assert old is not None

    write_release(release, [only_dup, V2], merged={"a-4": "a-3"})
    update = library(store, release, clock).load_bundled()

    kept = card(store, "a-3")
    assert card(store, "a-4") is None and kept is not None
    assert kept.front == V2["a-3"][0]
    assert (kept.repetitions, kept.interval, kept.due) == (old.repetitions, old.interval, old.due)
    assert update.merged == [("a-4", "a-3")]
    assert reviews_of(store, "a-3") == [(4, "new")]


def test_a_duplicate_with_the_kept_cards_words_in_its_deck_takes_the_kept_id(
    store: Store, release: Path, clock: FakeClock
) -> None:
    # The collection holds only the duplicate, word for word what the kept card says: it
    # becomes the kept card (same row, same history), not a second copy.
    write_release(release, [{"a-4": V2["a-3"]}])
    library(store, release, clock).load_bundled()
    rate(store, clock, "a-4", 4)
    old = card(store, "a-4")
    assert old is not None

    write_release(release, [{"a-4": V2["a-3"]}, {"a-3": V2["a-3"]}], merged={"a-4": "a-3"})
    update = library(store, release, clock).load_bundled()

    kept = card(store, "a-3")
    assert kept is not None and kept.id == old.id and card(store, "a-4") is None
    assert update.merged == [("a-4", "a-3")] and not update.edited
    assert reviews_of(store, "a-3") == [(4, "new")]
    assert kept.source == "notes.txt card 1"


def test_an_unedited_deck_description_is_updated_and_an_edited_one_kept(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    write_release(release, [V1, V1], descriptions=["About dropout.", "About dropout, fixed."])
    update = library(store, release, clock).load_bundled()
    assert update.decks_updated == ["One"]


@pytest.mark.sqlite_only  # a server's collection is backed up with the server's own tools
def test_an_update_that_changes_cards_is_backed_up_first(
    store: Store, release: Path, clock: FakeClock
) -> None:
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    assert store.path is not None
    backups = store.path.parent / "backups"
    before = set(backups.glob("*")) if backups.exists() else set()
    write_release(release, [V1, V2])
    library(store, release, clock).load_bundled()
    made = {p.name for p in set(backups.glob("*.db")) - before}
    assert any("bundled" in name for name in made)


def test_the_first_start_after_an_upgrade_updates_once_and_says_so(
    store: Store, release: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundled_files, "BUNDLED_DIR", release)
    write_release(release, [V1])
    assert bring_bundled_deck_up_to_date(store) is None  # the first start: just the deck
    assert card(store, "a-1") is not None
    assert bring_bundled_deck_up_to_date(store) is None  # nothing new

    write_release(release, [V1, V2], merged={"a-4": "a-3"})
    news = bring_bundled_deck_up_to_date(store)
    assert news is not None and "2 cards updated" in news and "1 duplicate" in news
    assert card(store, "a-2").back == V2["a-2"][1]  # type: ignore[union-attr]
    assert bring_bundled_deck_up_to_date(store) is None


def test_a_collection_made_by_an_older_release_is_brought_up_to_date_on_start(
    store: Store, release: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Older releases recorded that the bundled deck was loaded, but no revision.
    monkeypatch.setattr(bundled_files, "BUNDLED_DIR", release)
    write_release(release, [V1])
    library(store, release, clock).load_bundled()
    with store.write() as session:
        session.delete(session.get(CollectionInfo, bundled_files.REVISION_KEY))
    write_release(release, [V1, V2])
    assert "updated" in (bring_bundled_deck_up_to_date(store) or "")


def test_a_collection_that_never_took_the_bundled_deck_is_left_alone_on_start(
    store: Store, release: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundled_files, "BUNDLED_DIR", release)
    write_release(release, [V1, V2])
    CardService(store, clock).add("Mine", "my front", "my back")
    assert bring_bundled_deck_up_to_date(store) is None
    assert card(store, "a-1") is None


# --- the shipped deck ------------------------------------------------------------------------


def test_every_bundled_card_and_deck_is_in_the_shipped_history() -> None:
    """Editing cards/ without running scripts/bundled_history.py would ship corrections that
    never reach anyone (or, worse, treat the next release's cards as the learner's edits)."""
    folder = ROOT / "cards"
    history = BundledHistory.read(folder)
    native = get_format("md")
    assert native.parse is not None
    stale = []
    for path in bundled_files.deck_files(folder):
        result = native.parse(path)
        assert result.deck_name is not None
        for draft in result.cards:
            from studyapp.services.bundled import draft_fingerprint, repo_uid

            if draft_fingerprint(draft) not in history.cards.get(repo_uid(draft), ()):
                stale.append(repo_uid(draft))
    assert not stale, f"run scripts/bundled_history.py: {stale[:10]}"


def test_the_shipped_merges_are_the_readme_table_and_name_real_cards() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bundled_history", ROOT / "scripts" / "bundled_history.py"
    )
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = (ROOT / "cards" / "README.md").read_text(encoding="utf-8")
    history = BundledHistory.read(ROOT / "cards")
    assert dict(history.merged) == script.merges(readme)
    for removed, kept in history.merged.items():
        assert removed in history.cards, f"{removed} was never shipped"
        assert kept in history.cards


def test_the_history_ships_with_the_bundled_deck() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"cards/history.json"' in pyproject


def test_an_old_releases_collection_matches_its_shipped_fingerprints(
    store: Store, release: Path, clock: FakeClock
) -> None:
    """What the importer stores for a bundled card has the fingerprint its file gives."""
    shutil.copytree(ROOT / "cards", release)
    library(store, release, clock).load_bundled()
    history = BundledHistory.read(release)
    with store.read() as session:
        rows = list(session.scalars(select(CardRow)))
    assert rows and all(row_fingerprint(r) in history.cards[r.uid] for r in rows)
    assert json.loads((release / HISTORY_FILE).read_text())["format"] == 1
