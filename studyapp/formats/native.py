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

Inside a side, a line that begins with `## `, is exactly `---` or begins with a backslash is
written with one more backslash in front, and the reader takes one leading backslash off any
line that has one, so every text survives a round trip (a blank line at either end of a side
is written as a lone backslash for the same reason). The writer's output is canonical:
reading a file it wrote and writing it again gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studyapp.formats.base import CardDraft, ExportDeck, FormatError, FormatSpec, ParseResult
from studyapp.formats.textio import head_text, looks_like_text, read_text
from studyapp.model import DemoLink, normalize_tags

NAME = "md"
CARD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_KEYS = ("tags", "source", "demo", "suspended")
_META = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):[ \t]*(.*?)[ \t]*$")
_NUMBER_INT = re.compile(r"[+-]?\d+")
_BARE_VALUE = re.compile(r"[^\s\"=]+")


def sniff(path: Path, head: bytes) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    first = text.split("\n", 1)[0]
    if first.startswith("# ") and re.search(r"(?m)^## [A-Za-z0-9]", text):
        return 0.9 if re.search(r"(?m)^---$", text) else 0.6
    return 0.1 if path.suffix.lower() in (".md", ".markdown") and first.startswith("# ") else 0.0


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
    description = _trim(
        [
            line[1:] if line.startswith("\\## ") else line
            for line in lines[1 : _first(headings, lines)]
        ]
    )
    result = ParseResult(
        format=NAME,
        deck_name=lines[0][2:].strip(),
        description="\n".join(description),
    )
    seen: dict[str, int] = {}
    bounds = [*headings, len(lines)]
    for start, end in zip(headings, bounds[1:], strict=True):
        result.cards.append(_read_card(path, lines, start, end, seen))
    return result


def _first(headings: Sequence[int], lines: Sequence[str]) -> int:
    return headings[0] if headings else len(lines)


def _read_card(
    path: Path | str, lines: Sequence[str], start: int, end: int, seen: dict[str, int]
) -> CardDraft:
    heading = start + 1
    card_id = lines[start][3:].strip()
    if not CARD_ID.fullmatch(card_id):
        raise FormatError.at(
            path,
            f"line {heading}",
            f"{card_id!r} is not a card id (letters, digits and . _ : - only, "
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
        key, value = match.group(1), match.group(2) or ""
        if key not in _KEYS:
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
    try:
        rule = body.index("---")
    except ValueError:
        raise FormatError.at(
            path, f"line {heading}", f"card {card_id!r} has no '---' line between front and back"
        ) from None
    front = _side(body[:rule])
    back = _side(body[rule + 1 :])
    if not front.strip():
        raise FormatError.at(path, f"line {heading}", f"card {card_id!r} has an empty front")
    return CardDraft(
        front=front,
        back=back,
        tags=normalize_tags(meta.get("tags", "").split(",")),
        source=meta.get("source", ""),
        key=card_id,
        demo=_demo(path, meta.get("demo"), lines, start, end),
        where=f"line {heading}",
        suspended=_flag(path, meta.get("suspended"), lines, start, end),
    )


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
    tokens = _split_params(value)
    if tokens is None or not tokens or "=" in tokens[0]:
        raise FormatError.at(
            path,
            _meta_line(lines, start, end, "demo"),
            f"a demo link is '<demo id> key=value ...', not {value!r}",
        )
    params: dict[str, Any] = {}
    for token in tokens[1:]:
        key, sep, raw = token.partition("=")
        if not sep or not key:
            raise FormatError.at(
                path,
                _meta_line(lines, start, end, "demo"),
                f"demo parameter {token!r} is not key=value",
            )
        params[key] = read_value(raw)
    return DemoLink(tokens[0], params)


def _split_params(value: str) -> list[str] | None:
    """Space-separated tokens; a value may be a JSON string in double quotes."""
    tokens: list[str] = []
    pattern = re.compile(r'\s*([^\s"=]+(?:=(?:"(?:[^"\\]|\\.)*"|[^\s"]*))?)')
    pos = 0
    while pos < len(value):
        if not value[pos:].strip():
            break
        match = pattern.match(value, pos)
        if not match:
            return None
        tokens.append(match.group(1))
        pos = match.end()
        if pos < len(value) and not value[pos].isspace():
            return None
    return tokens


def read_value(raw: str) -> Any:
    """A demo parameter value: int, float, true/false, a quoted string, else the text."""
    if raw.startswith('"'):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if _NUMBER_INT.fullmatch(raw):
        return int(raw)
    if raw in ("true", "false"):
        return raw == "true"
    try:
        number = float(raw)
    except ValueError:
        return raw
    return number if raw.lower() not in ("nan", "inf", "-inf", "+inf", "infinity") else raw


def write_value(value: Any) -> str:
    """The text `read_value` reads back as `value`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return (
            text
            if read_value(text) == value and isinstance(read_value(text), float)
            else json.dumps(text)
        )
    text = str(value)
    if _BARE_VALUE.fullmatch(text) and read_value(text) == text:
        return text
    return json.dumps(text, ensure_ascii=False)


# --- writing --------------------------------------------------------------------------------


def export(decks: Sequence[ExportDeck]) -> bytes:
    if len(decks) != 1:
        raise FormatError(
            f"a deck file holds one deck and there are {len(decks)}; choose one with --deck, "
            "or give a folder as --output to write one file per deck"
        )
    return render(decks[0]).encode("utf-8")


def render(deck: ExportDeck) -> str:
    head = f"# {_one_line(deck.name)}\n\n"
    description = "\n".join(
        "\\" + line if line.startswith("## ") else line
        for line in _trim(deck.description.split("\n"))
    )
    if description:
        head += description + "\n\n"
    cards = sorted(deck.cards, key=lambda c: c.position)
    return head + "\n".join(_render_card(card) for card in cards)


def _render_card(card: Any) -> str:
    if not CARD_ID.fullmatch(card.uid):
        raise FormatError(f"card id {card.uid!r} cannot be written to a deck file")
    out = [f"## {card.uid}"]
    if card.tags:
        out.append(f"tags: {', '.join(card.tags)}")
    if card.source:
        out.append(f"source: {_one_line(card.source)}")
    if card.demo is not None:
        names = [card.demo.id, *card.demo.params]
        if not all(_BARE_VALUE.fullmatch(str(name)) for name in names):
            raise FormatError(f"card {card.uid}: demo link {card.demo.id!r} cannot be written")
        params = " ".join(f"{k}={write_value(v)}" for k, v in card.demo.params.items())
        out.append(f"demo: {card.demo.id} {params}".rstrip())
    if card.suspended:
        out.append("suspended: true")
    text = "\n".join(out) + "\n\n" + _escape(card.front) + "\n\n---\n"
    if card.back:
        text += "\n" + _escape(card.back) + "\n"
    return text


def _escape(text: str) -> str:
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        edge = (i == 0 or i == len(lines) - 1) and not line.strip()
        if line.startswith(("## ", "\\")) or line == "---" or edge:
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
