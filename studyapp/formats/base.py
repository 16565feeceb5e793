"""The types every format shares: what a parser returns and what an exporter is given.

A parser reads a file into plain card drafts plus a list of entries it could not take; the
library service maps drafts onto the collection. No format touches the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, NamedTuple

from studyapp.errors import UserError
from studyapp.model import BundledChanges, DemoLink
from studyapp.scheduling import SM2State
from studyapp.scheduling.fsrs import FSRSMemory


class FormatError(UserError):
    """A file that cannot be read as the format it claims to be.

    Build it with `FormatError.at(path, where, reason)` so the sentence always names the file
    and the place: "deck.csv, line 12: unclosed quote".
    """

    @classmethod
    def at(cls, path: Path | str, where: str | None, reason: str) -> FormatError:
        place = f"{path}, {where}" if where else f"{path}"
        return cls(f"{place}: {reason}")


class ReviewDraft(NamedTuple):
    """One review log entry carried by a file (the JSON backup), or read for an export."""

    at: datetime
    study_day: date
    rating: int
    duration_ms: int
    kind: str
    before: SM2State
    after: SM2State
    memory_before: FSRSMemory | None = None
    memory_after: FSRSMemory | None = None
    imported: bool = False  # brought in from another app's history


class PredictionDraft(NamedTuple):
    """A prediction of a demo's outcome carried by a file (the JSON backup), or read for one.

    `card` is the file's id of the card whose demo it was (None: made on no card, from the
    command line); `answer`, `why` and `correct` are None for a run that never finished.
    """

    card: str | None
    demo: str
    params: Mapping[str, Any]
    seed: int
    question_id: str
    question: str
    predicted: str
    answer: str | None
    why: str | None
    correct: bool | None
    at: datetime  # aware


class CardDraft(NamedTuple):
    """A card as read from a file, before it meets the collection.

    `key` is the file's own stable id for the card (native id, Anki note guid and card
    ordinal, JSON id); without one the library matches cards by content. `deck` is the deck
    named inside the file, if the format has decks. `where` locates the entry for reports.
    `state`, `reviews`, `suspended`, `memory` (the FSRS memory state) and `buried_until` (the
    first day a buried card shows again) are only carried by formats that keep scheduling.

    A named tuple rather than a frozen dataclass: importers build one per card, hundreds of
    thousands per file, and a tuple is built several times faster.
    """

    front: str
    back: str
    tags: tuple[str, ...] = ()
    source: str = ""
    key: str | None = None
    deck: str | None = None
    demo: DemoLink | None = None
    where: str = ""
    state: SM2State | None = None
    reviews: tuple[ReviewDraft, ...] = ()
    suspended: bool = False
    memory: FSRSMemory | None = None
    buried_until: date | None = None


@dataclass(frozen=True)
class Skipped:
    """An entry that was not taken, and why."""

    where: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"where": self.where, "reason": self.reason}


@dataclass(frozen=True)
class DeckDraft:
    """A deck as a file that holds several describes it (the JSON backup), empty ones too."""

    name: str
    description: str | None = None
    settings: dict[str, Any] | None = None


# The optional card fields a file can set; `ParseResult.carries` names those a format has.
OPTIONAL_FIELDS = frozenset({"tags", "source", "demo"})


@dataclass
class ParseResult:
    """Everything a parser found in one file.

    `carries` names the optional fields (of OPTIONAL_FIELDS) the file really holds, so a
    re-import never clears what the format cannot express (a CSV has no demo column); None
    means all of them.
    """

    format: str
    cards: list[CardDraft] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    deck_name: str | None = None  # the file's own title for its deck, if it has one
    deck_settings: dict[str, Any] | None = None  # limits carried by a backup
    description: str | None = None  # the file's own description of its deck, if it has one
    decks: list[DeckDraft] = field(default_factory=list)  # for files that hold several decks
    carries: frozenset[str] | None = None
    predictions: list[PredictionDraft] = field(default_factory=list)  # carried by a backup
    bundled_changes: BundledChanges | None = None  # carried by a backup


class ExportCard(NamedTuple):
    """A card handed to an exporter: everything the collection knows about it.

    Named tuples, like `CardDraft` and `ReviewDraft`: an export builds one per card and
    review, a million for a large collection.
    """

    uid: str
    front: str
    back: str
    tags: tuple[str, ...]
    source: str
    demo: DemoLink | None
    state: SM2State
    reviews: tuple[ReviewDraft, ...]
    suspended: bool
    position: int
    memory: FSRSMemory | None = None
    buried_until: date | None = None


@dataclass(frozen=True)
class ExportDeck:
    name: str
    cards: tuple[ExportCard, ...]
    description: str = ""
    settings: dict[str, Any] | None = None


Parser = Callable[[Path], ParseResult]
Exporter = Callable[[Sequence[ExportDeck]], bytes]
# An export that also carries the collection's demo predictions (the JSON backup).
HistoryExporter = Callable[[Sequence[ExportDeck], Sequence[PredictionDraft]], bytes]


@dataclass(frozen=True)
class FormatSpec:
    """One file format: how to recognise it, read it and (if it can) write it.

    `sniff(path, head)` gets the file's first bytes and returns a confidence from 0 (not this
    format) to 1 (certainly this format); detection picks the most confident. `text` says the
    export is text, so it can go to standard output. `card_fields` names the `ExportCard`
    fields the export writes, if not all of them: the collection reads no others for it
    and leaves them empty (no source, demo, schedule or history). `export_predictions`, for
    a format that keeps the predictions made on demos too, exports the decks with them.
    """

    name: str
    description: str
    extensions: tuple[str, ...] = ()
    sniff: Callable[[Path, bytes], float] | None = None
    parse: Parser | None = None
    export: Exporter | None = None
    text: bool = True
    card_fields: frozenset[str] | None = None
    export_predictions: HistoryExporter | None = None


def file_name_text(path: Path) -> str:
    """The file's name as text a card can keep (its source): bytes of the name that are not
    UTF-8, which the system allows, become U+FFFD."""
    return os.fsencode(path.name).decode("utf-8", "replace")
