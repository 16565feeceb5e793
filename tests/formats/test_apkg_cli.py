"""`studyapp import x.apkg` and `export --format apkg` as a user runs them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from studyapp.cli import main
from studyapp.db import open_store
from studyapp.formats.anki_html import html_to_text
from studyapp.services.cards import CardService
from tests.formats.anki_fixtures import (
    AnkiPackages,
    anki_packages,
    deflate_bomb,
    zip_bytes,
    zstd_bomb,
)

pytest.importorskip("anki")

TRICKY = [
    ("w[i] <- w[i] - lr", "[bold] is not bold, [/] closes nothing"),
    ("What is <tag>?", "  indented\n- bullet\n\nlast & line"),
]


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> AnkiPackages:
    return anki_packages(tmp_path_factory)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def import_json(capsys: pytest.CaptureFixture[str], db: Path, *paths: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "import", *map(str, paths), "--db", str(db), "--json")
    assert code == 0, err
    return json.loads(out)


def backup_json(capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, Any]:
    code, out, err = run(capsys, "export", "--format", "json", "--output", "-", "--db", str(db))
    assert code == 0, err
    return json.loads(out)


def test_import_reports_cards_and_skips_and_a_second_import_changes_nothing(
    packages: AnkiPackages, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = import_json(capsys, db_path, packages.current)
    assert first["format"] == "apkg"
    assert (first["added"], first["updated"], first["unchanged"]) == (17, 0, 0)
    assert [s["reason"] for s in first["skipped"]] == [
        "its front is empty in note type 'Basic'",
        "its cloze deletion c2 is not in the note",
    ]
    before = backup_json(capsys, db_path)

    again = import_json(capsys, db_path, packages.current)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 17)
    legacy = import_json(capsys, db_path, packages.legacy)
    assert (legacy["added"], legacy["updated"], legacy["unchanged"]) == (0, 0, 17)
    assert backup_json(capsys, db_path) == before

    decks = {deck["name"]: deck["cards"] for deck in before["decks"]}
    assert set(decks) == {
        "Deep Learning",
        "Deep Learning::Optimizers",
        "Deep Learning::Activations",
    }
    fronts = {card["front"] for cards in decks.values() for card in cards}
    assert "[...] zeroes activations during training" in fronts


def test_exported_package_imports_into_anki_with_every_card(
    packages: AnkiPackages, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = CardService(open_store(str(db_path)))
    for front, back in TRICKY:
        cards.add("Tricky::Text", front, back, tags=("fundamentals",))
    import_json(capsys, db_path, packages.genanki)
    out = tmp_path / "out.apkg"
    code, _, err = run(
        capsys, "export", "--format", "apkg", "--output", str(out), "--db", str(db_path)
    )
    assert code == 0, err

    collection = pytest.importorskip("anki.collection")
    (tmp_path / "anki").mkdir()
    col = collection.Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        col.import_anki_package(collection.ImportAnkiPackageRequest(package_path=str(out)))
        shown = set()
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            front = html_to_text(card.question())
            shown.add(
                (col.decks.name(card.did), front, html_to_text(card.answer())[len(front) + 1 :])
            )
    finally:
        col.close()
    expected = {("Tricky::Text", front, back) for front, back in TRICKY} | {
        ("Scripted::CNN", "What does a 3×3 conv see?", "A 3×3 patch\nof every channel"),
        ("Scripted::CNN", "Pooling [...] the feature map", "Pooling shrinks the feature map"),
        ("Scripted::CNN", "Pooling shrinks the [...]", "Pooling shrinks the feature map"),
    }
    assert shown == expected

    # And our own import of our export gives the same cards back, verbatim.
    other = tmp_path / "other.db"
    import_json(capsys, other, out)
    original = {
        (d["name"], c["front"], c["back"], tuple(c["tags"]))
        for d in backup_json(capsys, db_path)["decks"]
        for c in d["cards"]
    }
    returned = {
        (d["name"], c["front"], c["back"], tuple(c["tags"]))
        for d in backup_json(capsys, other)["decks"]
        for c in d["cards"]
    }
    assert returned == original


def hostile_files(folder: Path) -> dict[str, Path]:
    files = {
        "random.apkg": os.urandom(3000),
        "fake.apkg": b"PK\x03\x04" + b"junk" * 50,
        "traversal.apkg": zip_bytes({"collection.anki2": b"x", "../../evil.txt": b"x"}),
        "photos.zip": zip_bytes({"readme.txt": b"hi"}),
        "zstd-bomb.apkg": zstd_bomb(64),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    paths["bomb.apkg"] = deflate_bomb(folder / "bomb.apkg", 64)
    return paths


def test_hostile_packages_exit_2_with_one_line_and_change_nothing(
    packages: AnkiPackages, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_json(capsys, db_path, packages.genanki)
    before = backup_json(capsys, db_path)
    for name, path in hostile_files(tmp_path).items():
        code, out, err = run(capsys, "import", str(path), "--format", "apkg", "--db", str(db_path))
        assert code == 2, name
        assert out == ""
        assert err.count("\n") == 1 and name in err, err
        assert "Traceback" not in err
    # A good file with a bad one: all or nothing.
    code, _, _ = run(
        capsys, "import", str(packages.current), str(tmp_path / "fake.apkg"), "--db", str(db_path)
    )
    assert code == 2
    assert backup_json(capsys, db_path) == before
    assert not (tmp_path.parent / "evil.txt").exists()
