"""Quizlet-style copies: a term on one line, its definition on the next, with no markers.

Such a copy is ambiguous (answers run over several lines, some are missing, some fronts are
statements), so the reader decides line by line and accounts for every line: each one ends
up in a card or in the report with the reason it was not taken. A line is a question when it
ends with `?` or an ellipsis (a statement to complete), starts with "True or False" / "T/F",
or its last sentence starts with a question word or an instruction (What, How, Explain,
Name...). The lines after a question are its answer, except that a true/false question takes
a one-line "True" or "False" answer, after which a new card starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from studyapp.formats import sitetext
from studyapp.formats.base import (
    CardDraft,
    FormatError,
    FormatSpec,
    ParseResult,
    Skipped,
    file_name_text,
)
from studyapp.formats.textio import MAX_PAGE_BYTES, head_text, looks_like_text, read_text

NAME = "quizlet"
_TRUE_FALSE = re.compile(r"^\s*(?:true\s+or\s+false|t\s*/\s*f)\b", re.IGNORECASE)
_TRUE_FALSE_ANSWER = re.compile(r"^\s*(?:true|false)\b", re.IGNORECASE)
_ASKING = re.compile(
    r"^(?:what|how|why|when|where|which|who|whom|whose|explain|describe|define|name|list"
    r"|compare|contrast|discuss|give|state|identify|outline|summari[sz]e|distinguish)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    if re.search(r"(?im)^terms in this set \(\d+\)\s*$", text):
        return 0.8
    lines = [line for line in text.split("\n") if line.strip()]
    questions = sum(1 for line in lines if is_question(line))
    if len(lines) >= 2 and questions:
        return 0.2
    return 0.0


def is_question(line: str) -> bool:
    stripped = sitetext.normalize_line(line).strip()
    if not stripped or sitetext.BULLET.match(stripped):
        return False
    if stripped.endswith(("?", "…", "...")) or _TRUE_FALSE.match(stripped):
        return True
    last = _SENTENCE_END.split(stripped)[-1]
    return bool(_ASKING.match(last))


@dataclass
class _Card:
    line: int
    question: str
    answer: list[tuple[int, str]] = field(default_factory=list)

    @property
    def true_false_done(self) -> bool:
        return bool(
            _TRUE_FALSE.match(self.question)
            and len(self.answer) == 1
            and _TRUE_FALSE_ANSWER.match(self.answer[0][1])
        )


def parse(path: Path) -> ParseResult:
    text = read_text(path, MAX_PAGE_BYTES)
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    lines = text.split("\n")
    result = ParseResult(format=NAME, carries=frozenset({"source"}))
    current: _Card | None = None
    for number, raw in enumerate(lines, start=1):
        line = sitetext.normalize_line(raw)
        if not line.strip():
            continue
        if sitetext.is_chrome(line):
            result.skipped.append(Skipped(f"line {number}", "page chrome"))
            continue
        starts_card = is_question(line) or (current is not None and current.true_false_done)
        if current is None and not starts_card:
            result.skipped.append(
                Skipped(f"line {number}", "text before the first question, with no card to join")
            )
            continue
        if starts_card:
            if current is not None:
                _finish(path, current, result)
            current = _Card(number, line)
        else:
            assert current is not None
            current.answer.append((number, line))
    if current is None:
        raise FormatError.at(
            path, None, "no questions found (no line ends with '?' or asks What, How, Why...)"
        )
    _finish(path, current, result)
    return result


def _finish(path: Path, card: _Card, result: ParseResult) -> None:
    where = f"line {card.line}"
    front = sitetext.clean_side([card.question])
    back = sitetext.clean_side(line for _, line in card.answer)
    captions = front.captions + back.captions
    if captions:
        result.warnings.append(sitetext.caption_warning(where, captions))
    if not back.text:
        result.skipped.append(
            Skipped(
                where, f"question {sitetext.preview(front.text or card.question)} has no answer"
            )
        )
        return
    if not front.text:
        result.skipped.append(Skipped(where, "the question line holds only a caption"))
        return
    result.cards.append(
        CardDraft(front.text, back.text, source=f"{file_name_text(path)} {where}", where=where)
    )


FORMATS = (
    FormatSpec(
        name=NAME,
        description="Quizlet-style text copies (a term line, then its definition lines)",
        extensions=(".txt",),
        sniff=sniff,
        parse=parse,
    ),
)
