"""The scores of `scheduler evaluate`: log loss, srs-benchmark's RMSE(bins), AUC, the split."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from studyapp.scheduling import evaluation as ev
from studyapp.scheduling.fsrs import FSRSSettings

DAY = date(2026, 1, 1)


def prediction(p: float, recalled: bool, elapsed: int = 1, number: int = 2, lapses: int = 0):  # type: ignore[no-untyped-def]
    return ev.Prediction("c", DAY, elapsed, number, lapses, recalled, p)


def test_log_loss_is_the_mean_cross_entropy() -> None:
    found = [prediction(0.9, True), prediction(0.9, False), prediction(0.5, True)]
    expected = -(math.log(0.9) + math.log(0.1) + math.log(0.5)) / 3
    assert ev.log_loss(found) == pytest.approx(expected)


def test_auc_counts_ordered_pairs_and_ties_as_half() -> None:
    perfect = [prediction(0.9, True), prediction(0.8, True), prediction(0.2, False)]
    assert ev.auc(perfect) == 1.0
    backwards = [prediction(0.1, True), prediction(0.9, False)]
    assert ev.auc(backwards) == 0.0
    ties = [prediction(0.5, True), prediction(0.5, False), prediction(0.7, True)]
    assert ev.auc(ties) == pytest.approx((0.5 + 1.0) / 2)
    assert ev.auc([prediction(0.5, True)]) is None


def test_rmse_bins_averages_within_srs_benchmark_bins() -> None:
    # Elapsed 1 and 2 days share a bin (2.48 x 3.62^0), 4 days is the next (8.98); review
    # numbers 2 and 3 share one (1.99 x 1.89^1); no lapses against one lapse differ.
    same_bin = [prediction(0.8, True, 1, 2), prediction(0.6, False, 2, 3)]
    assert ev.rmse_bins(same_bin) == pytest.approx(abs(0.5 - 0.7))
    apart = [prediction(0.8, True, 1, 2), prediction(0.6, False, 4, 2)]
    assert ev.rmse_bins(apart) == pytest.approx(math.sqrt((0.2**2 + 0.6**2) / 2))
    lapsed = [prediction(0.8, True, 1, 2, 0), prediction(0.6, False, 1, 2, 1)]
    assert ev.rmse_bins(lapsed) == pytest.approx(ev.rmse_bins(apart))


def test_sm2_predicts_ninety_percent_at_the_end_of_its_interval() -> None:
    # First rating: interval 1; passed on day 1: interval 6; reviewed 12 days later.
    reviews = [(DAY, 4), (DAY + timedelta(days=1), 4), (DAY + timedelta(days=13), 4)]
    assert ev.sm2_predictions(reviews) == pytest.approx([0.9, 0.9**2])


def test_predictions_skip_first_reviews_and_count_lapses_after_the_first() -> None:
    history = {
        "a": [(DAY, 1), (DAY + timedelta(days=1), 1), (DAY + timedelta(days=3), 4)],
        "b": [(DAY, 4)],
    }
    found = ev.predictions(history, ev.fsrs_predictor(FSRSSettings()))
    assert [(p.number, p.elapsed, p.lapses, p.recalled) for p in found] == [
        (2, 1, 0, False),
        (3, 2, 1, True),
    ]
    assert all(0 < p.p < 1 for p in found)
    later = ev.predictions(history, ev.sm2_predictions, since=DAY + timedelta(days=2))
    assert [p.number for p in later] == [3]


def test_the_split_leaves_the_last_third_of_scored_reviews_for_evaluation() -> None:
    history = {f"c{i}": [(DAY, 4), (DAY + timedelta(days=i + 1), 4)] for i in range(9)}
    split = ev.split_day(history)
    assert split == DAY + timedelta(days=7)
    assert sum(len(r) for r in ev.before(history, split).values()) == 9 + 6
    assert ev.split_day({"c": [(DAY, 4)]}) is None
    assert ev.fit_reviews({"c": [(DAY + timedelta(days=i), 4) for i in range(70)]}) == 63


def test_fsrs_predicts_the_calendars_last_days_as_any_others() -> None:
    predict = ev.fsrs_predictor(FSRSSettings())
    late = [(date(9999, 12, 28), 5), (date(9999, 12, 29), 1), (date(9999, 12, 30), 5)]
    early = [(day - timedelta(days=2_900_000), rating) for day, rating in late]
    assert predict(late) == predict(early)
