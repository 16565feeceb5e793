"""The demo runner: a worker process that reports progress, survives failing demos, can be
cancelled, times out, and caches finished results in the collection."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import datetime
from importlib import metadata

import pytest
from sqlalchemy import func, select

from studyapp.db import Store
from studyapp.db.models import DemoResultRow
from studyapp.demo_api import DemoResult, ParamError, UnknownDemoError, get_spec
from studyapp.services import demos
from studyapp.services.demos import DemoProgress, DemoRunner

FAKES = "tests.fake_demos"


@pytest.fixture
def runner(store: Store) -> Iterator[DemoRunner]:
    """A runner on the fake catalogue; its worker does not import torch, so it starts fast."""
    with DemoRunner(store, package=FAKES, preload=()) as r:
        yield r


def worker_pid(result: DemoResult) -> int:
    return int(result.metrics["pid"])


def run_in_thread(
    runner: DemoRunner, demo_id: str
) -> tuple[threading.Thread, list, threading.Event]:
    """Start `demo_id` in a thread; the event is set once the demo reports progress."""
    results: list[DemoResult] = []
    running = threading.Event()
    thread = threading.Thread(
        target=lambda: results.append(
            runner.run(demo_id, {}, 0, on_progress=lambda p: running.set())
        )
    )
    thread.start()
    assert running.wait(60), "the demo never reported progress"
    return thread, results, running


def test_progress_arrives_and_result_comes_back(runner: DemoRunner) -> None:
    events: list[DemoProgress] = []
    result = runner.run("echo", {"value": 2.0, "steps": 3}, seed=1, on_progress=events.append)
    assert result.status == "ok" and result.error is None
    assert result.params == {"value": 2.0, "steps": 3} and result.seed == 1
    assert result.series["line"] == [3.0, 5.0, 7.0]
    assert result.table.rows == ((2.0, 1),)
    assert [c.holds for c in result.claims] == [True]
    assert events and all(e.demo_id == "echo" and 0 < e.done <= 1 for e in events)
    assert events[0].series == {"line": [3.0]}
    assert result.versions["studyapp"] and result.versions["python"]


def test_a_demo_that_raises_is_an_error_result_and_the_worker_keeps_going(
    runner: DemoRunner,
) -> None:
    before = runner.run("echo", {}, 0)
    failed = runner.run("boom", {}, 0)
    assert failed.status == "error"
    assert failed.error == "ValueError: the fake demo broke on purpose (at boom.py line 15)"
    after = runner.run("echo", {}, 1)
    assert after.ok
    assert worker_pid(after) == worker_pid(before), "the warm worker was replaced"


def test_nan_or_infinity_in_the_output_is_an_error_naming_the_fields(runner: DemoRunner) -> None:
    result = runner.run("nan", {}, 0)
    assert result.status == "error"
    assert result.error == "the demo produced NaN or infinity in series 'loss', metric 'final_loss'"
    assert result.metrics == {} and result.claims == []
    assert runner.cached("nan", {}, 0) is None, "a failed run was cached"


def test_a_demo_past_its_time_limit_is_stopped_and_the_next_run_works(
    runner: DemoRunner,
) -> None:
    result = runner.run("sleepy", {}, 0)
    assert result.status == "timeout"
    assert result.error == "the demo ran past its 1 s time limit and was stopped"
    assert runner.run("echo", {}, 0).ok


def test_the_runners_own_time_limit_overrides_the_demos(store: Store) -> None:
    with DemoRunner(store, timeout_s=0.5, package=FAKES, preload=()) as runner:
        result = runner.run("sleepy", {}, 0)
    assert result.status == "timeout" and "0.5 s" in (result.error or "")


def test_cancel_stops_a_running_demo_and_keeps_the_worker(runner: DemoRunner) -> None:
    first = runner.run("echo", {}, 0)
    thread, results, _ = run_in_thread(runner, "slow")
    runner.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert results[0].status == "cancelled" and results[0].error == "the run was cancelled"
    again = runner.run("echo", {}, 5)
    assert again.ok and worker_pid(again) == worker_pid(first)


def test_a_demo_that_ignores_cancel_is_killed_and_replaced(runner: DemoRunner) -> None:
    first = runner.run("echo", {}, 0)
    thread, results, _ = run_in_thread(runner, "stubborn")
    runner.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert results[0].status == "cancelled"
    again = runner.run("echo", {}, 6)
    assert again.ok and worker_pid(again) != worker_pid(first)


def test_cancel_while_the_worker_starts_up_returns_at_once(store: Store) -> None:
    preload = ("tests.fake_demos._slow_import",)
    with DemoRunner(store, package=FAKES, preload=preload) as runner:
        results: list[DemoResult] = []
        thread = threading.Thread(target=lambda: results.append(runner.run("echo", {}, 0)))
        thread.start()
        while not multiprocessing.active_children():  # the run has begun and started a worker
            thread.join(0.01)
        runner.cancel()
        thread.join(60)
        assert not thread.is_alive(), "run() waited for the worker to finish starting"
        assert results[0].status == "cancelled"


def test_a_cancel_while_idle_does_not_cancel_the_next_run(runner: DemoRunner) -> None:
    runner.cancel()
    assert runner.run("echo", {}, 0).ok


def test_close_during_a_run_cancels_it(runner: DemoRunner) -> None:
    thread, results, _ = run_in_thread(runner, "slow")
    runner.close()
    thread.join(30)
    assert results[0].status == "cancelled"
    assert not multiprocessing.active_children()
    assert runner.run("echo", {}, 0).ok, "a closed runner starts a new worker when asked"


def test_a_cached_result_comes_back_without_a_worker(store: Store) -> None:
    with DemoRunner(store, package=FAKES, preload=()) as first:
        fresh = first.run("echo", {"value": 3.0}, 7)
    assert not fresh.cached
    assert not multiprocessing.active_children()

    with DemoRunner(store, package=FAKES, preload=()) as second:
        peek = second.cached("echo", {"value": 3.0}, 7)
        hit = second.run("echo", {"value": 3}, 7)  # the same value, given as an int
        assert not multiprocessing.active_children(), "a cache hit started a worker"
        assert peek is not None and peek.cached and hit.cached
        assert hit.metrics == fresh.metrics and hit.series == fresh.series
        assert hit.table == fresh.table and hit.claims == fresh.claims

        assert second.cached("echo", {"value": 3.0}, 8) is None
        assert second.cached("echo", {"value": 4.0}, 7) is None
        other_seed = second.run("echo", {"value": 3.0}, 8)
        assert not other_seed.cached and other_seed.metrics["seed"] == 8.0


def test_no_cache_runs_again_and_refreshes_the_cache(runner: DemoRunner) -> None:
    runner.run("echo", {}, 0)
    again = runner.run("echo", {}, 0, use_cache=False)
    assert not again.cached
    assert runner.run("echo", {}, 0).cached


def test_only_the_newest_results_of_a_demo_are_kept(
    runner: DemoRunner, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demos, "KEPT_PER_DEMO", 3)
    with store.write() as session:  # another demo's result, older than all: not touched
        session.add(
            DemoResultRow(
                cache_key="other", demo_id="other", payload="{}", created_at=datetime(2020, 1, 1)
            )
        )
    for seed in range(5):
        runner.run("echo", {}, seed)
    assert [seed for seed in range(5) if runner.cached("echo", {}, seed)] == [2, 3, 4]
    runner.run("echo", {}, 2, use_cache=False)  # run again: newest once more
    runner.run("echo", {}, 5)
    assert [seed for seed in range(6) if runner.cached("echo", {}, seed)] == [2, 4, 5]
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(DemoResultRow)) == 4
        assert session.scalar(select(DemoResultRow.demo_id).where(DemoResultRow.id == 1)) == "other"


def test_without_a_store_nothing_is_cached() -> None:
    with DemoRunner(None, package=FAKES, preload=()) as runner:
        runner.run("echo", {}, 0)
        assert runner.cached("echo", {}, 0) is None
        assert not runner.run("echo", {}, 0).cached


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"value": 1000.0}, "must be between .* and 100, not 1000.0"),
        ({"steps": 2.5}, "must be a whole number"),
        ({"colour": "red"}, "has no parameter 'colour'"),
    ],
)
def test_bad_parameters_are_refused_before_any_work(
    runner: DemoRunner, params: dict, message: str
) -> None:
    with pytest.raises(ParamError, match=message):
        runner.run("echo", params, 0)
    with pytest.raises(ParamError):
        runner.cached("echo", params, 0)
    assert not multiprocessing.active_children()


def test_saved_parameters_beyond_the_bounds_run_at_the_nearest_bound() -> None:
    # A card's link or a prediction kept a value that bounds narrowed since no longer allow.
    spec = get_spec("echo", FAKES)
    values, moved = spec.resolve_saved({"value": 1000.0, "steps": -3})
    assert (values["value"], values["steps"]) == (100.0, 1)
    assert moved == [
        "value 1000 is beyond this demo's bounds (0 .. 100), so it runs at 100",
        "steps -3 is beyond this demo's bounds (1 .. 1000), so it runs at 1",
    ]
    assert spec.resolve_saved({"steps": 7}) == ({**spec.defaults, "steps": 7}, [])
    # Anything else wrong with a saved value is still refused, as a link that does not work.
    for params, message in (
        ({"steps": 2.5}, "must be a whole number"),
        ({"value": float("nan")}, "must be a finite number"),
        ({"value": True}, "must be a number"),
        ({"colour": "red"}, "has no parameter 'colour'"),
    ):
        with pytest.raises(ParamError, match=message):
            spec.resolve_saved(params)


def test_an_unknown_demo_is_refused(runner: DemoRunner) -> None:
    with pytest.raises(UnknownDemoError, match="no demo 'nope'"):
        runner.run("nope", {}, 0)


def test_a_real_demo_runs_in_the_worker_and_its_claims_hold(store: Store) -> None:
    """adam_vs_sgd's tiny run, through the real worker with torch."""
    spec = get_spec("adam_vs_sgd")
    with DemoRunner(store) as runner:
        result = runner.run("adam_vs_sgd", spec.tiny, 0)
    assert result.status == "ok", result.error
    assert result.claims and all(c.holds for c in result.claims)
    assert result.series["adam"][-1] < result.series["sgd"][-1]
    assert len(result.series["adam"]) == spec.tiny["steps"]
    assert result.versions["torch"] == metadata.version("torch")
    assert set(result.versions) == {"python", "torch", "numpy", "studyapp"}
    assert result.elapsed_s > 0
