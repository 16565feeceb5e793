"""Cleaning text copied out of study sites: page chrome, image captions, bullets, blank lines.

Brainscape, Knowt and Quizlet pages copied as text carry the site's menus, counters and
ratings, the captions of images that were dropped, and bullets as `  • x`. The three site
parsers split a page into cards; this module turns each side's lines into clean card text
and says what it left out, so nothing disappears in silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from studyapp.formats.base import CardDraft, ParseResult, Skipped, file_name_text

# Chrome that can only be chrome, wherever it appears (also inside a card's lines).
_STRONG_CHROME = re.compile(
    r"""^(?:
        how\ well\ did\ you\ know\ this\??
      | encourage\ image
      | studied\ by\s*studied\ by\ \d[\d,.]*\ (?:people|person|learners?)
      | studied\ by\ \d[\d,.]*\ (?:people|person|learners?)
      | there'?s\ no\ tags\ or\ description
      | looks\ like\ no\ tags\ are\ added\ yet\.?
      | no\ study\ sessions\ yet\.?
      | name\ \|\ mastery\ \|\ learn\ \|\ test\ \|\ matching\ \|\ spaced\ \|?
      | terms\ in\ this\ set\ \(\d+\)
      | students\ also\ viewed
      | (?:learn|exam|spaced\ repetition|heart\ puzzle|flashcards)
        (?:learn|practice\ test|spaced\ repetition|match|flashcards)
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# Lines that are chrome in a page's header or footer but could be an answer inside a card.
_WEAK_CHROME = re.compile(
    r"""^(?:
        \d+/\d+                                  # a "1/36" card counter
      | \d+\ (?:terms|cards)                     # "37 Terms"
      | \d(?:\.\d)?\s*\(\d+\)                    # a "5.0(1)" rating
      | -+\|?(?:-*\|)*                           # the rule under a table header
      | name | mastery | learn | test | match | matching | spaced | card\ sorting
      | study\ analytics | practice\ test | spaced\ repetition | flashcards | preview
      | study\ these\ flashcards | flashcard\ maker | brainscape | quizlet | knowt
      | save | share | created\ by | original | alphabetical | q-chat | study
      | not\ at\ all | perfectly
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# The caption of an image found on the web: "Title | by Author | Medium", "Title - Quora",
# 'Levi on X: "..."'. Such a line is left out of a card and reported.
_SITES = (
    r"Medium|Quora|Codecademy|Wikipedia|YouTube|Reddit|Stack\ Overflow|GeeksforGeeks"
    r"|Towards\ Data\ Science|Analytics\ Vidhya|ResearchGate|LinkedIn|Kaggle|Pinterest"
    r"|Twitter|X|Machine\ Learning\ Flashcards|Built\ In|IBM|DataCamp|Simplilearn"
    r"|Javatpoint|Tutorialspoint|Coursera|Papers\ With\ Code|Baeldung|Scaler|Substack"
)
_CAPTION = re.compile(
    rf"""^(?:
        [^|]{{2,}}(?:\s\|\s[^|]+){{0,3}}\s\|\s(?:{_SITES})     # Title | by Author | Medium
      | .{{3,}}\s[-–]\s(?:{_SITES})                          # Title - Quora
      | [^:]{{1,60}}\son\ (?:X|Twitter):\ ".*                # Name on X: "..."
    )\s*$""",
    re.VERBOSE,
)

_CHROME_MAX = 80  # no chrome line is longer
_CAPTION_MARKS = (" | ", " - ", " – ", " on X: ", " on Twitter: ")

BULLET = re.compile(r"^(?P<indent>[ \t]*)(?:[•◦▪▫‣●○■□·∙]\s*|[*\-–+]\s+|[*\-–+]$)(?P<text>.*)$")
NUMBERED = re.compile(r"^(?P<indent>[ \t]*)(?:\d{1,3}|[a-zA-Z])[.)]\s+\S")
_TITLE_SUFFIX = re.compile(
    r"\s*(?:[|\-–]\s*(?:quizlet|knowt|brainscape)|flashcards?)\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class CleanText:
    text: str
    captions: tuple[str, ...] = ()


def normalize_line(line: str) -> str:
    """A line with non-breaking spaces made plain and trailing whitespace removed."""
    return line.replace("\u00a0", " ").replace("\u200b", "").rstrip()


def is_strong_chrome(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) <= _CHROME_MAX and bool(_STRONG_CHROME.match(stripped))


def is_chrome(line: str) -> bool:
    """Page chrome as found in a page's header or footer."""
    stripped = line.strip()
    if len(stripped) > _CHROME_MAX:
        return False
    return bool(_STRONG_CHROME.match(stripped) or _WEAK_CHROME.match(stripped))


def is_caption(line: str) -> bool:
    if not any(mark in line for mark in _CAPTION_MARKS):
        return False
    stripped = line.strip()
    match = BULLET.match(stripped)
    if match:
        stripped = match.group("text").strip()
    return len(stripped) <= 300 and bool(_CAPTION.match(stripped))


def is_list_item(line: str) -> bool:
    return bool(BULLET.match(line) or NUMBERED.match(line))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def clean_side(lines: Iterable[str]) -> CleanText:
    """Card text from a side's raw lines.

    Chrome and image captions are left out (captions are returned to be reported), empty
    bullets dropped, `  • x` becomes `- x` with nesting kept as two spaces a level, blank
    lines between list items go, runs of blank lines become one, and the ends are trimmed.
    """
    kept: list[str] = []
    captions: list[str] = []
    for raw in lines:
        line = normalize_line(raw)
        if is_strong_chrome(line):
            continue
        if is_caption(line):
            captions.append(line.strip())
            continue
        bullet = BULLET.match(line)
        if bullet and not bullet.group("text").strip():
            continue
        kept.append(line)

    items = [_indent(line) for line in kept if is_list_item(line)]
    base = min(items) if items else 0
    shaped: list[str] = []
    for line in kept:
        line = line[min(_indent(line), base) :]
        bullet = BULLET.match(line)
        if bullet:
            line = f"{bullet.group('indent')}- {bullet.group('text').strip()}"
        shaped.append(line)
    return CleanText(_tidy_blank_lines(shaped), tuple(captions))


def _tidy_blank_lines(lines: Sequence[str]) -> str:
    following: list[str | None] = [None] * len(lines)  # the next non-blank line after each
    upcoming: str | None = None
    for i in range(len(lines) - 1, -1, -1):
        following[i] = upcoming
        if lines[i].strip():
            upcoming = lines[i]
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.strip():
            out.append(line)
            continue
        after = following[i]
        if not out or not out[-1].strip() or after is None:
            continue
        if is_list_item(out[-1]) and is_list_item(after):
            continue
        out.append("")
    return "\n".join(out)


def deck_name_from_title(title: str) -> str | None:
    """ "Class Thirteen Flashcards" -> "Class Thirteen"; a blank title gives None."""
    name = normalize_line(title).strip()
    while True:
        shorter = _TITLE_SUFFIX.sub("", name).strip(" -–|")
        if shorter == name:
            return name or None
        name = shorter


def split_header(lines: Sequence[str]) -> tuple[str | None, str | None]:
    """The title and description in a page's header lines; chrome is left out.

    The title is the first line that is not chrome, if it reads like a title (short, no
    full stop at the end); the other lines that are not chrome make the description.
    """
    meaningful = [normalize_line(x).strip() for x in lines]
    meaningful = [x for x in meaningful if x and not is_chrome(x)]
    title = None
    if meaningful and len(meaningful[0]) <= 120 and not meaningful[0].endswith("."):
        title = meaningful.pop(0)
    description = "\n\n".join(meaningful) or None
    return title, description


def caption_warning(where: str, captions: Sequence[str]) -> str:
    shown = "; ".join(repr(c if len(c) <= 70 else c[:67] + "...") for c in captions)
    noun = "line that looks" if len(captions) == 1 else "lines that look"
    return f"{where}: left out {len(captions)} {noun} like an image caption: {shown}"


def preview(text: str, limit: int = 60) -> str:
    """A short quote of a card side for a report."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")


def add_card(
    result: ParseResult,
    path: Path,
    where: str,
    front_lines: Sequence[str],
    back_lines: Sequence[str],
) -> None:
    """Clean one card's two sides and add it, or report it skipped with the reason."""
    front = clean_side(front_lines)
    back = clean_side(back_lines)
    captions = front.captions + back.captions
    if captions:
        result.warnings.append(caption_warning(where, captions))
    if not front.text and not back.text:
        result.skipped.append(Skipped(where, "card has no question and no answer"))
    elif not front.text:
        result.skipped.append(Skipped(where, f"card has no question (answer {preview(back.text)})"))
    elif not back.text:
        result.skipped.append(Skipped(where, f"question {preview(front.text)} has no answer"))
    else:
        result.cards.append(
            CardDraft(front.text, back.text, source=f"{file_name_text(path)} {where}", where=where)
        )
