"""Predictions in the app: the card's history and the stats screen show them."""

from __future__ import annotations

from datetime import datetime, timedelta

from studyapp.db import Store
from studyapp.demo_api import DemoResult, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.model import Card
from studyapp.services.predictions import PredictionService
from studyapp.tui.screens.card_detail import CardScreen
from studyapp.tui.screens.stats import StatsScreen
from tests.tui.conftest import NOW, lines_of, settle, text_of

ADAM = get_spec("adam_vs_sgd")
RACE = ADAM.questions[0]


def predict(store: Store, card: Card, chosen: str, answer: str, at: datetime = NOW) -> None:
    """A prediction on `card`'s demo, graded by a run whose answer was `answer`."""
    assert card.demo is not None
    params = ADAM.resolve(card.demo.params)
    service = PredictionService(store, lambda: at)
    ids = service.record(card.id, ADAM.id, params, 0, [(RACE, chosen)])
    why = f"Loss 0.3 was reached first by {answer}."
    result = DemoResult(
        ADAM.id,
        params,
        0,
        1.0,
        predictions=[PredictionResult(RACE.id, RACE.text, RACE.options, answer, why)],
    )
    service.grade(ids, result)


async def card_predictions(app, pilot, card: Card) -> list[str]:
    """The lines of the card screen's predictions table, opened from home."""
    await settle(pilot)
    app.push_screen(CardScreen(app.services, card.id))
    await settle(pilot)
    return lines_of(app, "#card-predictions")


async def test_the_cards_history_shows_its_predictions(make_app, store, cards):
    predict(store, cards[0], "plain SGD", "Adam", NOW - timedelta(days=1))
    predict(store, cards[0], "Adam", "Adam")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await card_predictions(app, pilot, cards[0])
        assert shown[0].split() == ["Day", "Predicted", "Outcome", "Question"]
        # The whole question, wrapped in its column: each row starts with its day.
        starts = [i for i, line in enumerate(shown) if line.lstrip().startswith("2025-")]
        ends = [*starts[1:], len(shown)]
        first, second = (" ".join(shown[a:b]) for a, b in zip(starts, ends, strict=True))
        assert first.split()[:6] == ["2025-03-09", "plain", "SGD", "✗", "it", "was"]
        assert second.split()[:4] == ["2025-03-10", "Adam", "✓", "right"]
        for row in (first, second):
            assert all(word in row.split() for word in RACE.text.split())
        await pilot.press("escape")
        app.push_screen(CardScreen(app.services, cards[3].id))  # no demo, no predictions
        await settle(pilot)
        assert not app.screen.query_one("#card-predictions").display


async def test_a_long_question_wraps_at_80_columns(make_app, store, cards):
    predict(store, cards[0], "plain SGD", "Adam")
    app = make_app()
    async with app.run_test(size=(80, 30)) as pilot:
        shown = await card_predictions(app, pilot, cards[0])
        table = app.screen.query_one("#card-predictions")
        assert max(map(len, shown)) <= table.size.width <= 80
        assert RACE.text.split() == " ".join(shown).split()[-len(RACE.text.split()) :]


async def test_stats_show_prediction_accuracy_by_week_and_the_demos_most_often_wrong(
    make_app, store, cards
):
    predict(store, cards[0], "plain SGD", "Adam", NOW - timedelta(days=7))
    predict(store, cards[0], "Adam", "Adam", NOW - timedelta(days=7))
    predict(store, cards[0], "plain SGD", "Adam")
    app = make_app()
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, StatsScreen)
        lines = text_of(app, "#stats-predictions").splitlines()
        assert lines[0] == "Right 1 of 3 (33.3%)"
        assert lines[3].startswith("2025-03-03  ") and lines[3].endswith("1/2 right (50%)")
        assert lines[4].startswith("2025-03-10  ") and lines[4].endswith("0/1 right (0%)")
        assert lines[-1] == "2 wrong of 3  Adam vs SGD vs momentum (adam_vs_sgd)"
        await pilot.press("n")  # Basics: no demo on its cards
        await pilot.pause()
        assert text_of(app, "#stats-predictions").startswith("None graded yet")
