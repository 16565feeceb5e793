"""The pieces the review draws with: interval words, table cells, log-axis ticks, claims."""

from __future__ import annotations

import math
from datetime import date

import pytest

from studyapp.demo_api import Claim
from studyapp.demo_api.plot import log_ticks, tick_label
from studyapp.services.study import Outcome
from studyapp.tui.widgets.demo_panel import cell, claims_content
from studyapp.tui.widgets.rating_bar import one_line, span, two_lines, when_texts

DAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("days", "shown"),
    [(1, "1d"), (16, "16d"), (29, "29d"), (30, "1mo"), (75, "2.5mo"), (365, "1y"), (840, "2.3y")],
)
def test_intervals_read_as_anki_writes_them(days: int, shown: str) -> None:
    assert span(days) == shown


def outcome(days: int, again: bool) -> Outcome:
    return Outcome(3, DAY, days, again, True)


def test_a_card_that_comes_back_today_says_so_in_the_room_there_is() -> None:
    longest, *shorter = when_texts(outcome(16, True))
    assert (longest, shorter) == ("again today, then 16d", ["today, then 16d", "today+16d"])
    assert when_texts(outcome(16, False)) == ["16d"]
    preview = {r: outcome(r * 5, r < 4) for r in range(1, 6)}
    assert one_line(preview, 80) is None  # too long for one line at 80 columns
    top, keys = two_lines(preview, 80).plain.splitlines()
    columns = [top[i : i + 16].strip() for i in range(0, 80, 16)]  # 16 columns each
    assert columns == ["today, then 5d", "today+10d", "today+15d", "20d", "25d"]
    assert keys.split()[:2] == ["1", "Not"]
    wide = one_line(preview, 158)
    assert wide is not None and "3  Somewhat  again today, then 15d" in wide.plain


def test_a_missing_table_value_is_a_dash() -> None:
    assert cell(None).plain == "—"
    assert cell(0.000412).plain == "0.000412" and cell(3).plain == "3"
    assert cell("[b]x").plain == "[b]x"


@pytest.mark.parametrize(("low", "high"), [(-4.2, 0.11), (-2.0, 0.0), (-0.3, 0.2), (-21, 5)])
@pytest.mark.parametrize("max_ticks", [2, 3, 5, 7])
def test_log_ticks_stay_inside_the_data_and_within_their_number(
    low: float, high: float, max_ticks: int
) -> None:
    ticks = log_ticks(low, high, max_ticks)
    assert 2 <= len(ticks) <= max_ticks
    slack = min((high - low) / 20, 0.5) + 1e-9
    assert all(low - slack <= t <= high + slack for t in ticks)
    labels = [tick_label(t) for t in ticks]
    assert len(set(labels)) == len(labels)
    assert ticks == sorted(ticks)


def test_log_ticks_over_decades_are_whole_decades() -> None:
    assert log_ticks(-4.2, 0.11, 7) == [-4.0, -3.0, -2.0, -1.0, 0.0]
    assert [tick_label(t) for t in log_ticks(-4.2, 0.11, 3)] == ["0.0001", "0.01", "1"]
    assert all(math.isclose(t, round(t)) for t in log_ticks(-21, 5, 4))


def test_claims_show_their_kind_with_or_without_headings() -> None:
    claims = [Claim.check("dropout is the identity in eval mode", True), Claim("adam wins", False)]
    full = claims_content(claims).plain.splitlines()
    assert full == [
        "Experiments (could have come out otherwise)",
        "✗ adam wins",
        "Checks (identities verified on the run's numbers)",
        "✓ dropout is the identity in eval mode",
    ]
    compact = claims_content(claims, compact=True).plain.splitlines()
    assert compact == ["✗ adam wins", "✓ check: dropout is the identity in eval mode"]
