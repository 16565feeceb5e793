"""How well a memory model predicts a review history: replay it, score each prediction.

A history is each card's state-changing ratings (the first of each study day) on the 1-5
scale, oldest first. Replaying it, a model predicts before each rating after a card's first
the probability that the card is recalled (rated 3 or more); the rating says whether it was.

- SM-2 has no probability of its own: as srs-benchmark converts intervals, it predicts
  0.9^(t/I) for a review t days after the last, where I is the interval SM-2 had set.
- FSRS predicts its retrievability, from the `fsrs` package with the given parameters.

The scores are those of srs-benchmark: log loss, RMSE(bins) (predictions and outcomes
averaged within bins of elapsed days, review number and lapse count, then the RMSE of the
bins weighted by their size) and AUC. Fitting parameters needs torch and happens elsewhere
(`studyapp.services.fsrs_worker`); everything here is the standard library and the
package's scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from studyapp.scheduling.fsrs import (
    FSRSSettings,
    moment,
    review_package_card,
    scheduler_for,
)
from studyapp.scheduling.sm2 import PASSING_RATING, SM2State, sm2_review

History = Mapping[Any, Sequence[tuple[date, int]]]
"""Each card's state-changing ratings: (study day, rating 1-5), oldest first."""

SM2_TARGET = 0.9  # the recall SM-2 is taken to expect at the end of an interval
TRAIN_SHARE = 2 / 3  # the earlier part of a history fitted on; the rest is evaluated
MIN_FIT_REVIEWS = 512  # the `fsrs` optimizer keeps its defaults below this many reviews
FIT_REVIEWS_PER_CARD = 64  # and reads no more than the first 64 reviews of a card
LOG_LOSS_EPS = 1e-7


@dataclass(frozen=True, slots=True)
class Prediction:
    """One scored review: when, how far into the card's history, and what was predicted."""

    card: Any
    day: date
    elapsed: int  # days since the card's previous rating
    number: int  # the review's place in the card's history, the first being 1
    lapses: int  # failed ratings before it, the first rating not counted
    recalled: bool
    p: float


@dataclass(frozen=True)
class Scores:
    log_loss: float
    rmse_bins: float
    auc: float | None  # None when every review was recalled, or none was

    def to_dict(self) -> dict[str, float | None]:
        return {
            "log_loss": round(self.log_loss, 4),
            "rmse_bins": round(self.rmse_bins, 4),
            "auc": round(self.auc, 4) if self.auc is not None else None,
        }


Predictor = Callable[[Sequence[tuple[date, int]]], list[float]]
"""Given one card's history, the recall probability before each rating after the first."""


def sm2_predictions(reviews: Sequence[tuple[date, int]]) -> list[float]:
    state = SM2State.new()
    out: list[float] = []
    last: date | None = None
    for day, rating in reviews:
        if last is not None:
            out.append(SM2_TARGET ** ((day - last).days / max(state.interval, 1)))
        state = sm2_review(state, rating, day)
        last = day
    return out


def fsrs_predictor(settings: FSRSSettings) -> Predictor:
    from fsrs import Card, Rating, State

    from studyapp.scheduling.fsrs import FSRS_RATING

    scheduler = scheduler_for(settings)

    def predict(reviews: Sequence[tuple[date, int]]) -> list[float]:
        out: list[float] = []
        card = None
        for day, rating in reviews:
            at = moment(day)
            if card is None:
                card = Card(card_id=0, state=State.Learning, step=0, due=at)
            else:
                out.append(float(scheduler.get_card_retrievability(card, at)))
            card = review_package_card(scheduler, card, Rating(FSRS_RATING[rating]), at)
        return out

    return predict


def predictions(
    history: History, predictor: Predictor, since: date | None = None
) -> list[Prediction]:
    """Every review after a card's first (on or after `since`, if given), with the model's
    recall probability."""
    out: list[Prediction] = []
    for card, reviews in history.items():
        probabilities = predictor(reviews)
        lapses = 0
        for number, ((day, rating), p) in enumerate(
            zip(reviews[1:], probabilities, strict=True), start=2
        ):
            previous = reviews[number - 2][0]
            recalled = rating >= PASSING_RATING
            if since is None or day >= since:
                out.append(
                    Prediction(card, day, (day - previous).days, number, lapses, recalled, p)
                )
            lapses += not recalled
    return out


def split_day(history: History, share: float = TRAIN_SHARE) -> date | None:
    """The first study day of the later part: the day of the review that comes `share` of
    the way through the scored reviews. None when there is nothing to score."""
    days = sorted(day for reviews in history.values() for day, _ in reviews[1:])
    if not days:
        return None
    return days[min(len(days) - 1, int(len(days) * share))]


def before(history: History, day: date) -> dict[Any, list[tuple[date, int]]]:
    """The part of a history before `day` (cards rated only later are left out)."""
    out = {card: [r for r in reviews if r[0] < day] for card, reviews in history.items()}
    return {card: reviews for card, reviews in out.items() if reviews}


def fit_reviews(history: History) -> int:
    """How many reviews the `fsrs` optimizer would learn from: those after a card's first,
    within its first 64."""
    return sum(max(0, min(len(r), FIT_REVIEWS_PER_CARD) - 1) for r in history.values())


def score(found: Sequence[Prediction]) -> Scores:
    if not found:
        raise ValueError("there are no reviews to score")
    return Scores(log_loss(found), rmse_bins(found), auc(found))


def log_loss(found: Sequence[Prediction]) -> float:
    total = 0.0
    for item in found:
        p = min(1 - LOG_LOSS_EPS, max(LOG_LOSS_EPS, item.p))
        total -= math.log(p) if item.recalled else math.log(1 - p)
    return total / len(found)


def _bin(value: float, base: float, scale: float, digits: int) -> float:
    return round(scale * base ** math.floor(math.log(value) / math.log(base)), digits)


def rmse_bins(found: Sequence[Prediction]) -> float:
    """srs-benchmark's RMSE(bins): reviews grouped by elapsed days, review number and lapse
    count on logarithmic scales, then the RMSE between the mean outcome and the mean
    prediction of each group, weighted by the group's size."""
    groups: dict[tuple[float, float, float], list[float]] = {}
    for item in found:
        key = (
            _bin(max(item.elapsed, 1e-6), 3.62, 2.48, 2),
            _bin(item.number, 1.89, 1.99, 0),
            _bin(item.lapses, 1.73, 1.65, 0) if item.lapses else 0.0,
        )
        sums = groups.setdefault(key, [0.0, 0.0, 0.0])
        sums[0] += item.recalled
        sums[1] += item.p
        sums[2] += 1
    squared = sum(n * (y / n - p / n) ** 2 for y, p, n in groups.values())
    return math.sqrt(squared / len(found))


def auc(found: Iterable[Prediction]) -> float | None:
    """The area under the ROC curve: the chance that a recalled review was given a higher
    probability than a forgotten one (ties count half)."""
    ordered = sorted(found, key=lambda item: item.p)
    positives = sum(item.recalled for item in ordered)
    negatives = len(ordered) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j].p == ordered[i].p:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(item.recalled for item in ordered[i:j])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
