"""The cards `studyapp cards --json` prints import again, with their state and history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.hardening.conftest import make_collection, one_line, run_cli


def test_the_printed_cards_import_into_a_new_collection_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    make_collection(source, {"Optimizers": 3, "Activations::ReLU": 2})
    assert (
        run_cli(
            capsys,
            "--db",
            source,
            "add",
            "--deck",
            "Extra",
            "--front",
            "q",
            "--back",
            "a",
            "--tags",
            "x,y::z",
        )[0]
        == 0
    )
    status, printed, _ = run_cli(capsys, "--db", source, "cards", "deck:Activations*", "--json")
    assert status == 0
    selection = tmp_path / "selection.json"
    selection.write_text(printed, encoding="utf-8")

    status, out, err = run_cli(capsys, "--db", target, "import", selection)
    assert (status, err) == (0, "")
    assert "2 added" in out
    assert run_cli(capsys, "--db", target, "cards", "--json")[1] == printed
    status, out, _ = run_cli(capsys, "--db", target, "import", selection)
    assert "0 added, 0 updated, 2 unchanged" in out


def test_a_printed_card_without_its_deck_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps([{"id": "k-1", "front": "q", "back": "a"}]), encoding="utf-8")
    status, _, err = run_cli(capsys, "--db", tmp_path / "c.db", "import", cards)
    assert status == 2
    assert one_line(err) == f"studyapp: {cards}, entry 1: 'deck' is missing"
