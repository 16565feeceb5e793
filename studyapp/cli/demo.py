"""`studyapp demo list` and `studyapp demo run`: the demo catalogue from the command line.

Listing reads the specs only (no torch). A run validates every `--set` and `--predict`
against the demo's parameters and questions before any work, commits the predictions to the
collection before the run starts (so a cached result changes nothing about what was
predicted), then goes through the same runner and cache as the TUI, grades the predictions
by the run's own answers, and prints whether they were right, then the result as a table, a
terminal plot, the claims and the takeaway (or, with `--json`, the result dict that scripts
rely on).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, TextIO

from studyapp.cli.output import print_json, print_table, say, say_wrapped
from studyapp.errors import CollectionError, UserError
from studyapp.terminal import one_line

if TYPE_CHECKING:
    from studyapp.db import Store
    from studyapp.demo_api import DemoResult, DemoSpec, Question
    from studyapp.model import Prediction
    from studyapp.services.demos import DemoProgress, DemoRunner

CATALOGUE = "demos"  # the catalogue package `demo list` and `demo run` read (tests use fakes)
MAX_SEED = 2**32 - 1
PLOT_HEIGHT = 18
PLOT_MAX_WIDTH = 100
CLAIM_HEADINGS = {
    "experiment": "Experiments (could have come out otherwise):",
    "check": "Checks (identities verified on the run's numbers):",
}
# Told apart by shape when the plot has no colours.


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    demo = commands.add_parser(
        "demo",
        parents=[common],
        help="list and run the PyTorch demos",
        description="The demo catalogue: every card's idea as a small experiment you can run.",
    )
    demo.set_defaults(handler=lambda args: demo.print_help())
    sub = demo.add_subparsers(title="commands", metavar="COMMAND", parser_class=type(demo))

    listing = sub.add_parser("list", parents=[common], help="every demo: id, title, topics")
    listing.add_argument("--json", action="store_true", help="print the specs as JSON")
    listing.set_defaults(handler=run_list)

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run a demo and show its plot, table, claims and takeaway",
        description="Run a demo. A run seen before (same parameters, seed and demo code) comes "
        "from the collection's cache at once. Exit status 2 if the demo failed.",
    )
    run.add_argument("id", metavar="ID", help="the demo's id (`studyapp demo list`)")
    run.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set a parameter (repeatable); `studyapp demo list --json` shows them",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument("--no-cache", action="store_true", help="run again even if cached")
    run.add_argument(
        "--predict",
        metavar="OPTION",
        action="append",
        default=[],
        help="predict the outcome before the run: an option's text or its number, once per "
        "question in order (`studyapp demo list --json` lists them); kept in the collection "
        "and graded by the run",
    )
    run.set_defaults(handler=run_demo)


def run_list(args: argparse.Namespace) -> int:
    from studyapp.demo_api import all_specs

    specs = all_specs(CATALOGUE)
    if args.json:
        print(json.dumps([spec.to_dict() for spec in specs], indent=2))
        return 0
    room = shutil.get_terminal_size((100, 24)).columns - 4
    room -= (max(len(s.id) for s in specs) + max(len(s.title) for s in specs)) if specs else 0
    rows = [[s.id, s.title, _shorten(", ".join(s.topics), max(room, 20))] for s in specs]
    print_table(["Id", "Title", "Topics"], rows)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.demo_api import get_spec
    from studyapp.services.predictions import PredictionService

    spec = get_spec(args.id, CATALOGUE)
    overrides = spec.parse_overrides(args.set)
    if not 0 <= args.seed <= MAX_SEED:
        raise UserError(f"--seed must be between 0 and {MAX_SEED}, not {args.seed}")
    picks = read_predictions(spec, args.predict)
    store = open_store(args.db)
    bar: _ProgressBar | None = None
    graded: list[Prediction] = []
    ids: list[int] = []
    try:
        predictions = PredictionService(store, package=CATALOGUE)
        # Committed before the run starts: what was predicted cannot depend on the result.
        ids = predictions.record(None, spec.id, spec.resolve(overrides), args.seed, picks)
        if not args.json and sys.stderr.isatty():
            bar = _ProgressBar(sys.stderr, spec.id)
        with make_runner(store) as runner:
            result = runner.run(
                spec.id, overrides, args.seed, on_progress=bar, use_cache=not args.no_cache
            )
        if bar is not None:
            bar.clear()
            bar = None
        graded = predictions.grade(ids, result)
    except CollectionError as exc:
        if not ids:
            raise
        saved = "your prediction was saved before the run, and stays ungraded"
        message = exc.message.removesuffix("; nothing was saved")
        raise CollectionError(f"{message} ({saved})") from None
    finally:
        if bar is not None:
            bar.clear()
        store.dispose()
    if args.json:
        print_json(with_predicted(result, graded) if picks else result.to_dict(), indent=2)
    else:
        if picks:
            show_predictions(graded, result)
        if result.ok:
            show(spec, result)
    if not result.ok:
        say(f"studyapp: demo {spec.id} failed: {one_line(result.error)}", file=sys.stderr)
        return 2
    return 0


def read_predictions(spec: DemoSpec, given: list[str]) -> list[tuple[Question, str]]:
    """`--predict` values as (question, option), in the order of the spec's questions;
    anything that is not an option of its question is a UserError before any work."""
    from studyapp.demo_api import OptionError

    if not given:
        return []
    asked = len(spec.questions)
    if not asked:
        raise UserError(f"demo {spec.id} asks no prediction questions: drop --predict")
    if len(given) > asked:
        raise UserError(
            f"demo {spec.id} asks {asked} question{'s' if asked > 1 else ''}, "
            f"but --predict was given {len(given)} times"
        )
    picks = []
    for number, (question, text) in enumerate(zip(spec.questions, given, strict=False), start=1):
        try:
            picks.append((question, question.option(text)))
        except OptionError as exc:
            raise UserError(
                f"--predict for question {number} ({question.id}): {exc.message}"
            ) from None
    return picks


def with_predicted(result: DemoResult, graded: list[Prediction]) -> dict[str, Any]:
    """The result dict with each prediction's `predicted` option and whether it was
    `correct` (null for a question not predicted, or a run that could not grade it)."""
    data = result.to_dict()
    mine = {p.question_id: p for p in graded}
    for entry in data["predictions"]:
        prediction = mine.get(entry["id"])
        entry["predicted"] = prediction.chosen if prediction else None
        entry["correct"] = prediction.correct if prediction else None
    return data


def show_predictions(graded: list[Prediction], result: DemoResult) -> None:
    """Whether each prediction was right, before the result: the option predicted, the
    run's answer and why."""
    for prediction in graded:
        say(f"{prediction.question}")
        if prediction.correct is None:
            reason = "it failed" if not result.ok else "it gave no answer to this question"
            say(f"  You predicted: {prediction.chosen}. Not graded: {reason}.")
        else:
            verdict = "Right" if prediction.correct else "Wrong"
            say(f"  You predicted: {prediction.chosen}. {verdict}: it was {prediction.answer}.")
            if prediction.why:
                say(f"  {prediction.why}")
    if graded:
        print()


def make_runner(store: Store) -> DemoRunner:
    """The runner `demo run` uses."""
    from studyapp.services.demos import DemoRunner

    return DemoRunner(store, package=CATALOGUE)


def show(spec: DemoSpec, result: DemoResult) -> None:
    """The result for a person, on stdout: heading, table, plot, claims and takeaway."""
    source = "from the cache" if result.cached else result.took
    say(f"{spec.title} ({spec.id}), seed {result.seed}, {source}")
    changed = {k: v for k, v in result.params.items() if spec.defaults.get(k) != v}
    if changed:
        say("  " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    print()
    if result.table.columns:
        print_table(result.table.columns, result.table.rows)
        print()
    plot = render_plot(result, colour=_wants_colour(sys.stdout))
    if plot:
        print(plot)
        print()
    if result.setup:
        say_wrapped(result.setup)
        print()
    yes, no = ("✓", "✗") if _can_write(sys.stdout, "✓✗•") else ("yes", "NO")
    for kind, heading in CLAIM_HEADINGS.items():
        claims = [c for c in result.claims if c.kind == kind]
        if claims:
            print(heading)
            for claim in claims:
                mark = yes if claim.holds else no
                say_wrapped(claim.text, f"  {mark} ", " " * (len(mark) + 3))
    if result.takeaway:
        print()
        say_wrapped(result.takeaway)


def render_plot(result: DemoResult, colour: bool, width: int | None = None) -> str:
    """The result's series as a plotext chart, or "" when there is nothing to draw."""
    import plotext as plt

    from studyapp.demo_api.plot import PLAIN_MARKERS, plot_series

    columns = width or min(shutil.get_terminal_size((80, 24)).columns, PLOT_MAX_WIDTH)
    plt.clear_figure()
    plt.plotsize(columns, PLOT_HEIGHT)
    if not colour:
        plt.theme("clear")

    def marker(i: int) -> str | None:
        return None if colour else PLAIN_MARKERS[i % len(PLAIN_MARKERS)]

    if not plot_series(plt, result.series, result.plot, marker):
        plt.clear_figure()
        return ""
    text = plt.build()
    plt.clear_figure()
    return text if colour else plt.uncolorize(text)


class _ProgressBar:
    """One self-rewriting line on stderr while a demo runs."""

    WIDTH = 30

    def __init__(self, stream: TextIO, demo_id: str) -> None:
        self.stream = stream
        self.demo_id = demo_id
        self._draw(0.0, "starting")

    def __call__(self, progress: DemoProgress) -> None:
        self._draw(progress.done, progress.message)

    def _draw(self, done: float, message: str) -> None:
        done = min(max(done, 0.0), 1.0) if math.isfinite(done) else 0.0
        filled = round(done * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{self.demo_id} [{bar}] {done:4.0%} {message[:30]}\x1b[K")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip(" ,") + "…"


def _wants_colour(out: TextIO) -> bool:
    return out.isatty() and "NO_COLOR" not in os.environ


def _can_write(out: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(out, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
