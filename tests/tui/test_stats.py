"""The stats screen: numbers, forecast, reviews per day and heatmap, per deck and overall."""

from __future__ import annotations

from datetime import date

from studyapp.tui.screens.stats import StatsScreen
from studyapp.tui.widgets.charts import DayBars, Heatmap, bar_rows, heatmap_rows
from tests.tui.conftest import settle, text_of


async def test_stats_show_retention_streak_and_forecast_overall_and_per_deck(make_app, history):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, StatsScreen)
        summary = text_of(app, "#stats-summary")
        assert "Cards      5 (0 unseen, 0 suspended)" in summary
        assert "Reviews    12 (0 today)" in summary
        assert "Streak     3 days" in summary
        assert "80.0% of 5 reviews" in summary
        forecast = screen.query_one("#stats-forecast", DayBars).values
        assert len(forecast) == 30 and sum(forecast) == 5
        per_day = screen.query_one("#stats-per-day", DayBars).values
        assert per_day[-4:] == [5, 6, 1, 0]
        assert screen.query_one(Heatmap).per_day[date(2025, 3, 8)] == 6

        await pilot.press("n")
        await pilot.pause()
        assert screen.deck == "Basics"
        assert "Cards      2 (0 unseen" in text_of(app, "#stats-summary")
        await pilot.press("p", "p")
        await pilot.pause()
        assert screen.deck == "Optimizers"
        assert "Cards      3 (0 unseen" in text_of(app, "#stats-summary")

        await pilot.press("escape")
        assert not isinstance(app.screen, StatsScreen)


def test_bars_scale_to_the_peak_and_show_every_nonzero_day():
    assert bar_rows([0, 1, 8], height=2, gap=0) == ["  █", " ▂█"]
    assert bar_rows([1, 100], height=1, gap=1) == ["▁ █ "]


def test_heatmap_puts_today_in_the_last_column():
    today = date(2025, 3, 10)  # a Monday
    rows = heatmap_rows({today: 3, date(2025, 3, 3): 1}, today, weeks=2)
    monday = rows[1].plain
    assert monday.startswith("Mon")
    assert monday.split()[1:] == ["▒", "█"]  # a third of the peak, then the peak
    assert rows[2].plain.split() == ["·"]  # last Tuesday, empty; this Tuesday is still to come


def test_heatmap_names_the_month_that_starts_in_the_newest_week():
    """Reviews made this week show under this month's name, not after last month's."""
    today = date(2026, 12, 9)  # the week of Monday 7 December
    header = heatmap_rows({today: 1}, today, weeks=6)[0].plain
    assert header.split() == ["Nov", "Dec"]
    assert header.index("Dec") == 4 + 2 * 5  # over the last column


async def test_the_summary_keeps_each_figure_on_its_own_line_at_80_columns(make_app, history):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        summary = app.screen.query_one("#stats-summary")
        lines = [summary.render_line(y).text.rstrip() for y in range(summary.size.height)]
        assert [line.split()[0] for line in lines] == ["Cards", "Reviews", "Streak", "Retention"]
        assert lines[2].split() == ["Streak", "3", "days"]


async def test_stats_name_the_scheduler_and_compare_the_models_on_request(make_app, history, store):
    from studyapp.services.scheduler import SchedulerService

    SchedulerService(store).set_scheduler("Optimizers", "fsrs", 0.85)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert "each deck its own" in text_of(app, "#stats-scheduler")
        await pilot.press("p")  # the last deck: Optimizers
        await pilot.pause()
        assert app.screen.deck == "Optimizers"
        assert "FSRS, desired retention 0.85, default parameters" in text_of(
            app, "#stats-scheduler"
        )
        assert "c compares" in text_of(app, "#stats-comparison")
        await pilot.press("c")
        await settle(pilot)
        shown = text_of(app, "#stats-comparison")
        # Scrolled to: it sits below the charts, off a 30-row screen until it is asked for.
        region = app.screen.query_one("#stats-comparison").region
        assert region.height > 0 and region.y >= 0 and region.bottom <= 30 - 1  # the footer
        for model in ("SM-2", "FSRS, default parameters", "FSRS, fitted on the earlier reviews"):
            assert model in shown
        assert "fewer than the 512 FSRS needs" in shown
        await pilot.press("f")  # back to SM-2, from the stats screen
        await pilot.pause()
        assert text_of(app, "#stats-scheduler").endswith("SM-2")
        assert "c compares" in text_of(app, "#stats-comparison")
        await pilot.press("f")
        await pilot.pause()
        assert "FSRS, desired retention 0.85" in text_of(app, "#stats-scheduler")
        await pilot.press("n")  # all decks: no single scheduler to switch
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert "each deck its own" in text_of(app, "#stats-scheduler")
