"""How the main screens look, pinned at 100x30 and 80x24 (fixed clock, fixed cards, stub demo);
the review with its demo open at 80x24 (under the card) and 160x50 (beside it), and the
authoring screens at 80x24 and 160x50.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the report before committing the new pictures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from studyapp.db import Store, open_store

SIZES = pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The pictures are pinned on the SQLite store only: the screens read the same values
    from either (the other TUI tests run on both)."""
    opened = open_store(str(tmp_path / "c.db"))
    yield opened
    opened.dispose()


async def settled(pilot: Pilot, *keys: str) -> None:
    await pilot.pause()
    for key in keys:
        await pilot.press(key)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@SIZES
def test_review_with_literal_card_text(snap_compare, make_app, cards, size):
    """The second card revealed: its brackets are text, not markup."""
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "space", "4", "space")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


DEMO_SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])


@DEMO_SIZES
def test_review_with_the_demo_asking_first(snap_compare, make_app, cards, size):
    """The demo's question and its options before anything of the run shows."""
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "space", "d")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@DEMO_SIZES
def test_review_with_the_demo_panel_open(snap_compare, make_app, cards, size):
    """The answer shown, then the demo, predicted wrong: the verdict on top; at 80x24 the
    card folds to its front and the plot fits under the claims; at 160x50 the demo sits
    beside the whole card."""
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "space", "d", "2")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@DEMO_SIZES
def test_review_with_the_demo_panel_open_without_colour(
    snap_compare, make_app, cards, size, monkeypatch
):
    """NO_COLOR: each curve and its legend entry drawn with its own marker shape."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "d", "x")  # the question skipped

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_review_of_a_card_due_again_with_the_interval_preview(
    snap_compare, make_app, history, size
):
    """A review card revealed: each rating key with the interval it gives."""
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "space")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_stats(snap_compare, make_app, history, size):
    app = make_app()

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "t")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@SIZES
def test_help_over_the_review(snap_compare, make_app, cards, size):
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "question_mark")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_review_in_the_light_theme(snap_compare, make_app, cards):
    app = make_app(start="review", deck="Optimizers")

    async def run_before(pilot: Pilot) -> None:
        pilot.app.theme = "textual-light"
        await settled(pilot, "space")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


NEW_SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])


async def steady(pilot: Pilot) -> None:
    """Stop the text cursors blinking, so a picture does not depend on when it is taken."""
    from textual.widgets import Input, TextArea

    fields = list(pilot.app.screen.query("Input, TextArea"))
    for field in fields:
        assert isinstance(field, Input | TextArea)
        field.cursor_blink = False
    await pilot.pause()
    # A blink already due when the timer stopped may have hidden the cursor after all (on a
    # busy machine): show it wherever the focus is.
    for field in fields:
        field._cursor_visible = field.has_focus
        field.refresh()
    await pilot.pause()


@NEW_SIZES
def test_home_with_its_deck_keys(snap_compare, make_app, cards, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=settled)


@NEW_SIZES
def test_adding_a_card_with_a_demo(snap_compare, make_app, cards, size):
    """The form and the preview: below it at 80 columns, beside it at 160."""
    from textual.widgets import Input, Select, TextArea

    app = make_app()

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "down", "n")
        screen = pilot.app.screen
        screen.query_one("#add-front", TextArea).text = "Why does Adam need [bias] correction?"
        screen.query_one("#add-back", TextArea).text = "Its moments start at zero."
        screen.query_one("#add-tags", Input).value = "adam"
        screen.query_one("#add-demo", Select).value = "adam_vs_sgd"
        await settled(pilot)
        screen.query_one("#param-rows").query(Input)[4].value = "200"
        # The focus on the demo list: a text cursor there would blink into the picture.
        screen.query_one("#add-demo", Select).focus()
        await settled(pilot)
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@NEW_SIZES
def test_deck_options(snap_compare, make_app, cards, size):
    app = make_app()

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "down", "o")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@NEW_SIZES
def test_browse_a_quoted_deck_with_cards_marked(snap_compare, make_app, cards, size):
    app = make_app()

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "b", *'deck:"optimizers"', "enter", "space")
        await steady(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@NEW_SIZES
def test_asking_before_deleting_cards(snap_compare, make_app, cards, size):
    app = make_app()

    async def run_before(pilot: Pilot) -> None:
        await settled(pilot, "b", *"epoch", "enter")
        await pilot.press("delete")  # its worker waits for the answer: not settled
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
