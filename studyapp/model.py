"""Plain values that cross layers: the database hands these to services, the TUI and formats.

No ORM object outlives its session; what leaves the database is one of these frozen types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from studyapp.numbers import is_finite
from studyapp.scheduling import DEFAULT_DAY_START_HOUR, SM2State
from studyapp.scheduling.fsrs import (
    DEFAULT_DESIRED_RETENTION,
    DEFAULT_SCHEDULER,
    MAX_DESIRED_RETENTION,
    MIN_DESIRED_RETENTION,
    SCHEDULERS,
    FSRSMemory,
    FSRSSettings,
    parameters_problem,
)

LEECH_TAG = "leech"
LEECH_LAPSES = 8
DEFAULT_NEW_PER_DAY = 20
DEFAULT_REVIEWS_PER_DAY = 200
# What a review was: a new card's first rating, a review, a relearning after a lapse, a
# same-day repeat that changes nothing (a drill), or a review ahead of the due date (early).
REVIEW_KINDS = ("new", "review", "relearn", "drill", "early")
# What a learner did to the bundled deck that its updates respect (`BundledChanges`).
BUNDLED_CHANGE_KINDS = ("deleted_card", "deleted_deck", "renamed_deck")
MAX_PER_DAY = 100_000  # a daily limit above this is no limit at all
MAX_REVIEW_MS = 24 * 60 * 60 * 1000  # the time one rating took, as a file can give it
MAX_SEED = 2**32 - 1  # a demo run's seed
MAX_QUESTION_ID = 64  # characters of a prediction's question id

_TAG_SPACE = re.compile(r"\s+")

MAX_DECK_NAME = 200  # characters; the column holds 255
MAX_DEMO_NAME = 64  # a demo id or parameter name
# What no text the app keeps may hold: NUL (no text file, so no deck file or CSV, can carry
# it) and lone surrogates (not text at all: they cannot be written as UTF-8).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# A demo id or parameter name is one word of a deck file's `demo:` line.
_DEMO_NAME = re.compile(f'[^\\s"=\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff]{{1,{MAX_DEMO_NAME}}}')
# A card's id as the collection keeps it: a file's own id when it is one of these, else a
# stand-in made of these characters (so every id can be written to a deck file).
CARD_UID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be kept in a card (one phrase), or None if it can."""
    if "\x00" not in text and text.isascii():
        return None  # the usual answer, found far faster than by the search below
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "holds a NUL character, which no deck file or CSV can carry"
    return "holds a lone surrogate, which is not text"


def named_alike(names: Iterable[str], wanted: str) -> str | None:
    """`wanted` if it is one of `names`, else the one of them that is `wanted` but for letter
    case (as Anki, which keeps one deck for "Optimizers" and "optimizers", tells deck names
    apart); None when none is, or when several are and only the exact name would say which."""
    folded = wanted.casefold()
    alike = [name for name in names if name.casefold() == folded]
    if wanted in alike:
        return wanted
    return alike[0] if len(alike) == 1 else None


def deck_name_problem(name: str) -> str | None:
    """Why `name` cannot name a deck (one sentence), or None if it can.

    A deck name is one line of text: a deck file writes it as its title, every list shows it
    on one row. So it holds no control character (a newline, a tab, an escape), and at most
    MAX_DECK_NAME characters. Callers strip it first.
    """
    if not name.strip():
        return "a deck needs a name"
    if len(name) > MAX_DECK_NAME:
        return f"a deck name has at most {MAX_DECK_NAME} characters; this one has {len(name):,}"
    found = _CONTROL.search(name) or _NOT_TEXT.search(name)
    if found is not None:
        return (
            "a deck name cannot hold a control character or a lone surrogate "
            f"(it holds U+{ord(found.group()):04X})"
        )
    return None


def card_uid_problem(uid: str) -> str | None:
    """Why `uid` cannot be a card's id in the collection (one phrase), or None if it can."""
    if CARD_UID.fullmatch(uid):
        return None
    return (
        "a card id is 1 to 128 letters, digits, '.', '_', ':' or '-', and starts with a letter "
        "or a digit"
    )


def question_id_problem(question_id: str) -> str | None:
    """Why `question_id` (stripped) cannot be a prediction's question id, or None."""
    if not 0 < len(question_id) <= MAX_QUESTION_ID:
        return f"'question_id' must be 1 to {MAX_QUESTION_ID} characters"
    return text_problem(question_id)


def grade_problem(predicted: str, answer: str | None, correct: bool | None) -> str | None:
    """Why a prediction cannot have this answer and grade (one phrase), or None: a graded
    prediction has both, an ungraded one neither, and it is correct when it is the answer."""
    if (answer is None) != (correct is None):
        return "'answer' and 'correct' are both given (a graded run) or both null"
    if answer is not None and correct != (predicted == answer):
        return (
            f"'correct' is {str(correct).lower()}, but the prediction is "
            f"{'' if predicted == answer else 'not '}the answer"
        )
    return None


def demo_link_problem(link: DemoLink) -> str | None:
    """Why a card cannot keep this demo link (one sentence), or None if it can.

    The id and each parameter name are single words (no space, quote, `=` or control
    character, at most 64 characters), and each value is JSON: text, a finite number,
    true/false, null, or a list or object of those. That is what a deck file's `demo:` line
    and the JSON backup both carry, so a link the app keeps exports and imports again.
    """
    return demo_id_problem(link.id) or demo_params_problem(link.params)


def demo_id_problem(demo_id: str) -> str | None:
    """Why `demo_id` cannot name a demo (see `demo_link_problem`), or None."""
    if not _DEMO_NAME.fullmatch(demo_id):
        return f"demo id {demo_id[:MAX_DEMO_NAME]!r} is not a single word of up to 64 characters"
    return None


def demo_params_problem(params: Mapping[str, Any]) -> str | None:
    """Why `params` cannot be a demo link's parameters (see `demo_link_problem`), or None."""
    for name, value in params.items():
        if not isinstance(name, str) or not _DEMO_NAME.fullmatch(name):
            return (
                f"demo parameter name {str(name)[:MAX_DEMO_NAME]!r} is not a single word "
                "(no space, quote, '=' or control character) of up to 64 characters"
            )
        problem = _value_problem(value)
        if problem is not None:
            return f"demo parameter {name!r} {problem}"
    return None


def _value_problem(value: Any) -> str | None:
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"is {value}, not a finite number"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, list | tuple):
        items: Iterable[Any] = value
    elif isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            return "has an object key that is not text"
        items = [*value.keys(), *value.values()]
    else:
        return f"is {type(value).__name__}, which JSON cannot hold"
    return next((p for p in map(_value_problem, items) if p is not None), None)


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags without spaces, without duplicates, in first-seen order.

    A space inside a tag becomes an underscore, as Anki does, so a tag list can always be
    written as space-separated words.
    """
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = _TAG_SPACE.sub("_", tag.strip())
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


@dataclass(frozen=True)
class DemoLink:
    """A link from a card to a demo in our registry: an id and parameter overrides."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "params": dict(self.params)}


@dataclass(frozen=True)
class DeckSetting:
    """One per-deck setting: its name (a `DeckSettings` field and a `decks` column), how the
    `deck` command and the deck options screen offer it, and its bounds.

    `DECK_SETTINGS` lists them all; the command's options, the options screen's fields, what
    `studyapp deck NAME` shows and the checks on every value come from that list, so a new
    setting is added there once. A setting is a whole number from `low` to `high`, a
    decimal number (`decimals` > 0) from `low` to `high`, or one of `choices`.
    """

    name: str
    flag: str  # the `studyapp deck` option
    label: str  # how the options screen names it
    help: str
    problem_text: str  # "... must be from 0 to 100,000, not 7": `{value}` is filled in
    low: float = 0
    high: float = 0
    metavar: str = "N"
    decimals: int = 0  # digits shown after the point; 0: a whole number
    choices: tuple[str, ...] = ()  # the values it can take, if it is a choice
    choice_names: tuple[str, ...] = ()  # how each choice is written for a reader

    @property
    def bounds(self) -> str:
        """The values it takes, as the command's help and the options screen say them."""
        if self.choices:
            return " or ".join(self.choices)
        return f"{self.shown(self.low)} to {self.shown(self.high)}"

    def shown(self, value: object) -> str:
        """A value as the command and the screen write it."""
        if value in self.choices and self.choice_names:
            return self.choice_names[self.choices.index(value)]
        if self.choices or isinstance(value, bool) or not isinstance(value, int | float):
            return str(value)
        return f"{value:,.{self.decimals}f}"

    def check(self, value: object) -> str | None:
        """Why `value` cannot be this setting (one sentence), or None if it can."""
        if self.choices:
            if value not in self.choices:
                return self.problem_text.format(value=repr(value))
            return None
        allowed = (int, float) if self.decimals else (int,)
        if isinstance(value, bool) or not isinstance(value, allowed):
            kind = "a number" if self.decimals else "a whole number"
            return f"{self.name} must be {kind}, not {value!r}"
        if not (is_finite(value) and self.low <= value <= self.high):
            return self.problem_text.format(value=value)
        return None

    def parse(self, text: str) -> int | float | str:
        """A value as typed (on the command line or in a form); ValueError says why not."""
        typed = text.strip()
        value: int | float | str
        if self.choices:
            value = typed.lower()
        else:
            kind = "a number" if self.decimals else "a whole number"
            try:
                digits = typed.replace("_", "").replace(",", "")
                value = float(digits) if self.decimals else int(digits)
            except ValueError:
                raise ValueError(
                    f"{self.label.lower()} must be {kind} from {self.bounds}, not {typed!r}"
                ) from None
        problem = self.check(value)
        if problem is not None:
            raise ValueError(problem)
        return value


SCHEDULER_NAMES = ("SM-2", "FSRS")  # as SCHEDULERS are written for a reader

DECK_SETTINGS: tuple[DeckSetting, ...] = (
    DeckSetting(
        "new_per_day",
        "--new-per-day",
        "New cards a day",
        "new cards introduced per study day (0 pauses new cards)",
        f"new_per_day must be from 0 to {MAX_PER_DAY:,}, not {{value}}",
        0,
        MAX_PER_DAY,
    ),
    DeckSetting(
        "reviews_per_day",
        "--reviews-per-day",
        "Reviews a day",
        "reviews of cards already learnt per study day",
        f"reviews_per_day must be from 0 to {MAX_PER_DAY:,}, not {{value}}",
        0,
        MAX_PER_DAY,
    ),
    DeckSetting(
        "day_start_hour",
        "--day-start-hour",
        "Day starts at hour",
        "the local hour at which the deck's study day rolls over",
        "the day starts at an hour from 0 to 23, not {value}",
        0,
        23,
        "H",
    ),
    DeckSetting(
        "scheduler",
        "--scheduler",
        "Scheduler",
        "the scheduling model; a switch keeps every card's due date",
        f"the scheduler is one of {', '.join(SCHEDULERS)}, not {{value}}",
        metavar="|".join(SCHEDULERS),
        choices=SCHEDULERS,
        choice_names=SCHEDULER_NAMES,
    ),
    DeckSetting(
        "desired_retention",
        "--desired-retention",
        "Desired retention",
        "the recall probability FSRS aims at when a card comes due (FSRS decks only)",
        f"desired retention is a probability from {MIN_DESIRED_RETENTION:.2f} to "
        f"{MAX_DESIRED_RETENTION:.2f}, not {{value}}",
        MIN_DESIRED_RETENTION,
        MAX_DESIRED_RETENTION,
        "R",
        decimals=2,
    ),
)
# The settings that change how a deck is scheduled: set through the scheduler service, which
# gives the cards their FSRS memory when a deck switches to FSRS.
SCHEDULER_SETTINGS = ("scheduler", "desired_retention")


@dataclass(frozen=True)
class DeckSettings:
    """Per-deck study limits, the hour at which the study day rolls over, and the scheduler:
    SM-2 or FSRS, with FSRS's desired retention and fitted parameters (None: defaults)."""

    new_per_day: int = DEFAULT_NEW_PER_DAY
    reviews_per_day: int = DEFAULT_REVIEWS_PER_DAY
    day_start_hour: int = DEFAULT_DAY_START_HOUR
    scheduler: str = DEFAULT_SCHEDULER
    desired_retention: float = DEFAULT_DESIRED_RETENTION
    fsrs_params: tuple[float, ...] | None = None

    @property
    def fsrs(self) -> FSRSSettings:
        return FSRSSettings(self.fsrs_params, self.desired_retention)

    def problem(self) -> str | None:
        """Why these settings cannot be a deck's (one sentence), or None if they can."""
        for setting in DECK_SETTINGS:
            problem = setting.check(getattr(self, setting.name))
            if problem is not None:
                return problem
        if self.fsrs_params is not None:
            return parameters_problem(self.fsrs_params)
        return None

    def to_dict(self) -> dict[str, int | float | str]:
        """The settings a learner sets (`DECK_SETTINGS`), by name."""
        return {setting.name: getattr(self, setting.name) for setting in DECK_SETTINGS}


@dataclass(frozen=True)
class Deck:
    id: int
    name: str
    settings: DeckSettings
    description: str = ""


@dataclass(frozen=True)
class DeckCounts:
    """What home and `studyapp decks` show for one deck.

    `new` and `due` are what a review started now would show: the cards not yet studied and
    the reviews due, each within what is left of the deck's daily limit. `learning` counts
    the cards in today's drill (rated below 4 today, shown again); `unseen` every card not
    yet studied, whatever the limit.
    """

    name: str
    total: int
    new: int
    due: int
    learning: int
    suspended: int = 0
    unseen: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total": self.total,
            "new": self.new,
            "due": self.due,
            "learning": self.learning,
            "unseen": self.unseen,
        }


@dataclass(frozen=True)
class Review:
    """One entry of the review log: a rating with the card's state before and after."""

    id: int
    card_id: int
    at: datetime  # aware, UTC
    study_day: date
    rating: int
    duration_ms: int
    kind: str  # one of REVIEW_KINDS
    before: SM2State
    after: SM2State
    memory_before: FSRSMemory | None = None  # FSRS memory around the rating, if it had one
    memory_after: FSRSMemory | None = None
    imported: bool = False  # brought in from another app's history


@dataclass(frozen=True)
class Prediction:
    """A learner's prediction of a demo's outcome, committed before the run, and the run's
    answer to it.

    `card_id` is the card whose demo it was (None for a run from the command line); `params`
    are the run's resolved parameters. `answer`, `why` and `correct` stay None until the run
    has finished (a run that failed or was cancelled leaves its prediction ungraded).
    """

    id: int
    card_id: int | None
    demo_id: str
    params: Mapping[str, Any]
    seed: int
    question_id: str
    question: str
    chosen: str
    answer: str | None
    why: str | None
    correct: bool | None
    at: datetime  # aware, UTC

    @property
    def graded(self) -> bool:
        return self.correct is not None


@dataclass(frozen=True)
class Card:
    """A card as the rest of the app sees it."""

    id: int
    uid: str
    deck: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    source: str = ""
    demo: DemoLink | None = None
    state: SM2State = field(default_factory=SM2State.new)
    suspended: bool = False
    buried_until: date | None = None
    position: int = 0
    memory: FSRSMemory | None = None  # FSRS memory state, once the card has one

    @property
    def is_leech(self) -> bool:
        return LEECH_TAG in self.tags


@dataclass(frozen=True)
class BundledChanges:
    """What the learner did to the bundled deck, which updates of the bundled deck respect.

    A bundled card or deck the learner deleted is never brought back; the cards a later
    release adds to a bundled deck the learner renamed go to the deck under its new name.
    Decks are named as the bundled files name them; cards by their ids.
    """

    deleted_cards: frozenset[str] = frozenset()
    deleted_decks: frozenset[str] = frozenset()
    renamed_decks: Mapping[str, str] = field(default_factory=dict)  # bundled name -> now

    def __bool__(self) -> bool:
        return bool(self.deleted_cards or self.deleted_decks or self.renamed_decks)

    def deck_now(self, bundled: str) -> str:
        """The name the bundled deck `bundled` has in the collection."""
        return self.renamed_decks.get(bundled, bundled)

    def to_dict(self) -> dict[str, Any]:
        return {
            "deleted_cards": sorted(self.deleted_cards),
            "deleted_decks": sorted(self.deleted_decks),
            "renamed_decks": dict(sorted(self.renamed_decks.items())),
        }
