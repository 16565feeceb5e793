"""`studyapp decks` counts what a review started now would show, in the words home uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studyapp.cli import main
from studyapp.db import open_store
from studyapp.services.cards import CardService


def test_new_is_what_todays_review_introduces_and_unseen_is_every_card_not_studied(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = CardService(open_store(str(db_path)))
    for i in range(25):
        cards.add("Optimizers", f"q{i}", "a")
    assert main(["decks", "--json", "--db", str(db_path)]) == 0
    [deck] = json.loads(capsys.readouterr().out)
    assert (deck["new"], deck["unseen"], deck["total"]) == (20, 25, 25)
    assert main(["decks", "--db", str(db_path)]) == 0
    header, _, row, *_ = capsys.readouterr().out.splitlines()
    assert header.split() == ["Deck", "New", "Due", "Learning", "Unseen", "Total"]
    assert row.split() == ["Optimizers", "20", "0", "0", "25", "25"]
