"""The review as someone who studies every morning uses it: the interval preview on the rating
keys, studying more when done, escape one step at a time, and a demo panel that fits the
terminal and never loses the keys."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Static
from textual_plotext import PlotextPlot

from studyapp.model import DemoLink
from studyapp.services.cards import CardService
from studyapp.services.decks import DeckService
from studyapp.tui.screens.help import HelpScreen
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.review import DemoArea, ReviewScreen
from studyapp.tui.screens.study_more import NumberPrompt
from studyapp.tui.widgets.card_view import CardView
from studyapp.tui.widgets.demo_panel import DemoPanel
from studyapp.tui.widgets.param_form import ParamInput
from studyapp.tui.widgets.rating_bar import RatingBar
from tests.tui.conftest import FakeRunner, fixed_clock, review_count, settle, text_of
from tests.tui.test_demo_panel import open_running_demo


def bar_text(app) -> str:  # type: ignore[no-untyped-def]
    bar = app.screen.query_one(RatingBar)
    return str(bar.render())


def on_screen(app, target) -> bool:  # type: ignore[no-untyped-def]
    """Whether the widget (or the one a selector names) is shown whole within the terminal,
    above the rating bar."""
    widget = app.screen.query_one(target) if isinstance(target, str) else target
    region = widget.region
    bar = app.screen.query_one(RatingBar).region
    return widget.display and region.height > 0 and region.y >= 0 and region.bottom <= bar.y


async def skip_the_questions(pilot) -> None:  # type: ignore[no-untyped-def]
    """Skip every question the open demo asks before its result shows."""
    while pilot.app.screen.query_one(DemoPanel).asking:
        await pilot.press("x")
    await settle(pilot)


# --- the rating bar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "drill_text"), [((80, 24), "today, then 1d"), ((160, 40), "again today, then 1d")]
)
async def test_the_rating_keys_show_what_each_rating_does(make_app, cards, size, drill_text):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert "show the answer" in bar_text(app)
        await pilot.press("space")
        text = bar_text(app)
        assert text.count(drill_text) == 3  # 1, 2 and the passing 3 come back later today
        top = text.splitlines()[0]
        assert "5  Perfectly" in text and top.split()[-1] == "1d"  # a 5 on a new card: 1 day


async def test_a_review_cards_intervals_and_the_key_that_rates_it(make_app, store, history):
    # After three days of study the Optimizers cards are reviews: the bar shows the
    # session's preview, and pressing 3 does what the bar said.
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        card = screen.session.current
        preview = screen.preview
        await pilot.press("space")
        text = bar_text(app)
        assert f"today, then {preview[3].days}d" in text
        assert f"4  Mostly  {preview[4].days}d" in text
        await pilot.press("3")
        assert review_count(store) == 13
        state = CardService(store, fixed_clock).detail(card.id).card.state
        assert state.due == preview[3].due


# --- escape and q ---------------------------------------------------------------------------


async def test_escape_cancels_then_closes_the_demo_and_never_leaves_the_review(make_app, cards):
    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await open_running_demo(pilot, runner)
        panel = app.screen.query_one(DemoPanel)
        await pilot.press("x")  # no prediction: escape steps back through the demo
        await pilot.press("escape")
        await settle(pilot)
        assert runner.cancelled.is_set() and panel.is_open and not panel.running
        await pilot.press("escape")
        assert not panel.is_open
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)


# --- the demo panel: keys, focus, scrolling -------------------------------------------------


async def test_a_rerun_from_the_form_gives_the_keys_back_to_scrolling(
    make_app, runner, cards, prompt_clock
):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "d")
        await settle(pilot)
        await pilot.press("x")
        await pilot.press("tab")
        field = app.focused
        assert isinstance(field, ParamInput) and field.param.name == "lr_sgd"
        assert on_screen(app, field)  # the first tab lands on something in view
        steps = next(f for f in app.screen.query(ParamInput) if f.param.name == "steps")
        steps.value = "300"
        await pilot.press("enter")
        await settle(pilot)
        assert runner.calls[-1][1]["steps"] == 300
        assert app.screen.query_one(DemoPanel).asking  # asked again for the new values
        prompt_clock.wait_out_typing()
        await pilot.press("x")
        assert app.focused is None
        area = app.screen.query_one(DemoArea)
        assert area.scroll_y == 0  # back at the new result's top
        await pilot.press("pagedown")
        await pilot.pause()
        assert area.scroll_y > 0
        before = area.scroll_y
        await pilot.press("up")
        await pilot.pause()
        assert area.scroll_y == before - 1
        await pilot.press("4")  # and a rating key rates again
        assert review_count(app.screen.services.store) == 1


async def test_help_lists_the_scroll_keys(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        doing = [does for _, does in app.screen.rows]
        for does in ("Scroll up", "Scroll down", "Scroll a page down", "Scroll to the top"):
            assert does in doing


async def test_a_demo_still_running_under_the_next_card_says_whose_it_is(make_app, cards):
    runner = FakeRunner(block=True)
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await open_running_demo(pilot, runner)
        panel = app.screen.query_one(DemoPanel)
        await pilot.press("x", "space", "4")
        assert panel.is_open and panel.running
        assert "previous card's demo" in str(panel.border_title)
        await pilot.press("d")  # closes it, as the card's border says: the old run is cancelled
        await settle(pilot)
        assert runner.cancelled.is_set() and not panel.is_open
        runner.block = False
        await pilot.press("d")  # and the next opens this card's own
        await settle(pilot)
        assert panel.is_open and panel.card_id == app.screen.session.current.id
        assert "previous" not in str(panel.border_title)


async def test_a_new_demo_never_shows_the_last_ones_result(make_app, runner, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        panel = app.screen.query_one(DemoPanel)
        assert panel.has_class("-done")
        runner.block = True  # the next run waits, as a real one does
        await pilot.press("space", "4", "space", "4")  # on to the momentum card
        await pilot.press("d")
        assert not panel.has_class("-done")  # the old result is gone before anything else
        assert panel.has_class("-running")
        assert panel.spec is not None and panel.spec.id == "momentum_ravine"
        runner.cancel()
        await settle(pilot)


async def test_long_parameter_names_and_every_choice_show(make_app, store, cards):
    service = CardService(store, fixed_clock)
    service.update(cards[3].id, demo=DemoLink("adaptive_optimizers"))
    service.update(cards[4].id, demo=DemoLink("lr_schedules"))
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await skip_the_questions(pilot)
        label = next(
            w for w in app.screen.query(".param-name") if "bias_correction" in str(w.render())
        )
        assert label.size.width >= len("bias_correction")  # all of it, then a space
        assert label.outer_size.width > len("bias_correction")
        await pilot.press("d", "space", "4", "d")
        await settle(pilot)
        await skip_the_questions(pilot)
        bounds = " ".join(str(w.render()) for w in app.screen.query(".param-bounds"))
        assert "warmup_cosine" in bounds and "cyclic" in bounds
        rows = [w for w in app.screen.query(".param-bounds") if "cyclic" in str(w.render())]
        assert rows[0].size.height >= 2  # wrapped, not cut


async def test_a_failed_run_does_not_offer_the_same_failure_again(make_app, cards):
    runner = FakeRunner(fail="device 'cuda' is not available on this machine")
    app = make_app(start="review", deck="Optimizers", runner=runner)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        status = text_of(app, "#demo-status")
        assert "device 'cuda' is not available" in status
        assert "r runs it with a new seed" not in status
        assert "change a value below and press enter" in status


# --- the layout -----------------------------------------------------------------------------


async def test_at_80x24_the_front_headline_claims_and_plot_show_together(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "d")
        await settle(pilot)
        await pilot.press("3")  # a prediction: its verdict opens the result
        await settle(pilot)
        await pilot.pause()
        for selector in (
            "#card-front",
            "#demo-verdict",
            "#demo-headline",
            "#demo-claims",
            "#demo-plot",
        ):
            assert on_screen(app, selector), selector
        card = app.screen.query_one(CardView)
        assert card.folded and "folded" in str(card.border_subtitle)
        await pilot.press("d")  # closed: the answer is back
        assert not card.folded and app.screen.query_one("#card-back").display


async def test_from_140_columns_the_demo_sits_beside_the_card(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("space", "d")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        card = app.screen.query_one(CardView).region
        panel = app.screen.query_one(DemoPanel).region
        assert card.right <= panel.x and card.y == panel.y
        assert card.width <= 88  # a readable line, not 150 characters
        assert app.screen.query_one("#card-back").display  # room for the answer too
        assert on_screen(app, "#demo-table") and on_screen(app, "#demo-plot")


async def test_a_long_deck_name_ends_in_an_ellipsis(make_app, store):
    name = "Deep learning interview questions, curated and extended"
    CardService(store, fixed_clock).add(name, "What is a tensor?", "An n-dimensional array.")
    app = make_app(start="review", deck=name)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = app.screen.query_one("#progress-deck", Static).render_line(0).text.rstrip()
        assert shown.endswith("…") and shown[:-1] in name


async def test_the_progress_line_keeps_its_percentage_beside_a_long_deck_name(make_app, store):
    """The bar gives way, not the percentage: a cut "0%" read as a stray "0" before "new"."""
    name = "Deep learning interview questions, curated and extended"
    service = CardService(store, fixed_clock)
    for i in range(120):
        service.add(name, f"Question {i}?", "An answer.")
    app = make_app(start="review", deck=name)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one("#progress-bar")
        percentage = bar.query_one("#percentage")
        counts = app.screen.query_one("#progress-counts")
        assert percentage.region.width == 5 and percentage.region.right <= counts.region.x
        assert str(percentage.render()) == "0%"
        assert "new 20  review 0" in str(counts.render())


async def test_without_colour_each_curve_has_its_own_marker(make_app, cards, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        built = app.screen.query_one("#demo-plot", PlotextPlot).plt.build()
        canvas = re.sub("\x1b\\[[0-9;]*m", "", built)
        assert "•• adam" in canvas and "xx sgd" in canvas
        assert canvas.count("•") > 3 and canvas.count("x") > 3


# --- studying more --------------------------------------------------------------------------


async def test_more_new_cards_when_the_days_limit_is_reached(make_app, store, cards):
    DeckService(store, fixed_clock).update_settings("Basics", new_per_day=1)
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "4")
        summary = text_of(app, "#review-summary")
        assert "n  new cards beyond today's limit (1 card left)" in summary
        await pilot.press("n")
        assert isinstance(app.screen, NumberPrompt)
        await pilot.press("enter")
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.session.current.id == cards[4].id
        await pilot.press("space", "4")
        assert review_count(store) == 2


async def test_a_count_not_in_ascii_digits_is_asked_again(make_app, store, history):
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        prompt = app.screen
        assert isinstance(prompt, NumberPrompt)
        for typed in ("²", "9" * 5000):  # int() refuses both
            prompt.query_one("#prompt-input").value = typed
            await pilot.press("enter")
            assert app.screen is prompt
            assert "a whole number from 1 to 1,000" in text_of(app, "#prompt-error")


async def test_review_ahead_from_the_summary(make_app, store, history):
    app = make_app(start="review", deck="Basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.session.current is None  # all done today; the cards fall due later
        assert "a  review ahead" in text_of(app, "#review-summary")
        await pilot.press("a")
        prompt = app.screen
        assert isinstance(prompt, NumberPrompt)
        prompt.query_one("#prompt-input").value = "30"
        await pilot.press("enter")
        card = screen.session.current
        assert card is not None and screen.session.current_kind == "early"
        assert "review ahead" in str(screen.query_one(CardView).border_title)
        old_due = card.state.due
        await pilot.press("space", "5")
        after = CardService(store, fixed_clock).detail(card.id).card.state
        assert after.due is not None and old_due is not None and after.due >= old_due
        kinds = [r.kind for r in CardService(store, fixed_clock).detail(card.id).history]
        assert kinds[-1] == "early"
