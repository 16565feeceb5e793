"""`studyapp import`, `export` and `init` as a user and a script run them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.services import bundled_files
from tests.backends import holds_anything

DATA = Path(__file__).resolve().parents[2] / "data"
DECK = "# Tiny\n\n## t-1\ntags: x\n\nfront [bold]\n\n---\n\nw[i] <- w[i] - lr\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def seed(stem: str) -> str:
    return str(next(DATA.glob(f"{stem}_*.txt")))


@pytest.mark.parametrize(
    ("stem", "added", "skipped"),
    [("000", 21, 0), ("001", None, None), ("002", 37, 0), ("003", 103, 1), ("004", 24, 1)],
)
def test_import_json_report_and_a_second_run_changes_nothing(
    db: str,
    capsys: pytest.CaptureFixture[str],
    stem: str,
    added: int | None,
    skipped: int | None,
) -> None:
    code, out, err = run(capsys, "import", seed(stem), "--db", db, "--json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert set(report) == {
        "format", "deck", "added", "updated", "unchanged", "skipped", "warnings"
    }  # fmt: skip
    if added is not None:
        assert (report["added"], len(report["skipped"])) == (added, skipped)
    first = report["added"]
    code, out, _ = run(capsys, "import", seed(stem), "--db", db, "--json")
    again = json.loads(out)
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, first)


def test_human_report_and_dry_run(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "import", seed("003"), "--db", db, "--dry-run")
    assert code == 0
    assert "Would import brainscape into Quiz 2 - Optimization, CNN: 103 added" in out
    assert "skipped card 67: card has no question and no answer" in out
    assert "Dry run: nothing was written." in out
    assert not holds_anything(db)  # not even the collection it would have gone into


def export_json(capsys: pytest.CaptureFixture[str], db: str) -> str:
    code, out, _ = run(capsys, "export", "--format", "json", "--output", "-", "--db", db)
    assert code == 0
    return out


def hostile_files(folder: Path) -> dict[str, Path]:
    files = {
        "empty": folder / "empty.txt",
        "random bytes": folder / "noise.bin",
        "a folder": folder / "a-folder",
        "a missing path": folder / "missing.csv",
        "malformed JSON": folder / "bad.json",
        "an unclosed quote": folder / "open.csv",
        "an unknown encoding": folder / "latin.csv",
        "a huge file": folder / "huge.csv",
        "a broken deck file": folder / "broken.md",
    }
    files["empty"].write_bytes(b"")
    files["random bytes"].write_bytes(bytes((i * 131 + 7) % 256 for i in range(4096)))
    files["a folder"].mkdir()
    files["malformed JSON"].write_text('{"version": 1, "decks": [', encoding="utf-8")
    files["an unclosed quote"].write_text('front,back\nq,"never closed\n', encoding="utf-8")
    files["an unknown encoding"].write_bytes("front,back\ncafé,crème\n".encode("cp1252"))
    with files["a huge file"].open("wb") as handle:  # sparse: no 200 MB written to disk
        handle.write(b"front,back\n" + b"question,answer\n" * 8192)
        handle.truncate(200 * 1024 * 1024)
    files["a broken deck file"].write_text("# D\n\n## a\nwho: me\n\nq\n---\n", encoding="utf-8")
    return files


def test_hostile_files_exit_2_with_one_line_and_change_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = tmp_path / "tiny.md"
    deck.write_text(DECK, encoding="utf-8")
    assert run(capsys, "import", str(deck), "--db", db)[0] == 0
    before = export_json(capsys, db)
    for label, path in hostile_files(tmp_path).items():
        code, out, err = run(capsys, "import", str(path), "--db", db)
        assert code == 2, label
        assert out == "", label
        assert err.count("\n") == 1 and str(path) in err, (label, err)
        assert "Traceback" not in err
        assert export_json(capsys, db) == before, label


def test_hostile_messages_say_what_is_wrong(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = hostile_files(tmp_path)
    expected = {
        "empty": "the file is empty",
        "a folder": "is a folder",
        "a missing path": "no such file",
        "malformed JSON": "line 1: not valid JSON",
        "an unclosed quote": "line 2: a quoted field starts here and is never closed",
        "an unknown encoding": "line 2: not UTF-8 text (byte 0xe9",
        "a huge file": "files over 100 MB are not imported",
        "random bytes": "cannot tell what format this file is",
        "a broken deck file": "line 4: unknown key 'who'",
    }
    for label, fragment in expected.items():
        _, _, err = run(capsys, "import", str(files[label]), "--db", db)
        assert fragment in err, (label, err)


def test_export_to_stdout_file_and_folder(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", seed("000"), seed("002"), "--db", db)
    document = json.loads(export_json(capsys, db))
    assert [d["name"] for d in document["decks"]] == [
        "Class Thirteen",
        "Deep learning Interview Questions",
    ]
    folder = tmp_path / "out"
    folder.mkdir()
    code, out, _ = run(capsys, "export", "--format", "md", "--output", str(folder), "--db", db)
    assert code == 0
    assert sorted(os.listdir(folder)) == [
        "class-thirteen.md",
        "deep-learning-interview-questions.md",
    ]
    assert out.count("Wrote ") == 2
    code, _, err = run(capsys, "export", "--format", "md", "--output", "-", "--db", db)
    assert code == 2 and "--deck" in err
    code, _, err = run(capsys, "export", "--format", "apkg", "--output", "-", "--db", db)
    assert code == 2 and "not text" in err
    target = tmp_path / "deck.csv"
    code, _, _ = run(
        capsys, "export", "--format", "csv", "--deck", "Class Thirteen", "--output", str(target),
        "--db", db,
    )  # fmt: skip
    assert code == 0 and target.read_text(encoding="utf-8").startswith("front,back,tags,deck,id")
    code, _, err = run(
        capsys, "export", "--format", "csv", "--output", str(tmp_path / "no" / "x.csv"),
        "--db", db,
    )  # fmt: skip
    assert code == 2 and "does not exist" in err


def test_an_output_ending_in_a_slash_is_a_folder_made_if_needed(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output decks/` means a folder, as a shell user writes one: never a file named
    `decks`."""
    run(capsys, "import", seed("000"), seed("002"), "--db", db)
    code, out, _ = run(capsys, "export", "--format", "md", "--output", f"{tmp_path}/decks/",
                       "--db", db)  # fmt: skip
    assert code == 0 and out.count("Wrote ") == 2
    assert sorted(os.listdir(tmp_path / "decks")) == [
        "class-thirteen.md",
        "deep-learning-interview-questions.md",
    ]
    code, _, _ = run(capsys, "export", "--format", "json", "--output", f"{tmp_path}/all/",
                     "--db", db)  # fmt: skip
    assert code == 0 and os.listdir(tmp_path / "all") == ["collection.json"]
    code, _, _ = run(capsys, "backup", "--output", f"{tmp_path}/saved/", "--db", db)
    assert code == 0 and len(os.listdir(tmp_path / "saved")) == 1
    (tmp_path / "file").write_text("mine")
    code, _, err = run(capsys, "export", "--format", "csv", "--output", f"{tmp_path}/file/",
                       "--db", db)  # fmt: skip
    assert code == 2 and "is not a folder" in err and (tmp_path / "file").read_text() == "mine"
    code, _, err = run(capsys, "export", "--format", "csv", "--output", f"{tmp_path}/no/deeper/",
                       "--db", db)  # fmt: skip
    assert code == 2 and "does not exist" in err and not (tmp_path / "no").exists()


def test_an_exported_file_has_the_permissions_of_any_new_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "import", seed("000"), "--db", db)
    target = tmp_path / "deck.apkg"
    umask = os.umask(0o022)
    try:
        assert run(capsys, "export", "--format", "apkg", "--output", str(target),
                   "--db", db)[0] == 0  # fmt: skip
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)  # a file made private by its owner stays private
        assert run(capsys, "export", "--format", "apkg", "--output", str(target),
                   "--db", db)[0] == 0  # fmt: skip
        assert target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


def test_init_loads_the_bundled_deck_once(
    db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "tiny.md").write_text(DECK, encoding="utf-8")
    monkeypatch.setattr(bundled_files, "BUNDLED_DIR", folder)
    code, out, _ = run(capsys, "init", "--db", db)
    assert code == 0 and "1 decks, 1 cards (1 added from the bundled deck)" in out
    code, out, _ = run(capsys, "init", "--db", db)
    assert code == 0 and "1 decks, 1 cards (0 added from the bundled deck)" in out
    back = json.loads(export_json(capsys, db))["decks"][0]["cards"][0]
    assert (back["front"], back["back"]) == ("front [bold]", "w[i] <- w[i] - lr")
