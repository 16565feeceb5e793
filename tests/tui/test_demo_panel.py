"""The inline demo: run, follow, cancel, re-run, new parameters; failures shown, not fatal.

The Optimizers deck's demo asks a prediction question first; these tests skip it (`x`), and
tests/tui/test_predict_first.py follows the prediction itself.
"""

from __future__ import annotations

import random

import pytest
from textual.widgets import Input

from studyapp.demo_api import Table, get_spec
from studyapp.tui.widgets.demo_panel import DemoPanel, cell
from studyapp.tui.widgets.param_form import ParamInput
from tests.tui.conftest import (
    CLAIM_FALSE,
    CLAIM_TRUE,
    TAKEAWAY,
    FakeRunner,
    canned_result,
    lines_of,
    review_count,
    settle,
    text_of,
)


async def wait_until_started(pilot, runner: FakeRunner) -> None:
    for _ in range(200):
        if runner.started.is_set():
            return
        await pilot.pause(0.02)
    raise AssertionError("the demo never started")


async def open_running_demo(pilot, runner: FakeRunner) -> None:
    """Open the card's demo with `d`, once the review is on screen, and wait for its run
    (the runner's, held until released) to start."""
    await settle(pilot)
    await pilot.press("d")
    await wait_until_started(pilot, runner)
    await pilot.pause()


async def test_d_runs_the_cards_demo_and_shows_takeaway_and_claims(make_app, runner, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        panel = app.screen.query_one(DemoPanel)
        assert panel.is_open and not panel.running
        assert text_of(app, "#demo-headline") == ""  # held back until the prediction
        await pilot.press("x")
        await settle(pilot)
        demo_id, params, seed = runner.calls[0]
        assert (demo_id, params["steps"], seed) == ("adam_vs_sgd", 200, 0)
        assert text_of(app, "#demo-headline") == TAKEAWAY
        assert "Seed 0, ran in 1.5 s. r: new seed" in text_of(app, "#demo-status")
        claims = text_of(app, "#demo-claims")
        assert f"✓ {CLAIM_TRUE}" in claims
        assert f"✗ {CLAIM_FALSE}" in claims
        table = [line.split() for line in lines_of(app, "#demo-table") if line.strip()]
        assert table[0] == ["optimizer", "final", "loss", "note"]
        # a string from a demo is not markup
        assert (table[2], table[3]) == (["adam", "0.1", "[b]x"], ["sgd", "0.7"])
        steps = next(f for f in panel.query(ParamInput) if f.param.name == "steps")
        assert steps.value == "200"

        await pilot.press("d")
        assert not panel.is_open


async def test_the_runner_is_warmed_up_when_a_card_with_a_demo_comes_up(make_app, runner, cards):
    app = make_app(start="review", deck="Basics")
    async with app.run_test() as pilot:
        await settle(pilot)
        assert not runner.warmed
        await pilot.press("q", "r")  # Basics is first; move on to Optimizers
        await pilot.press("q", "down", "r")
        await settle(pilot)
        assert runner.warmed


async def test_a_card_without_a_demo_says_so(make_app, runner, cards):
    app = make_app(start="review", deck="Basics")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert text_of(app, "#demo-status") == "This card has no demo."
        assert runner.calls == []


async def test_a_cached_result_shows_at_once(make_app, runner, cards):
    cached = canned_result("adam_vs_sgd", {"steps": 200}, 0)
    cached.cached = True
    runner.cache[("adam_vs_sgd", 0)] = cached
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)  # read off the UI thread: opening the cache may load the runner
        assert runner.calls == []
        assert not app.screen.query_one("#demo-headline").display  # hidden the same way
        await pilot.press("x")
        assert app.screen.query_one("#demo-headline").display
        assert text_of(app, "#demo-headline") == TAKEAWAY
        assert "cached" in text_of(app, "#demo-status")


WIDE_COLUMNS = [
    "optimizer",
    "lr",
    "final loss",
    "train accuracy",
    "reached 0.3",
    "largest weight change",
]
WIDE_ROWS = [
    ["plain SGD", 1, 0.301, 0.807, "not in 400 steps", 2.04],
    ["SGD with momentum", 1, 6.38e-4, 1.0, "step 70", 5.03],
    ["Adam", 0.1, 4.12e-4, 1.0, "step 47", None],
]


@pytest.mark.parametrize("width", [80, 140])
async def test_a_table_wider_than_the_terminal_wraps_to_show_every_column(
    make_app, runner, cards, width
):
    # 93 columns of table at its widest, in a panel of 70 (under the card at 80 columns,
    # beside it at 140): nothing runs off the side.
    wide = canned_result("adam_vs_sgd", {}, 0)
    wide.table = Table.of(WIDE_COLUMNS, WIDE_ROWS)
    runner.cache[("adam_vs_sgd", 0)] = wide
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        table = app.screen.query_one("#demo-table")
        assert table.size.width < 80
        lines = lines_of(app, "#demo-table")
        assert max(map(len, lines)) <= table.size.width
        words = " ".join(lines).split()
        for text in [*WIDE_COLUMNS, *(cell(value).plain for row in WIDE_ROWS for value in row)]:
            assert all(word in words for word in text.split()), text
        assert {"0.000638", "—"} <= set(words)  # 6.38e-4 and None, as the panel writes them


async def test_escape_cancels_a_running_demo_while_the_review_goes_on(make_app, store, cards):
    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await open_running_demo(pilot, runner)
        panel = app.screen.query_one(DemoPanel)
        assert panel.running
        await pilot.press("x")  # no prediction: the keys rate cards again

        await pilot.press("space", "4")  # the review stays usable while the demo runs
        assert review_count(store) == 1
        assert panel.is_open and panel.running

        await pilot.press("escape")
        await settle(pilot)
        assert runner.cancelled.is_set()
        assert not panel.running
        assert text_of(app, "#demo-status").startswith("Cancelled.")


async def test_a_failing_demo_shows_its_error_and_the_app_carries_on(make_app, store, cards):
    runner = FakeRunner(fail="the loss became NaN at step 12")
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        status = text_of(app, "#demo-status")
        assert "failed: the loss became NaN at step 12" in status
        await pilot.press("space", "4")
        assert review_count(store) == 1


async def test_r_reruns_with_a_new_seed_from_the_injected_rng(make_app, runner, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x", "r")
        await settle(pilot)
        await pilot.press("x")  # asked again before each run
        expected = random.Random(7).randrange(1, 2**31)
        assert [seed for *_, seed in runner.calls] == [0, expected]
        assert f"Seed {expected}" in text_of(app, "#demo-status")


async def test_the_parameter_form_checks_bounds_and_reruns(make_app, runner, cards, prompt_clock):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        panel = app.screen.query_one(DemoPanel)
        steps = next(f for f in panel.query(ParamInput) if f.param.name == "steps")
        steps.focus()
        steps.value = "999999"
        await pilot.press("enter")
        await settle(pilot)
        assert len(runner.calls) == 1
        assert "between 20 and 2000" in text_of(app, "#param-error")
        assert steps.has_class("-invalid")

        steps.value = "300"
        await pilot.press("enter")
        await settle(pilot)
        prompt_clock.wait_out_typing()
        await pilot.press("x")
        assert len(runner.calls) == 2
        assert runner.calls[-1][1]["steps"] == 300
        assert runner.calls[-1][2] == 0

        await pilot.press("escape")  # leaves the field; keys rate cards again
        assert not isinstance(app.focused, Input)
        await pilot.press("space", "4")
        assert app.screen.session.done == 1


async def test_a_dead_demo_link_is_explained(make_app, runner, store, cards):
    from studyapp.model import DemoLink
    from studyapp.services.cards import CardService
    from tests.tui.conftest import fixed_clock

    CardService(store, fixed_clock).update(cards[3].id, demo=DemoLink("not_a_demo"))
    app = make_app(start="review", deck="Basics")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert "not_a_demo" in text_of(app, "#demo-status")
        assert runner.calls == []


async def test_a_link_beyond_a_narrowed_bound_runs_at_the_bound_and_says_so(
    make_app, runner, store, cards
):
    from sqlalchemy import update

    from studyapp.db.models import CardRow

    # Written when adam_vs_sgd allowed 5,000 steps; its bound has since come down.
    with store.write() as session:
        session.execute(
            update(CardRow).where(CardRow.id == cards[0].id).values(demo_params='{"steps": 5000}')
        )
    high = get_spec("adam_vs_sgd").param("steps").high
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        demo_id, params, _ = runner.calls[0]
        assert (demo_id, params["steps"]) == ("adam_vs_sgd", high)
        said = [n.message for n in app._notifications]
        assert any("steps 5000 is beyond" in m and f"runs at {high}" in m for m in said)
        assert text_of(app, "#demo-headline") == TAKEAWAY


@pytest.mark.parametrize(("typed", "outcome"), [("1E3", 1000), ("1e3", 1000), ("2.55e1", None)])
async def test_the_parameter_form_reads_a_whole_number_in_e_notation(
    make_app, runner, cards, typed, outcome
):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        panel = app.screen.query_one(DemoPanel)
        steps = next(f for f in panel.query(ParamInput) if f.param.name == "steps")
        steps.focus()
        steps.value = typed
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        if outcome is None:
            assert len(runner.calls) == 1
            assert "'steps' must be a whole number, not 25.5" in text_of(app, "#param-error")
        else:
            assert runner.calls[-1][1]["steps"] == outcome


async def test_d_closes_the_previous_cards_demo_left_running(make_app, store, cards):
    """A card rated while its demo runs leaves that demo open over the next card, whose
    border says `d` closes it: `d` closes it (and shows the answer), it opens nothing."""
    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await open_running_demo(pilot, runner)
        await pilot.press("x", "space", "4")  # no prediction; the card is rated
        panel = app.screen.query_one(DemoPanel)
        assert panel.is_open and panel.running and panel.card_id == cards[0].id
        await pilot.press("space", "d")
        await settle(pilot)
        assert not panel.is_open and runner.cancelled.is_set()
        assert len(runner.calls) == 1  # the next card's demo was not opened


async def test_while_the_demo_asks_the_digits_answer_it_and_never_rate(
    make_app, runner, store, cards
):
    """The answer is shown and the demo's question waits: every digit is the question's (a
    question of four options included: `5` does not rate), and the bar says so."""
    from studyapp.tui.widgets.rating_bar import RatingBar

    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 50)) as pilot:
        await settle(pilot)
        await pilot.press("space", "d")
        await settle(pilot)
        panel = app.screen.query_one(DemoPanel)
        assert panel.asking
        bar = app.screen.query_one(RatingBar)
        assert "The demo's question first" in str(bar.render())
        await pilot.press("5")
        await settle(pilot)
        assert review_count(store) == 0
        await pilot.press("x")  # skipped: the keys rate again
        await settle(pilot)
        assert not panel.asking and "question first" not in str(bar.render())
        await pilot.press("4")
        assert review_count(store) == 1
