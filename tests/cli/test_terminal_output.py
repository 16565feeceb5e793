"""The command line never sends a control character from a file to the terminal raw.

Reports for a person (`decks`, `stats`, the import summary, error lines) show every control
character as `\\x1b` wherever they go. Data for a program keeps the exact text: `--json` as
JSON escapes (read back, the same value), `export --output -` byte for byte to a pipe or a
file, and visibly only when standard output is a terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from studyapp.cli import main, output
from studyapp.cli.output import print_table, say_wrapped
from studyapp.db import open_store
from studyapp.services.cards import CardService
from studyapp.terminal import cell_width, fit

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x1b\\"
WIPE = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"
C1_CSI = "\x9b2J"
HOSTILE = CLIPBOARD + WIPE + TITLE + C1_CSI
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SHOWN = "\\x1b]52;c;cHduZWQ=\\x1b\\\\x1b[2J\\x1b]0;pwned\\x07\\x9b2J"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile_cards(db_path: Path) -> Path:
    store = open_store(str(db_path))
    CardService(store).add("Deck", f"Front {HOSTILE}", f"Back {C1_CSI}\tend")
    store.dispose()
    return db_path


@pytest.fixture
def hostile_db(hostile_cards: Path, db_path: Path) -> Path:
    # A deck name the app refuses today, as a collection from an older version can hold.
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE decks SET name = ?", (f"Deck {HOSTILE}",))
    raw.close()
    return db_path


def test_decks_and_stats_show_a_hostile_deck_name_visibly(hostile_db, capsys):
    code, out, err = run(capsys, "decks", "--db", str(hostile_db))
    assert code == 0, err
    assert not CONTROL.search(out)
    assert f"Deck {SHOWN}" in out
    code, out, err = run(capsys, "stats", "--db", str(hostile_db), "--deck", f"Deck {HOSTILE}")
    assert code == 0, err
    assert not CONTROL.search(out)
    assert "Statistics for deck" in out


def test_decks_json_keeps_the_exact_name(hostile_db, capsys):
    code, out, _ = run(capsys, "decks", "--db", str(hostile_db), "--json")
    assert code == 0 and not CONTROL.search(out)
    assert json.loads(out)[0]["name"] == f"Deck {HOSTILE}"


def test_import_summary_and_its_json_show_file_text_safely(db_path, tmp_path, capsys):
    # Two files, so the report names each; one of them has a hostile name, and its second
    # card repeats the first, so the report quotes that name.
    source = tmp_path / f"deck{WIPE}{C1_CSI}.csv"
    source.write_text("front,back\nq,a\nq,a\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("front,back\nx,y\n", encoding="utf-8")
    both = [str(source), str(other), "--deck", "Mine", "--db", str(db_path)]
    code, out, err = run(capsys, "import", *both, "--dry-run")
    assert code == 0, err
    assert not CONTROL.search(out)
    assert "deck\\x1b[2J\\x9b2J.csv, line 3: same card as" in out
    code, out, err = run(capsys, "import", *both, "--json")
    assert code == 0, err
    assert not CONTROL.search(out)  # C1 too, which JSON itself leaves raw
    assert json.loads(out)["skipped"][0]["where"].startswith(str(source))


def test_an_error_quoting_a_file_name_is_one_visible_line(db_path, tmp_path, capsys):
    missing = tmp_path / f"deck{WIPE}\nmore.csv"
    code, out, err = run(capsys, "import", str(missing), "--db", str(db_path))
    assert code == 2
    assert not CONTROL.search(err)
    assert err.count("\n") == 1
    assert "deck\\x1b[2J\\nmore.csv" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["deck", "X\udcff"],
        ["cards", "deck:X\udcff"],
        ["delete", "X\udcff"],
        ["export", "--deck", "X\udcff", "--format", "csv", "--output", "-"],
        ["scheduler", "evaluate", "--deck", "X\udcff"],
        ["add", "--deck", "D", "--front", "\udc9b[2J", "--back", "b"],
    ],
)
def test_text_arguments_that_are_not_utf8_are_one_line_and_change_nothing(
    db_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A byte that is not UTF-8 reaches Python as a lone surrogate (`$'X\\xff'` in a shell),
    which no deck name, query or card text can hold."""
    assert (
        run(capsys, "add", "--deck", "D", "--front", "q", "--back", "a", "--db", str(db_path))[0]
        == 0
    )
    before = db_path.read_bytes()
    code, out, err = run(capsys, *argv, "--db", str(db_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "is not UTF-8 text" in err
    assert "\\xff" in err or "\\x9b" in err  # the byte, shown as the shell was given it
    assert db_path.read_bytes() == before


def _export(db: Path, fmt: str, *, terminal: bool) -> bytes:
    """`studyapp export --output -` with standard output on a terminal or on a pipe."""
    argv = [sys.executable, "-m", "studyapp", "export", "--db", str(db), "--format", fmt]
    argv += ["--output", "-"]
    if not terminal:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=True)
        return done.stdout
    leader, follower = pty.openpty()
    try:
        child = subprocess.Popen(argv, stdout=follower, stderr=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the child is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=60) == 0
    finally:
        os.close(leader)
    return b"".join(chunks).replace(b"\r\n", b"\n")


@pytest.mark.parametrize("fmt", ["md", "csv", "tsv", "json"])
def test_export_to_a_terminal_is_visible_and_to_a_pipe_is_exact(hostile_cards, fmt):
    piped = _export(hostile_cards, fmt, terminal=False).decode()
    if fmt != "json":
        assert HOSTILE in piped  # the exact text, as a file would hold it
    on_terminal = _export(hostile_cards, fmt, terminal=True).decode()
    assert not CONTROL.search(on_terminal.replace("\t", "").replace("\n", ""))
    assert "\\x9b2J" in on_terminal
    assert "\tend" in on_terminal or fmt in ("csv", "json")


WIDE_COLUMNS = ["optimizer", "lr", "final loss", "train accuracy", "largest weight change"]
WIDE_ROWS = [["plain SGD", "1", "0.301", 0.807, "2.04"], ["SGD with momentum", "1", None, 1, "5"]]


def test_a_table_wider_than_the_terminal_wraps_its_headers_not_its_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(WIDE_COLUMNS, WIDE_ROWS, width=60)
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 60
    assert lines[-2].split() == ["plain", "SGD", "1", "0.301", "0.807", "2.04"]
    assert lines[-1].split() == ["SGD", "with", "momentum", "1", "-", "1", "5"]
    rule = lines.index(next(line for line in lines if line.startswith("---")))
    header = " ".join(" ".join(lines[:rule]).split())  # every header word, above the rule
    assert sorted(header.split()) == sorted(" ".join(WIDE_COLUMNS).split())
    assert lines[rule - 1].split()[-1] == "change"  # each header ends on the rule's line


def test_a_table_that_fits_or_is_piped_keeps_one_header_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for width in (None, 200):
        print_table(WIDE_COLUMNS, WIDE_ROWS, width=width)
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == " ".join(WIDE_COLUMNS).split() and len(lines) == 4


def test_a_table_aligns_names_in_wide_characters_by_the_cells_they_take(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A CJK character or an emoji takes two cells on a terminal, a combining accent none."""
    rows = [["Optimizers", 20], ["日本語のデッキ", 3], ["Emoji 😀", 1], ["Cafe\u0301", 7]]
    print_table(["Deck", "New"], rows)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "--------------  ---"  # the widest name: 7 wide characters, 14 cells
    for line, (_, new) in zip(lines[2:], rows, strict=True):
        assert line.endswith(f"  {new:>3}")
        assert cell_width(line) == len(lines[1])


def test_a_long_front_is_cut_to_the_cells_it_may_take() -> None:
    assert fit("深層学習の最適化", 9) == "深層学習…" and cell_width("深層学習…") == 9
    assert fit("深層学習の最適化", 8) == "深層学…"  # a wide character is never cut in half
    assert fit("short", 9) == "short" and fit("e\u0301" * 9, 9) == "e\u0301" * 9


def test_prose_wraps_at_words_on_a_terminal_and_stays_one_line_piped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = "Adam reaches loss 0.3 first (Adam step 47, momentum step 70) \x1b[2J"
    shown = claim.replace("\x1b", "\\x1b")  # a control is shown, never sent
    say_wrapped(claim, "  ✓ ", "    ")  # piped (pytest's capture is no terminal)
    assert capsys.readouterr().out == f"  ✓ {shown}\n"
    monkeypatch.setattr(output, "_screen_width", lambda: 41)
    say_wrapped(claim, "  ✓ ", "    ")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 40
    assert lines[0].startswith("  ✓ Adam") and all(line.startswith("    ") for line in lines[1:])
    assert " ".join(" ".join(lines).split()) == f"✓ {shown}"


NOT_UTF8 = "\udcff\udc9b2J"  # the bytes 0xFF 0x9B (CSI), as a file name that is not UTF-8


def test_a_path_that_is_not_utf8_or_holds_a_newline_stays_on_its_report_line(
    hostile_cards, tmp_path, capsys
):
    """A name's bytes that are not UTF-8 would go back out raw on a C-locale stdout (0x9B is
    CSI), and a newline would start a line of its own that could pass for the report's."""
    for name, shown in [
        (f"out{NOT_UTF8}.csv", "out\\xff\\x9b2J.csv"),
        ("x\nImported 999 cards.csv", "x\\nImported 999 cards.csv"),
    ]:
        target = tmp_path / name
        code, out, _ = run(
            capsys, "export", "--format", "csv", "--output", str(target), "--db", str(hostile_cards)
        )
        assert code == 0 and target.is_file()
        assert out == f"Wrote {tmp_path}/{shown}\n"
    code, out, _ = run(
        capsys,
        "backup",
        "--output",
        str(tmp_path / f"b{NOT_UTF8}\n.db"),
        "--db",
        str(hostile_cards),
    )
    assert code == 0 and out.count("\n") == 1 and "b\\xff\\x9b2J\\n.db" in out
    assert not re.search("[\ud800-\udfff]", out)


def test_a_file_named_with_bytes_that_are_not_utf8_is_one_line_naming_the_deck_rule(
    db_path, tmp_path, capsys
):
    source = tmp_path / f"deck{NOT_UTF8}.csv"
    source.write_text("front,back\nq,a\n", encoding="utf-8")
    code, out, err = run(capsys, "import", str(source), "--db", str(db_path))
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "the file's name is the deck's name when none is given" in err
    assert "deck\\xff\\x9b2J.csv" in err
    code, out, _ = run(capsys, "import", str(source), "--deck", "Named", "--db", str(db_path))
    assert code == 0 and "1 added" in out


def test_json_output_escapes_what_a_path_holds_that_is_not_utf8() -> None:
    from studyapp.terminal import json_text

    text = json_text({"path": f"a{NOT_UTF8}"}, ensure_ascii=False)
    assert text == '{"path": "a\\udcff\\udc9b2J"}'
    assert json.loads(text) == {"path": f"a{NOT_UTF8}"}


def test_a_file_named_oddly_whose_cards_name_their_decks_imports(db_path, tmp_path, capsys):
    """The file's name is a deck's only for cards that name none: a file whose cards name
    their decks imports whatever the file is called."""
    source = tmp_path / f"sheet{NOT_UTF8}\x1b.csv"
    source.write_text("front,back,deck\nq,a,Mine\n", encoding="utf-8")
    code, out, _ = run(capsys, "import", str(source), "--db", str(db_path))
    assert code == 0 and out.startswith("Imported csv into Mine: 1 added")
