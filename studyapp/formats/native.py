"""The native deck files in `cards/`: one deck per file, written to be read, edited and diffed.

    # Deck name

    Description paragraphs, HTML comments and notes, up to the first card.

    ## card-id
    tags: optimizers, fundamentals
    source: 003_0a81d32002206609.txt card 1
    demo: adam_vs_sgd steps=400 lr_adam=0.01
    suspended: true

    The front, any text.

    ---

    The back, up to the next `## ` heading.

The line between front and back is `---`; in a card without one, a hand-written `-----` or
`--- ` is read as it, and keys are read in any case (`Tags:`). Inside a side (and the
description), a line that begins with `## `, is such a rule or begins with a backslash is
written with one more backslash in front, and the reader takes one leading backslash off any
line that has one, so every text survives a round trip (a blank line at either end is written
as a lone backslash for the same reason). A demo parameter's value is
a bare word (a number, true, false, null or text) or JSON (a quoted string, a list, an
object); tags that hold a comma are written as a JSON list. The writer's output is canonical:
reading a file it wrote and writing it again gives the same bytes, and whatever the app keeps
(see `studyapp.model`) comes back from its deck file as it was.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studyapp.formats.base import CardDraft, ExportDeck, FormatError, FormatSpec, ParseResult
from studyapp.formats.textio import head_text, looks_like_text, read_text
from studyapp.model import DemoLink, deck_name_problem, demo_link_problem, normalize_tags

NAME = "md"
CARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_KEYS = ("tags", "source", "demo", "suspended")
_META = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*?)[ \t]*$")
_NUMBER_INT = re.compile(r"[+-]?\d+")
_BARE_VALUE = re.compile(r"[^\s\"=]+")
_JSON = json.JSONDecoder()
_TOO_MANY_DIGITS = (
    f"holds a whole number of more than {sys.get_int_max_str_digits() or 4300:,} digits, "
    "the most that can be read"
)
# The line between front and back: '---' as written, and as hands write a Markdown rule.
_RULE = re.compile(r"-{3,}[ \t]*")
_FENCE = re.compile(r"(`{3,}|~{3,})")
_CARD_LIKE = re.compile(r"#{2,6}\s*\S")  # a heading, as a card's would be if it had '## '


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    first = text.split("\n", 1)[0]
    if first.startswith("# ") and re.search(r"(?m)^## [A-Za-z0-9]", text):
        return 0.9 if re.search(r"(?m)^---$", text) else 0.6
    if path.suffix.lower() not in (".md", ".markdown"):
        return 0.0
    # A Markdown file that starts with a deck's heading is a deck file even with no cards
    # yet (its description may read like a question); any other one is read as a deck
    # file too, whose errors say what it lacks.
    named = first.startswith("# ") and deck_name_problem(first[2:].strip()) is None
    return 0.85 if named else 0.1


# --- reading --------------------------------------------------------------------------------


def parse(path: Path) -> ParseResult:
    return parse_text(read_text(path), path)


def parse_text(text: str, path: Path | str) -> ParseResult:
    lines = text.split("\n")
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    if not lines[0].startswith("# ") or not lines[0][2:].strip():
        raise FormatError.at(path, "line 1", "a deck file starts with '# <deck name>'")
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    deck_name = lines[0][2:].strip()
    problem = deck_name_problem(deck_name)
    if problem is not None:
        raise FormatError.at(path, "line 1", problem)
    result = ParseResult(
        format=NAME,
        deck_name=deck_name,
        description=_side(lines[1 : _first(headings, lines)]),
    )
    seen: dict[str, int] = {}
    bounds = [*headings, len(lines)]
    for start, end in zip(headings, bounds[1:], strict=True):
        card = _read_card(path, lines, start, end, seen)
        result.cards.append(card)
        first = next((n for n in range(start + 1, end) if lines[n].strip()), None)
        if first is not None and first > start + 1 and _keys_first(lines[first]):
            result.warnings.append(
                f"line {first + 1}: card {card.key!r} has a blank line after its heading, so "
                f"{lines[first][:40]!r} was read as its front's text; 'key: value' lines go "
                "right under the heading"
            )
    if not headings:
        _warn_no_cards(lines, result)
    return result


def _warn_no_cards(lines: Sequence[str], result: ParseResult) -> None:
    """Say why a deck file with what looks like cards gave none (a heading of the wrong
    level, or notes of questions and answers), so they are not lost in the deck's
    description without a word."""
    for number, line in enumerate(lines[1:], start=2):
        question = line.rstrip().endswith("?")
        if _CARD_LIKE.match(line) or _RULE.fullmatch(line) or question:
            result.warnings.append(
                f"no cards were read: a card starts with a line '## <card id>', and line "
                f"{number} ({line[:40]!r}) was read as part of the deck's description"
                + (
                    "; to read questions and answers, import the file as quizlet"
                    if question
                    else ""
                )
            )
            return


def _first(headings: Sequence[int], lines: Sequence[str]) -> int:
    return headings[0] if headings else len(lines)


def _read_card(
    path: Path | str, lines: Sequence[str], start: int, end: int, seen: dict[str, int]
) -> CardDraft:
    heading = start + 1
    card_id = lines[start][3:].strip()
    if not CARD_ID.fullmatch(card_id):
        fences = sum(1 for line in lines[:start] if line.startswith("```"))
        raise FormatError.at(
            path,
            f"line {heading}",
            f"'## {card_id}' inside a code block starts a card; write it as '\\## {card_id}'"
            if fences % 2
            else f"{card_id!r} is not a card id (letters, digits and . _ : - only, "
            "starting with a letter or digit)",
        )
    if card_id in seen:
        raise FormatError.at(
            path, f"line {heading}", f"card id {card_id!r} is already used on line {seen[card_id]}"
        )
    seen[card_id] = heading

    meta: dict[str, str] = {}
    i = start + 1
    while i < end and lines[i].strip():
        match = _META.match(lines[i])
        if not match:
            raise FormatError.at(
                path,
                f"line {i + 1}",
                "expected 'key: value' (tags, source, demo, suspended) or a blank line "
                f"after the heading of card {card_id!r}",
            )
        key, value = match.group(1).lower(), match.group(2) or ""
        if key not in _KEYS:
            key = match.group(1)
            raise FormatError.at(
                path, f"line {i + 1}", f"unknown key {key!r}; a card takes {', '.join(_KEYS)}"
            )
        if key in meta:
            raise FormatError.at(
                path, f"line {i + 1}", f"{key!r} is given twice for card {card_id!r}"
            )
        meta[key] = value
        i += 1

    body = list(lines[i:end])
    # The writer's '---' first: files written before a longer rule was escaped in a side
    # hold such a rule in the text, and only '---' between the sides. A rule inside a
    # fenced code block (a YAML example, written by hand) is the side's text, unless no
    # rule is outside one (a fence left open).
    outside = _outside_fences(body)
    rule = next((n for n in outside if body[n] == "---"), None)
    if rule is None:
        rule = next((n for n in outside if _RULE.fullmatch(body[n])), None)
    if rule is None:
        rule = body.index("---") if "---" in body else None
    if rule is None:
        rule = next((n for n, line in enumerate(body) if _RULE.fullmatch(line)), None)
    if rule is None:
        raise FormatError.at(
            path, f"line {heading}", f"card {card_id!r} has no '---' line between front and back"
        )
    front = _side(body[:rule])
    back = _side(body[rule + 1 :])
    if not front.strip():
        raise FormatError.at(path, f"line {heading}", f"card {card_id!r} has an empty front")
    return CardDraft(
        front=front,
        back=back,
        tags=_tags(meta.get("tags", "")),
        source=meta.get("source", ""),
        key=card_id,
        demo=_demo(path, meta.get("demo"), lines, start, end),
        where=f"line {heading}",
        suspended=_flag(path, meta.get("suspended"), lines, start, end),
    )


def _outside_fences(lines: Sequence[str]) -> list[int]:
    """The indexes of the lines that are not inside a fenced code block (``` or ~~~)."""
    outside, fence = [], ""
    for n, line in enumerate(lines):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence) and not stripped[len(fence) :].strip():
                fence = ""
            continue
        opened = _FENCE.match(stripped)
        if opened:
            fence = opened.group(1)
            continue
        outside.append(n)
    return outside


def _keys_first(front: str) -> bool:
    """Whether a front begins with a line like a card's keys (`tags: adam`)."""
    match = _META.match(front.split("\n", 1)[0])
    return match is not None and match.group(1).lower() in _KEYS


def _tags(value: str) -> tuple[str, ...]:
    """Tags separated by commas, or a JSON list of them (when one holds a comma)."""
    if value.startswith("["):
        try:
            listed = json.loads(value)
        except ValueError:
            listed = None
        if isinstance(listed, list) and all(isinstance(tag, str) for tag in listed):
            return normalize_tags(listed)
    return normalize_tags(value.split(","))


def _side(lines: Sequence[str]) -> str:
    return "\n".join(line[1:] if line.startswith("\\") else line for line in _trim(lines))


def _trim(lines: Sequence[str]) -> list[str]:
    begin, end = 0, len(lines)
    while begin < end and not lines[begin].strip():
        begin += 1
    while end > begin and not lines[end - 1].strip():
        end -= 1
    return list(lines[begin:end])


def _meta_line(lines: Sequence[str], start: int, end: int, key: str) -> str:
    for i in range(start + 1, end):
        if lines[i].startswith(f"{key}:"):
            return f"line {i + 1}"
    return f"line {start + 1}"


def _flag(path: Path | str, value: str | None, lines: Sequence[str], start: int, end: int) -> bool:
    if value is None:
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FormatError.at(
        path,
        _meta_line(lines, start, end, "suspended"),
        f"suspended is true or false, not {value!r}",
    )


def _demo(
    path: Path | str, value: str | None, lines: Sequence[str], start: int, end: int
) -> DemoLink | None:
    if value is None:
        return None
    try:
        tokens = _split_params(value)
    except _ValueProblem as exc:
        raise FormatError.at(path, _meta_line(lines, start, end, "demo"), str(exc)) from None
    if tokens is None or not tokens or not isinstance(tokens[0], str):
        raise FormatError.at(
            path,
            _meta_line(lines, start, end, "demo"),
            f"a demo link is '<demo id> key=value ...', not {value!r}",
        )
    params: dict[str, Any] = {}
    for token in tokens[1:]:
        if isinstance(token, str):
            raise FormatError.at(
                path,
                _meta_line(lines, start, end, "demo"),
                f"demo parameter {token!r} is not key=value",
            )
        key, parsed = token
        params[key] = parsed
    link = DemoLink(tokens[0], params)  # type: ignore[arg-type]
    problem = demo_link_problem(link)
    if problem is not None:
        raise FormatError.at(path, _meta_line(lines, start, end, "demo"), problem)
    return link


_NAME = re.compile(r'[^\s"=]+')
_BARE = re.compile(r"[^\s]*")


class _ValueProblem(ValueError):
    """A demo parameter value that is written right but cannot be read: the sentence."""


def _split_params(value: str) -> list[str | tuple[str, Any]] | None:
    """The demo id, then each `key=value` as (key, value); a word without `=` stays text.

    A value is JSON when it starts with a quote, `[` or `{` and reads as JSON there (a
    quoted string, a list, an object, which may hold spaces); otherwise it is the bare word
    up to the next space, read by `read_value`. None when the line does not split so.
    """
    tokens: list[str | tuple[str, Any]] = []
    pos, end = 0, len(value)
    while True:
        while pos < end and value[pos].isspace():
            pos += 1
        if pos >= end:
            return tokens
        name = _NAME.match(value, pos)
        if name is None:
            return None
        pos = name.end()
        if pos >= end or value[pos] != "=":
            tokens.append(name.group())
        else:
            pos += 1
            try:
                parsed, pos = _param_value(value, pos)
            except _ValueProblem as exc:
                raise _ValueProblem(f"demo parameter {name.group()[:64]!r} {exc}") from None
            tokens.append((name.group(), parsed))
        if pos < end and not value[pos].isspace():
            return None


def _param_value(value: str, pos: int) -> tuple[Any, int]:
    if value[pos : pos + 1] in ('"', "[", "{"):
        try:
            return _JSON.raw_decode(value, pos)
        except RecursionError:
            raise _ValueProblem("holds lists or objects nested too deeply to be read") from None
        except json.JSONDecodeError:
            if value[pos] == '"':
                return None, pos  # an unclosed quote: the line does not split
        except ValueError:  # a whole number longer than Python reads
            raise _ValueProblem(_TOO_MANY_DIGITS) from None
    word = _BARE.match(value, pos)
    assert word is not None
    return read_value(word.group()), word.end()


def read_value(raw: str) -> Any:
    """A bare demo parameter value: int, finite float, true/false, null, else the text."""
    if _NUMBER_INT.fullmatch(raw):
        try:
            return int(raw)
        except ValueError:  # longer than Python reads
            raise _ValueProblem(_TOO_MANY_DIGITS) from None
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    try:
        number = float(raw)
    except ValueError:
        return raw
    return number if math.isfinite(number) else raw


def write_value(value: Any) -> str:
    """The text `_split_params` reads back as `value` (of the JSON types)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if read_value(text) == value else _compact(text)
    if isinstance(value, str):
        if _BARE_VALUE.fullmatch(value) and value[0] not in "[{" and read_value(value) == value:
            return value
        return _compact(value)
    return _compact(value)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


# --- writing --------------------------------------------------------------------------------


def export(decks: Sequence[ExportDeck]) -> bytes:
    if len(decks) != 1:
        raise FormatError(
            f"a deck file holds one deck and there are {len(decks)}; choose one with --deck, "
            "or give a folder as --output to write one file per deck"
        )
    return render(decks[0]).encode("utf-8")


def render(deck: ExportDeck) -> str:
    problem = deck_name_problem(deck.name)
    if problem is not None:
        raise FormatError(f"deck {deck.name[:80]!r} cannot be written to a deck file: {problem}")
    head = f"# {deck.name}\n\n"
    if deck.description:
        head += _escape(deck.description) + "\n\n"
    cards = sorted(deck.cards, key=lambda c: c.position)
    return head + "\n".join(_render_card(card) for card in cards)


def _render_card(card: Any) -> str:
    if not CARD_ID.fullmatch(card.uid):
        raise FormatError(f"card id {card.uid!r} cannot be written to a deck file")
    out = [f"## {card.uid}"]
    if card.tags:
        joined = ", ".join(card.tags)
        listed = joined.startswith("[") or any("," in tag for tag in card.tags)
        out.append(f"tags: {_compact(list(card.tags)) if listed else joined}")
    if card.source:
        out.append(f"source: {_one_line(card.source)}")
    if card.demo is not None:
        problem = demo_link_problem(card.demo)
        if problem is not None:
            raise FormatError(f"card {card.uid}: its demo link cannot be written: {problem}")
        params = " ".join(f"{k}={write_value(v)}" for k, v in card.demo.params.items())
        out.append(f"demo: {card.demo.id} {params}".rstrip())
    if card.suspended:
        out.append("suspended: true")
    front = _escape(card.front)
    if _keys_first(front):  # read back as the card's text, not as its keys
        front = "\\" + front
    text = "\n".join(out) + "\n\n" + front + "\n\n---\n"
    if card.back:
        text += "\n" + _escape(card.back) + "\n"
    return text


def _escape(text: str) -> str:
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        edge = (i == 0 or i == len(lines) - 1) and not line.strip()
        if line.startswith(("## ", "\\")) or _RULE.fullmatch(line) or edge:
            line = "\\" + line
        out.append(line)
    return "\n".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


FORMATS = (
    FormatSpec(
        name=NAME,
        description="native deck files (Markdown-like, one deck per file, as in cards/)",
        extensions=(".md",),
        sniff=sniff,
        parse=parse,
        export=export,
    ),
)
