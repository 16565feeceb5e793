"""`studyapp demo list` and `studyapp demo run` as people and scripts use them."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from studyapp.cli import demo as demo_cli
from studyapp.cli import main
from studyapp.db import Store
from studyapp.demo_api import DemoResult, PlotSpec, demo_ids, get_spec
from studyapp.services.demos import DemoRunner
from tests.backends import holds_anything

CONTRACT_KEYS = {"id", "params", "seed", "elapsed_s", "series", "table", "metrics", "claims"}
CONTRACT_KEYS |= {"takeaway", "predictions"}
ROOT = Path(__file__).resolve().parents[2]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """`demo run` on the catalogue of fake demos, with a worker that skips torch."""
    monkeypatch.setattr(demo_cli, "CATALOGUE", "tests.fake_demos")

    def make_runner(store: Store) -> DemoRunner:
        return DemoRunner(store, package="tests.fake_demos", preload=())

    monkeypatch.setattr(demo_cli, "make_runner", make_runner)


def test_list_json_names_every_demo_with_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "list", "--json")
    assert code == 0 and err == ""
    specs = json.loads(out)
    assert [s["id"] for s in specs] == demo_ids()
    adam = next(s for s in specs if s["id"] == "adam_vs_sgd")
    assert adam["title"] and adam["summary"] and adam["topics"]
    steps = next(p for p in adam["params"] if p["name"] == "steps")
    assert steps == {
        "name": "steps",
        "type": "int",
        "default": 400,
        "low": 20,
        "high": 2000,
        "choices": [],
        "help": steps["help"],
    }


def test_list_prints_a_table_of_ids_and_titles(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "list")
    assert code == 0
    for demo_id in demo_ids():
        assert f"\n{demo_id} " in out
    assert "Adam vs SGD vs momentum" in out


def test_run_json_follows_the_contract_and_comes_from_the_cache_the_second_time(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = get_spec("adam_vs_sgd").tiny
    argv = ["demo", "run", "adam_vs_sgd", "--db", db, "--json", "--seed", "1"]
    for key, value in tiny.items():
        argv += ["--set", f"{key}={value}"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= CONTRACT_KEYS
    assert result["id"] == "adam_vs_sgd" and result["seed"] == 1 and result["status"] == "ok"
    assert result["params"]["steps"] == tiny["steps"] and result["params"]["lr_adam"] == 0.1
    assert set(result["series"]) == {"sgd", "momentum", "adam"}
    assert result["table"]["columns"][0] == "optimizer"
    assert all(set(c) == {"text", "holds", "kind"} for c in result["claims"])
    assert {c["kind"] for c in result["claims"]} <= {"experiment", "check"}
    assert result["cached"] is False

    code, out, _ = run(capsys, *argv)
    again = json.loads(out)
    assert code == 0 and again["cached"] is True
    assert again["metrics"] == result["metrics"]

    # The same run without --json, from the cache: table, plot, claims, takeaway.
    code, out, err = run(capsys, *[a for a in argv if a != "--json"])
    assert code == 0 and err == ""
    assert "from the cache" in out
    assert "optimizer" in out and "adam" in out
    assert "training loss" in out  # the plot's title
    for claim in result["claims"]:
        assert ("✓ " if claim["holds"] else "✗ ") + claim["text"] in out
    assert result["takeaway"] in out
    assert "\x1b[" not in out, "colour codes written to a file"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adam_vs_sgd", "--set", "steps=999999"], "'steps' must be between 20 and 2000"),
        (["adam_vs_sgd", "--set", "steps=ten"], "'steps' must be a number"),
        (["adam_vs_sgd", "--set", "steps=1.505E2"], "'steps' must be a whole number, not 150.5"),
        (["adam_vs_sgd", "--set", "steps=1E400"], "'steps' must be a finite number, not '1E400'"),
        (["adam_vs_sgd", "--set", "steps=" + "9" * 5000], "'steps' must be a finite number"),
        (["adam_vs_sgd", "--set", "steps=1E4"], "'steps' must be between 20 and 2000, not 10000"),
        (
            ["adam_vs_sgd", "--set", "lr_adam=" + "9" * 400],
            "'lr_adam' must be between 1e-05 and 1, not 99999999999999999999... (400 characters)",
        ),
        (["adam_vs_sgd", "--set", "wings=2"], "has no parameter 'wings'"),
        (["adam_vs_sgd", "--set", "steps"], "--set takes KEY=VALUE"),
        (
            ["adam_vs_sgd", "--set", "steps=100", "--set", "steps=200"],
            "demo adam_vs_sgd: steps is given twice",
        ),
        (["adam_vs_sgd", "--seed", "-1"], "--seed must be between 0"),
        (["no_such_demo"], "there is no demo 'no_such_demo'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_work(
    db: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "demo", "run", *args, "--db", db, "--json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err
    assert not holds_anything(db), "the collection was opened before the input was checked"


@pytest.mark.parametrize(("typed", "steps"), [("1E2", 100), ("1e2", 100), ("2.0", 2), ("7", 7)])
def test_a_whole_number_can_be_written_as_a_float(
    fakes: None, db_path: Path, capsys: pytest.CaptureFixture[str], typed: str, steps: int
) -> None:
    code, out, err = run(
        capsys, "demo", "run", "echo", "--set", f"steps={typed}", "--db", str(db_path), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["params"]["steps"] == steps
    assert type(json.loads(out)["params"]["steps"]) is int


def test_a_failed_demo_exits_2_with_its_error(
    fakes: None, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo", "run", "boom", "--db", db)
    assert code == 2 and out == ""
    assert err == (
        "studyapp: demo boom failed: ValueError: the fake demo broke on purpose "
        "(at boom.py line 15)\n"
    )
    code, out, err = run(capsys, "demo", "run", "nan", "--db", db, "--json")
    assert code == 2 and json.loads(out)["status"] == "error"
    assert "NaN or infinity" in err


def test_a_fake_run_prints_its_plot_with_every_series(
    fakes: None, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo", "run", "echo", "--set", "steps=20", "--db", db)
    assert code == 0
    assert "Echo (echo), seed 0" in out and "steps=20" in out
    assert "line" in out and "flat" in out  # the legend
    assert "✓ the line ends above zero" in out


def test_a_log_axis_over_many_decades_is_labelled_in_a_few_short_values() -> None:
    # A curve that collapses to 1e-40 next to one near 1, as a too-small init does.
    result = DemoResult(
        "any",
        {},
        0,
        0.1,
        series={
            "kept": {"x": [1, 2, 3], "y": [0.7, 0.6, 0.55]},
            "collapsed": {"x": [1, 2, 3], "y": [0.1, 1e-20, 1e-40]},
            "dead": {"x": [1, 2, 3], "y": [0.0, 0.0, 0.0]},  # nothing a log axis can show
        },
        plot=PlotSpec(title="std per layer", x_label="layer", y_label="std", log_y=True),
    )
    text = demo_cli.render_plot(result, colour=False, width=80)
    labels = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
    assert "1" in labels and "1e-35" in labels and 3 <= len(labels) <= 7, labels
    assert all(len(label) <= 6 for label in labels), labels
    assert "std (log scale)" in text and "kept" in text and "collapsed" in text
    assert "dead" not in text  # no points, so no legend entry


def test_a_plot_with_nothing_to_draw_prints_nothing() -> None:
    result = DemoResult("any", {}, 0, 0.1, series={"zeros": [0.0, 0.0]}, plot=PlotSpec(log_y=True))
    assert demo_cli.render_plot(result, colour=False, width=80) == ""


def run_fake_demo(demo_id: str, db: str, **popen: Any) -> subprocess.Popen[str]:
    """`studyapp demo run DEMO_ID` in a process of its own, on the fake catalogue."""
    script = (
        "import sys\n"
        "from studyapp.cli import demo, main\n"
        "from studyapp.services.demos import DemoRunner\n"
        "demo.CATALOGUE = 'tests.fake_demos'\n"
        "demo.make_runner = lambda store: DemoRunner(store, package=demo.CATALOGUE, preload=())\n"
        f"sys.exit(main(['demo', 'run', {demo_id!r}, '--db', {db!r}]))\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        **popen,
    )


def test_ctrl_c_during_a_run_exits_130_without_a_traceback(db: str) -> None:
    proc = run_fake_demo(
        "slow", db, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    time.sleep(3)  # let the worker start the demo; a Ctrl-C any earlier must end as cleanly
    os.killpg(proc.pid, signal.SIGINT)  # as the terminal does: to every process in the group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "studyapp: interrupted\n"
    assert out == ""


def test_the_command_line_reads_the_real_catalogue_by_default() -> None:
    from studyapp.cli import demo as demo_cli
    from studyapp.demo_api.registry import DEMO_PACKAGE

    assert demo_cli.CATALOGUE == DEMO_PACKAGE


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.0431, "43 ms"), (0.9994, "999 ms"), (1.5, "1.5 s"), (12.34, "12.3 s")]
)
def test_a_run_time_reads_in_milliseconds_under_a_second(seconds: float, shown: str) -> None:
    assert DemoResult("any", {}, 0, seconds).took == shown


def test_a_value_quoted_as_a_deck_file_quotes_it_is_read_as_its_text() -> None:
    """A deck file's demo line may quote a value as a JSON string; `--set` and `add --demo`
    refused the same value quoted."""
    from studyapp.demo_api.registry import parse_link

    assert parse_link('adam_vs_sgd device="cpu" steps=100') == (
        "adam_vs_sgd",
        {"device": "cpu", "steps": 100},
    )


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(
    not Path(f"/proc/self/task/{os.getpid()}/children").exists(),
    reason="finds the worker through /proc/PID/task/TID/children",
)
def test_a_demo_worker_stops_once_the_command_that_started_it_is_killed(db: str) -> None:
    """Killing `studyapp demo run` ended the command, but its worker ran the demo to the end
    (a demo between two progress reports, here one that sends none), using the cores with no
    one to read its result."""
    proc = run_fake_demo("stubborn", db, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (workers := _children(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers, "the worker never started"
    time.sleep(2)  # the demo is running
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        for worker in workers:  # reap it if it was ours to reap (it is not: it is orphaned)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(worker, os.WNOHANG)
        time.sleep(0.1)
    alive = [w for w in workers if _running(w)]
    assert alive == [], "the worker went on after the command was killed"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in "ZX"  # a zombie has stopped; only its entry is left
