"""Brainscape flashcard pages copied as text.

A page reads: the deck title ("Class Thirteen Flashcards"), then for each card its number, a
`Q` line, the question, an `A` line, the answer, and often the 1-5 confidence prompt ("How
well did you know this? 1 Not at all 2 3 4 5 Perfectly"). The prompt and other page chrome
never reach a card; a card with no question or no answer is reported, not taken.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from studyapp.formats import sitetext
from studyapp.formats.base import FormatError, FormatSpec, ParseResult
from studyapp.formats.textio import MAX_PAGE_BYTES, head_text, looks_like_text, read_text

NAME = "brainscape"
_PROMPT = re.compile(r"^\s*how well did you know this\??\s*(?P<rest>.*)$", re.IGNORECASE)
# What follows the prompt, one item a line: 1, Not at all, 2, 3, 4, 5, Perfectly.
_SCALE = ("1", "not at all", "2", "3", "4", "5", "perfectly")
_CARD_NUMBER = re.compile(r"^\s*(\d{1,6})\s*$")


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    starts = len(re.findall(r"(?m)^\s*\d{1,6}\s*\n(?:[ \t]*\n)?[ \t]*Q[ \t]*$", text))
    prompts = len(re.findall(r"(?im)^\s*how well did you know this\?", text))
    answers = len(re.findall(r"(?m)^[ \t]*A[ \t]*$", text))
    if starts and prompts:
        return 0.95
    if starts >= 2 and answers >= 2:
        return 0.8
    if starts == 1 and answers == 1:
        return 0.5
    return 0.0


def _card_starts(lines: Sequence[str]) -> list[tuple[int, int]]:
    """(line index, card number) of every `N` line followed by a `Q` line."""
    starts = []
    for i, line in enumerate(lines):
        match = _CARD_NUMBER.match(line)
        if not match:
            continue
        j = i + 1
        if j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and lines[j].strip() == "Q":
            starts.append((i, int(match.group(1))))
    return starts


def _without_prompt(lines: Sequence[str]) -> list[str]:
    """The lines with every confidence prompt and its 1-5 scale taken out."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _PROMPT.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        i += 1
        if match.group("rest").strip():
            continue  # the prompt and its scale were on one line
        expected = list(_SCALE)
        while i < len(lines) and expected:
            value = lines[i].strip().lower()
            if not value:
                i += 1
            elif value == expected[0]:
                expected.pop(0)
                i += 1
            else:
                break
    return out


def parse(path: Path) -> ParseResult:
    text = read_text(path, MAX_PAGE_BYTES)
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    lines = text.split("\n")
    starts = _card_starts(lines)
    if not starts:
        raise FormatError.at(
            path, None, "no Brainscape cards found (numbered blocks with Q and A lines)"
        )
    title, description = sitetext.split_header(lines[: starts[0][0]])
    result = ParseResult(
        format=NAME,
        deck_name=sitetext.deck_name_from_title(title) if title else None,
        description=description,
        carries=frozenset({"source"}),
    )
    bounds = [index for index, _ in starts] + [len(lines)]
    for (begin, number), end in zip(starts, bounds[1:], strict=True):
        _read_card(path, lines[begin:end], number, result)
    return result


def _read_card(path: Path, block: Sequence[str], number: int, result: ParseResult) -> None:
    where = f"card {number}"
    body = _without_prompt(block[1:])
    q_index = next(i for i, line in enumerate(body) if line.strip() == "Q")
    rest = body[q_index + 1 :]
    a_index = next((i for i, line in enumerate(rest) if line.strip() == "A"), None)
    front_lines = rest if a_index is None else rest[:a_index]
    back_lines = [] if a_index is None else rest[a_index + 1 :]
    sitetext.add_card(result, path, where, front_lines, back_lines)


FORMATS = (
    FormatSpec(
        name=NAME,
        description="Brainscape flashcards copied as text (numbered Q/A blocks)",
        extensions=(".txt",),
        sniff=sniff,
        parse=parse,
    ),
)
