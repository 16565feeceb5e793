"""The TUI on a temporary collection: fixed clock, fixed cards, a stub demo runner and library.

No test here imports torch: the stub runner returns canned results.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot

from studyapp.db import Store, open_store
from studyapp.db.store import list_backups
from studyapp.demo_api import Claim, DemoResult, PlotSpec, Table, get_spec
from studyapp.demo_api.result import PredictionResult
from studyapp.formats import Skipped
from studyapp.model import Card, DemoLink
from studyapp.services.cards import CardService
from studyapp.services.server_backups import ServerBackups
from studyapp.services.stats import StatsService
from studyapp.services.study import StudySession
from studyapp.tui.app import StudyApp, create_app

NOW = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
LITERAL_FRONT = "Update rule: w[i] <- w[i] - lr * g[i]"
LITERAL_BACK = "[bold]x[/bold] and [/] and [link=x]click[/link] are plain text"
TAKEAWAY = "Adam gets the loss down in far fewer steps than plain SGD."
CLAIM_TRUE = "Adam's final loss (0.1) is below SGD's (0.7)"
CLAIM_FALSE = "SGD reaches the loss target within the budget"
CLAIM_CHECK = "In eval mode dropout is the identity (max change 0)"
# What the canned runs answer to the demos' prediction questions (else the first option).
CANNED_ANSWERS = {"first_to_target": "Adam"}
WHY = "Loss 0.3 was reached by: Adam step 2, SGD with momentum not in 4 steps."


def fixed_clock() -> datetime:
    return NOW


@dataclass(frozen=True)
class FakeProgress:
    demo_id: str
    done: float
    message: str
    series: dict[str, Any] | None


def canned_result(demo_id: str, params: Mapping[str, Any], seed: int) -> DemoResult:
    questions = get_spec(demo_id).questions
    return DemoResult(
        id=demo_id,
        params=dict(params),
        seed=seed,
        elapsed_s=1.5,
        series={"adam": [1.0, 0.5, 0.2, 0.1], "sgd": [1.0, 0.9, 0.8, 0.7]},
        table=Table.of(
            ["optimizer", "final loss", "note"], [["adam", 0.1, "[b]x"], ["sgd", 0.7, ""]]
        ),
        metrics={"adam_final": 0.1, "sgd_final": 0.7},
        claims=[Claim(CLAIM_TRUE, True), Claim(CLAIM_FALSE, False), Claim.check(CLAIM_CHECK, True)],
        takeaway=TAKEAWAY,
        plot=PlotSpec(title="training loss", x_label="step", y_label="loss", log_y=True),
        predictions=[
            PredictionResult(q.id, q.text, q.options, CANNED_ANSWERS.get(q.id, q.options[0]), WHY)
            for q in questions
        ],
    )


class FakeRunner:
    """The demo runner's methods, with canned results and no worker process.

    `block=True` makes `run` wait until `cancel()` (like a long demo); `fail` returns an
    error result; `cache` maps (demo id, seed) to results that `cached` returns at once.
    """

    def __init__(self, *, block: bool = False, fail: str | None = None) -> None:
        self.block = block
        self.fail = fail
        self.calls: list[tuple[str, dict[str, Any], int]] = []
        self.cache: dict[tuple[str, int], DemoResult] = {}
        self.started = threading.Event()
        self.cancelled = threading.Event()
        self.warmed = False
        self.closed = False

    def cached(self, demo_id: str, params: Mapping[str, Any], seed: int) -> DemoResult | None:
        return self.cache.get((demo_id, seed))

    def run(
        self,
        demo_id: str,
        params: Mapping[str, Any],
        seed: int,
        on_progress: Callable[[Any], None] | None = None,
        use_cache: bool = True,
    ) -> DemoResult:
        self.calls.append((demo_id, dict(params), seed))
        if on_progress is not None:
            on_progress(FakeProgress(demo_id, 0.5, "step 2 of 4", {"adam": [1.0, 0.5]}))
        self.started.set()
        if self.block:
            self.cancelled.wait(timeout=30)
            return DemoResult.failure(demo_id, dict(params), seed, 0.2, "cancelled", "cancelled")
        if self.fail:
            return DemoResult.failure(demo_id, dict(params), seed, 0.1, "error", self.fail)
        return canned_result(demo_id, params, seed)

    def cancel(self) -> None:
        self.cancelled.set()

    def warm_up(self) -> None:
        self.warmed = True

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeReport:
    format: str
    deck: str | None
    added: int
    updated: int
    unchanged: int
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class FakeLibrary:
    """Import and export without formats: records calls, returns a fixed report and bytes."""

    def __init__(self) -> None:
        self.imports: list[tuple[list[Path], str | None, str | None, bool]] = []
        self.exports: list[tuple[str, str | None]] = []
        self.decks = ["Basics", "Optimizers"]

    def import_files(
        self,
        paths: Sequence[Path],
        format: str | None = None,
        deck: str | None = None,
        dry_run: bool = False,
    ) -> FakeReport:
        self.imports.append((list(paths), format, deck, dry_run))
        return FakeReport(
            "csv", deck or "Imported", 2, 0, 1, [Skipped("line 4", "the back is empty")], ["w1"]
        )

    def export(self, format: str, deck: str | None = None) -> bytes:
        self.exports.append((format, deck))
        return b"front,back\n"

    def export_to_folder(self, format: str, deck: str | None, folder: Path) -> list[Path]:
        """One file per deck named in `decks` (all of them when `deck` is None)."""
        written = []
        for name in [deck] if deck else self.decks:
            path = folder / f"{name.lower()}.{format}"
            path.write_bytes(self.export(format, name))
            written.append(path)
        return written


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    """The app's collection, on each store (SQLite, PostgreSQL)."""
    opened = open_store(db)
    yield opened
    opened.dispose()


@pytest.fixture
def cards(store: Store) -> list[Card]:
    """Two decks: Basics (two plain cards), Optimizers (one literal-text card, two demos)."""
    service = CardService(store, fixed_clock)
    return [
        service.add(
            "Optimizers",
            "What does Adam add to SGD with momentum?",
            "Per-parameter step sizes from a running mean of squared gradients.",
            tags=("optimizers", "adam"),
            demo=DemoLink("adam_vs_sgd", {"steps": 200}),
        ),
        service.add("Optimizers", LITERAL_FRONT, LITERAL_BACK, tags=("sgd",)),
        service.add(
            "Optimizers",
            "Why does momentum help in a ravine?",
            "It averages out the zig-zag across the ravine and builds speed along it.",
            demo=DemoLink("momentum_ravine"),
        ),
        service.add("Basics", "What is an epoch?", "One pass over the training set."),
        service.add("Basics", "What is a minibatch?", "A few samples per gradient step."),
    ]


@pytest.fixture
def db_backups(store: Store) -> Callable[[], list[Path]]:
    """The backups made of the collection so far (JSON backups, for a server)."""
    path = store.path
    if path is None:
        return ServerBackups(store).backups
    return lambda: list_backups(path)


class PromptClock:
    """The prediction prompt's clock, moved by hand (see `prompt_clock`)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def wait_out_typing(self) -> None:
        """Let the keys held after a form's enter (typed on for the field) through."""
        from studyapp.tui.widgets import prediction_prompt

        self.now += prediction_prompt.TYPED_AHEAD_S


@pytest.fixture
def prompt_clock(monkeypatch: pytest.MonkeyPatch) -> PromptClock:
    """A test that answers a question asked after enter in a demo's form waits out the
    hold on its keys by `wait_out_typing`, never by how long a step happened to take."""
    from studyapp.tui.widgets import prediction_prompt

    clock = PromptClock()
    monkeypatch.setattr(prediction_prompt, "monotonic", lambda: clock.now)
    return clock


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def library() -> FakeLibrary:
    return FakeLibrary()


@pytest.fixture
def make_app(store: Store, runner: FakeRunner, library: FakeLibrary) -> Callable[..., StudyApp]:
    def make(**kwargs: Any) -> StudyApp:
        kwargs.setdefault("runner", runner)
        kwargs.setdefault("library", library)
        return create_app(store, clock=fixed_clock, rng=random.Random(7), **kwargs)

    return make


def review_count(store: Store) -> int:
    return StatsService(store, fixed_clock).compute().total_reviews


async def settle(pilot: Pilot[Any]) -> None:
    """Let workers finish and their messages land."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def text_of(app: StudyApp, selector: str) -> str:
    """What a Static shows, as plain text."""
    widget = app.screen.query_one(selector)
    return str(widget.render())


def lines_of(app: StudyApp, selector: str) -> list[str]:
    """What a widget shows on screen, line by line, as plain text."""
    widget = app.screen.query_one(selector)
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return [strip.text.rstrip() for strip in strips]


def study(store: Store, moment: datetime, ratings: Mapping[int, int], default: int = 4) -> None:
    """A whole session at `moment`: each card gets its rating (drill repeats get 4)."""
    session = StudySession(store, None, lambda: moment)
    while (card := session.current) is not None:
        first = session.current_kind != "drill"
        session.answer(ratings.get(card.id, default) if first else 4, duration_ms=4000)


@pytest.fixture
def history(store: Store, cards: list[Card]) -> list[Card]:
    """Three days of study before NOW: everything learnt, one lapse, one relearn."""
    study(store, NOW - timedelta(days=3), {})
    study(store, NOW - timedelta(days=2), {cards[0].id: 2})
    study(store, NOW - timedelta(days=1), {})
    return cards
