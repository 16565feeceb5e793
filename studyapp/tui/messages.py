"""Messages that workers post back to the widgets that started them.

Workers run off the UI thread; they never touch widgets, they post one of these. Progress
messages replace an older progress message of the same run that is still queued, so a fast
demo cannot flood the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from studyapp.demo_api import DemoResult
    from studyapp.model import Prediction


@dataclass
class DemoProgressed(Message):
    """A running demo reported how far it got, and maybe its curves so far."""

    run: int
    done: float
    message: str
    series: Mapping[str, Any] | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DemoProgressed) and message.run == self.run


@dataclass
class DemoFinished(Message):
    """A demo run ended: finished, failed, timed out or cancelled (see `result.status`)."""

    run: int
    result: DemoResult


@dataclass
class DemoAsking(Message):
    """The demo panel started or stopped asking its prediction questions (while it asks, a
    digit picks an option, and the review's rating keys wait)."""

    asking: bool


@dataclass
class PredictionsRevealed(Message):
    """A demo's result was shown after its questions were asked: `predictions` are the
    ones committed for that run, graded by it where it could (empty when all were
    skipped)."""

    card_id: int | None
    result: DemoResult
    predictions: list[Prediction]


@dataclass
class ImportFinished(Message):
    """An import (or its dry run) ended with a report, or with one sentence saying why not."""

    dry_run: bool
    report: Any | None
    error: str | None = None


@dataclass
class ExportFinished(Message):
    """An export was written to `path` (a file, or a folder of `written` files), or failed
    with one sentence saying why."""

    path: Path
    size: int = 0
    error: str | None = None
    written: tuple[Path, ...] = ()  # the files written into the folder `path`, if it is one


@dataclass
class DeckSaved(Message):
    """A deck's options were saved as `name` (`done` says what changed), or not, with one
    sentence saying why; `renamed` when the deck took its new name before the rest failed;
    `gone` names the deck when it was no longer there (deleted or renamed elsewhere)."""

    name: str
    done: str = ""
    error: str | None = None
    renamed: bool = False
    gone: str | None = None


@dataclass
class StartReview(Message):
    """Ask the app to open a review of `deck` (None: all decks)."""

    deck: str | None
