"""augmentation_shapes: shift augmentation lets a CNN read glyphs where training never put them."""

from __future__ import annotations

import pytest

from studyapp.demo_api import ParamError, get_spec
from tests.demos.conftest import run_demo


def test_shift_augmentation_beats_plain_training_on_shifted_glyphs() -> None:
    out = run_demo("augmentation_shapes")
    plain = out.series["plain: shifted-test accuracy"]
    augmented = out.series["augmented: shifted-test accuracy"]
    assert plain[-1] == pytest.approx(out.metrics["shifted_accuracy_plain"], abs=1e-6)
    assert augmented[-1] == pytest.approx(out.metrics["shifted_accuracy_augmented"], abs=1e-6)
    assert augmented[-1] >= plain[-1] + 0.15
    assert out.metrics["centred_accuracy_plain"] >= 0.9


def test_without_any_augmentation_both_runs_are_the_same_model() -> None:
    out = run_demo("augmentation_shapes", shift=False, flip=False, jitter=False)
    assert (
        out.series["plain: shifted-test accuracy"] == out.series["augmented: shifted-test accuracy"]
    )
    assert not out.claims[0].holds


def test_out_of_bounds_values_are_refused() -> None:
    spec = get_spec("augmentation_shapes")
    with pytest.raises(ParamError):
        spec.resolve({"max_shift": 5})
    with pytest.raises(ParamError):
        spec.resolve({"epochs": 0})
