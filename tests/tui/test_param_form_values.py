"""What the demo parameter form shows for a value reads back as that very value."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from studyapp.demo_api.spec import Param
from studyapp.tui.widgets.param_form import format_value

ANY_FLOAT = Param("x", "float", 0.0, "any finite number")


@given(value=st.floats(allow_nan=False, allow_infinity=False))
@example(value=0.123456789)
@example(value=1e-300)
@example(value=5e-324)
@example(value=1.7976931348623157e308)
def test_a_float_shown_in_the_form_reads_back_exactly(value: float) -> None:
    text = format_value(value)
    assert ANY_FLOAT.parse(text) == value
    assert len(text) <= len(repr(value))  # no longer than the shortest exact digits


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (600.0, "600"),
        (0.05, "0.05"),
        (0.123456789, "0.123456789"),
    ],
)
def test_tidy_floats_stay_tidy(value: float, shown: str) -> None:
    assert format_value(value) == shown
