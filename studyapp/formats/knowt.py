"""Knowt flashcard pages copied as text, in the two layouts the site produces.

Numbered: a page header (title, "studied by", the Learn / Practice Test menu, "37 Terms"),
then per card its number, a status line ("New cards", "Still learning", "Mastered"), the
question as one paragraph, and the answer. Question lines: a header, then each question on a
line ending with `?`, followed by its answer lines (definitions, "Analogy: ..."). Chrome and
image captions never reach a card; a question with no answer is reported, not taken.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from studyapp.formats import sitetext
from studyapp.formats.base import FormatError, FormatSpec, ParseResult
from studyapp.formats.textio import MAX_PAGE_BYTES, head_text, looks_like_text, read_text

NAME = "knowt"
_STATUS = re.compile(
    r"^\s*(?:new\s+cards?|still\s+learning|learning|almost\s+done|mastered|familiar"
    r"|not\s+studied|studying|learned|new)\s*$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\s*(\d{1,6})\s*$")
_KNOWT_CHROME = re.compile(
    r"(?im)^(?:studied by|name \| mastery \| learn|no study sessions yet|"
    r"examPractice Test|spaced repetitionSpaced Repetition|heart puzzleMatch|card sorting|"
    r"there's no tags or description|looks like no tags are added yet)"
)


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    lines = text.split("\n")
    if _numbered_starts(lines):
        return 0.9
    chrome = len(_KNOWT_CHROME.findall(text))
    questions = sum(1 for line in lines if line.strip().endswith("?"))
    if chrome >= 2 and questions:
        return 0.7
    if chrome == 1 and questions >= 2:
        return 0.5
    return 0.0


def _numbered_starts(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(line index, card number) of every `N` line followed by a status line."""
    starts = []
    for i, line in enumerate(lines[:-1]):
        match = _NUMBER.match(line)
        if match and _STATUS.match(lines[i + 1]):
            starts.append((i, int(match.group(1))))
    return starts


def parse(path: Path) -> ParseResult:
    text = read_text(path, MAX_PAGE_BYTES)
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    lines = text.split("\n")
    starts = _numbered_starts(lines)
    if starts:
        return _parse_numbered(path, lines, starts)
    return _parse_question_lines(path, lines)


def _result(header: Sequence[str]) -> ParseResult:
    title, description = sitetext.split_header(header)
    return ParseResult(
        format=NAME,
        deck_name=sitetext.deck_name_from_title(title) if title else None,
        description=description,
        carries=frozenset({"source"}),
    )


def _parse_numbered(
    path: Path, lines: Sequence[str], starts: Sequence[tuple[int, int]]
) -> ParseResult:
    result = _result(lines[: starts[0][0]])
    bounds = [index for index, _ in starts] + [len(lines)]
    for (begin, number), end in zip(starts, bounds[1:], strict=True):
        body = list(lines[begin + 2 : end])
        if end == len(lines):
            body = _without_footer(body)
        while body and not body[0].strip():
            body.pop(0)
        split = next((i for i, line in enumerate(body) if not line.strip()), len(body))
        if split == len(body) or not any(line.strip() for line in body[split:]):
            split = min(split, 1)  # copied without blank lines: the first line is the question
        sitetext.add_card(result, path, f"card {number}", body[:split], body[split:])
    return result


def _without_footer(body: list[str]) -> list[str]:
    """The last card's lines without the page chrome that may follow it."""
    end = len(body)
    while end and (not body[end - 1].strip() or sitetext.is_chrome(body[end - 1])):
        end -= 1
    return body[:end]


def _is_question(line: str) -> bool:
    stripped = line.strip()
    return stripped.endswith("?") and not sitetext.is_chrome(stripped)


def _parse_question_lines(path: Path, lines: Sequence[str]) -> ParseResult:
    questions = [i for i, line in enumerate(lines) if _is_question(line)]
    if not questions:
        raise FormatError.at(
            path, None, "no Knowt cards found (numbered cards, or question lines ending in '?')"
        )
    result = _result(lines[: questions[0]])
    bounds = [*questions, len(lines)]
    for begin, end in zip(questions, bounds[1:], strict=True):
        answer = list(lines[begin + 1 : end])
        if end == len(lines):
            answer = _without_footer(answer)
        sitetext.add_card(result, path, f"line {begin + 1}", [lines[begin]], answer)
    return result


FORMATS = (
    FormatSpec(
        name=NAME,
        description="Knowt flashcards copied as text (numbered cards or question lines)",
        extensions=(".txt",),
        sniff=sniff,
        parse=parse,
    ),
)
