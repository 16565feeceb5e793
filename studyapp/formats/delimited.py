"""CSV and TSV: spreadsheets, Quizlet and Anki text exports, and our own export.

Reading follows RFC 4180 (quoted fields may hold separators, quotes and line breaks) and
Anki's text-export headers: `#separator:`, `#html:`, `#tags column:`, `#deck column:`,
`#guid column:`, `#notetype column:`, `#columns:`, `#deck:`, `#tags:`. A header row is
optional: it is recognised by its column names (front, back, tags, deck, id, source and
their usual synonyms); without one the first two columns are front and back. An unclosed
quote is reported at the line where its field started.

Writing gives a header row `front,back,tags,deck,id,source` (tags space-separated) with RFC
4180 quoting, which reads back into the same cards.

Tags: a tag never holds a space (`normalize_tags`), so a file that is ours (that header row)
or Anki's (a `#tags column:` header) is split at spaces only, and a tag holding a comma
comes back whole. Any other file's tags cell is split at spaces and commas, as people
write tags in a spreadsheet (`opt, adam`).
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import count, repeat
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

from studyapp.formats.anki_html import html_to_text
from studyapp.formats.anki_render import CLOZE, cloze_numbers, render_card
from studyapp.formats.base import (
    CardDraft,
    ExportDeck,
    FormatError,
    FormatSpec,
    ParseResult,
    Skipped,
)
from studyapp.formats.textio import head_text, looks_like_text, read_text
from studyapp.model import normalize_tags

EXPORT_COLUMNS = ("front", "back", "tags", "deck", "id", "source")
# English names first, then those spreadsheets in German, French, Spanish, Italian,
# Portuguese, Dutch, Russian, Japanese, Chinese and Korean give the same columns (in the
# last four, the names Anki gives its fields and the words for question and answer; words
# as short as 表 or 答 are too likely to be a first card).
_ROLE_NAMES = {
    "front": {
        *("front", "question", "term", "q", "prompt", "word", "text"),
        *("vorderseite", "frage", "begriff", "wort", "recto", "terme", "mot", "pregunta"),
        *("anverso", "término", "termino", "palabra", "domanda", "fronte", "termine"),
        *("parola", "pergunta", "frente", "termo", "palavra", "voorkant", "vraag", "woord"),
        *("вопрос", "термин", "лицевая сторона", "質問", "表面", "问题", "正面", "질문", "앞면"),
    },
    "back": {
        *("back", "answer", "definition", "a", "meaning", "response", "extra", "back extra"),
        *("rückseite", "ruckseite", "antwort", "bedeutung", "definition", "verso", "réponse"),
        *("reponse", "définition", "sens", "respuesta", "reverso", "definición", "definicion"),
        *("significado", "risposta", "retro", "definizione", "significato", "resposta"),
        *("definição", "definicao", "achterkant", "antwoord", "betekenis", "definitie"),
        *("ответ", "определение", "оборотная сторона", "答え", "裏面", "答案", "背面", "답변"),
        *("뒷면",),
    },
    "tags": {
        *("tags", "tag", "schlagwörter", "schlagworte", "stichwörter", "étiquettes"),
        *("etiquettes", "etiquetas", "etichette", "trefwoorden", "labels", "теги", "метки"),
        *("タグ", "标签", "標籤", "태그"),
    },
    "deck": {
        "deck",
        "stapel",
        "paquet",
        "mazo",
        "mazzo",
        "baralho",
        "колода",
        "デッキ",
        "牌组",
        "덱",
    },
    "id": {"id", "guid", "key", "uid", "note id"},
    "source": {"source"},
    "notetype": {"notetype", "note type"},
}
_SEPARATOR_NAMES = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "space": " ",
    "colon": ":",
}
_ANKI_HEADER = re.compile(r"^#([a-z][a-z ]*):(.*)$", re.IGNORECASE)
# A row is a cloze note when its note type says so or, without a note type column, when
# its front holds a deletion: a text export of Anki's cloze notes.
_CLOZE_TYPE = re.compile(r"cloze|image occlusion", re.IGNORECASE)
_CLOZE_FIELD = re.compile(r"\{\{c\d+::.*?\}\}", re.DOTALL)
_REVERSED_TYPE = re.compile(r"revers", re.IGNORECASE)
_EXCEL_SEPARATOR = re.compile(r"sep=([^\n\"])(?:\n|$)", re.IGNORECASE)
_CANDIDATES = (",", "\t", ";", "|")
_LINES_NAMED = 5  # lines a warning names before it says how many more
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_TAG_SPLIT = re.compile(r"[\s,]+")  # a spreadsheet's tags: `opt, adam`
_TAG_SPACES = re.compile(r"\s+")  # ours and Anki's: a tag never holds a space
MAX_COLUMN = 9999  # the highest column number a header can name
_DETECT_CHARS = 64 * 1024  # the sample a separator is guessed from
_DETECT_RECORDS = 50


@dataclass
class _Layout:
    """How a file's columns map onto card fields, from its headers and header row."""

    separator: str | None = None
    html: bool = False
    roles: dict[int, str] = field(default_factory=dict)  # column index -> role
    deck: str | None = None
    tags: tuple[str, ...] = ()
    named: bool = False  # the roles came from names (a header row or #columns)
    tag_split: re.Pattern[str] = _TAG_SPLIT  # what separates the tags in a tags cell
    # A front holding `{{c1::...}}` is read as a cloze note (Anki's text export without a
    # note type column), except in our own export, whose cards are written as they are.
    cloze_fronts: bool = True


# --- reading --------------------------------------------------------------------------------


def records(
    text: str, separator: str, path: Path, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, its fields) for each record of RFC 4180 text.

    The standard library's C reader does the work; a file it refuses only for text after a
    closing quote (which Excel keeps) is read again by the slower reader below.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    read = 0  # physical lines consumed by the records yielded so far
    try:
        for row in reader:
            yield first_line + read, row if row else [""]
            read = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise FormatError.at(
                path, f"line {first_line + read}", "a quoted field starts here and is never closed"
            ) from None
        offset = 0
        for _ in range(read):
            offset = text.index("\n", offset) + 1
        yield from _records_lenient(text[offset:], separator, path, first_line + read)


def _one_line_records(text: str, separator: str) -> list[list[str]] | None:
    """The records of `text` when none spans lines (record i is then on line i), else None.

    Text with no quote in it is split at line breaks and separators; other text is read in
    one go by the C reader, and handed back to `records` if it refuses it or a quoted field
    holds a line break.
    """
    if '"' not in text:
        lines = text.split("\n") if text else []
        if text.endswith("\n"):
            lines.pop()
        return [line.split(separator) for line in lines]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    if len(rows) != text.count("\n") + (0 if text.endswith("\n") else 1):
        return None
    return [row if row else [""] for row in rows]


def _records_lenient(
    text: str, separator: str, path: Path, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """Like `records`, keeping text after a closing quote as part of the field."""
    stop = re.compile("[" + re.escape(separator) + "\n]")
    i, n, line = 0, len(text), first_line
    while i < n:
        start_line = line
        fields: list[str] = []
        while True:
            if i < n and text[i] == '"':
                opened = line
                i += 1
                parts: list[str] = []
                while True:
                    j = text.find('"', i)
                    if j < 0:
                        raise FormatError.at(
                            path,
                            f"line {opened}",
                            "a quoted field starts here and is never closed",
                        )
                    parts.append(text[i:j])
                    line += text.count("\n", i, j)
                    if j + 1 < n and text[j + 1] == '"':
                        parts.append('"')
                        i = j + 2
                        continue
                    i = j + 1
                    break
                match = stop.search(text, i)
                k = match.start() if match else n
                parts.append(text[i:k])  # text after a closing quote is kept, as Excel does
                i = k
                fields.append("".join(parts))
            else:
                match = stop.search(text, i)
                k = match.start() if match else n
                fields.append(text[i:k])
                i = k
            if i < n and text[i] == separator:
                i += 1
                continue
            break
        if i < n and text[i] == "\n":
            i += 1
            line += 1
        yield start_line, fields


def _read_headers(text: str, path: Path, result: ParseResult) -> tuple[_Layout, str, int]:
    """Anki's `#key:value` lines at the top: the layout, the rest of the text, its first line.

    Excel's `sep=;` first line, which names the separator of a file saved for another
    locale, is read as `#separator:` is.
    """
    layout = _Layout()
    headers = 0
    start = 0  # where the line being looked at starts
    excel = _EXCEL_SEPARATOR.match(text)
    if excel:
        layout.separator = excel.group(1)
        headers, start = 1, excel.end()
    columns_line: str | None = None
    while start <= len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        match = _ANKI_HEADER.match(text[start:end])
        if not match:
            break
        headers += 1
        start = end + 1
        key, value = match.group(1).strip().lower(), match.group(2).strip()
        where = f"line {headers}"
        if key == "separator":
            layout.separator = _separator(value, path, where)
        elif key == "html":
            layout.html = value.lower() == "true"
        elif key in ("tags column", "deck column", "guid column", "notetype column"):
            role = {"tags": "tags", "deck": "deck", "guid": "id", "notetype": "notetype"}[
                key.split()[0]
            ]
            if not (re.fullmatch("[0-9]{1,4}", value) and int(value) >= 1):
                shown = value if len(value) <= 20 else f"{value[:20]}..."
                raise FormatError.at(
                    path,
                    where,
                    f"#{key} takes a column number from 1 to {MAX_COLUMN}, not {shown!r}",
                )
            layout.roles[int(value) - 1] = role
            if role == "tags":
                layout.tag_split = _TAG_SPACES  # Anki's text export: tags hold commas
        elif key == "columns":
            columns_line = value
        elif key == "deck":
            layout.deck = value or None
        elif key == "tags":
            layout.tags = normalize_tags(_TAG_SPLIT.split(value))
        else:
            result.warnings.append(f"{where}: the header #{key} is not used")
    if columns_line is not None:
        names = columns_line.split(layout.separator or "\t")
        _assign_names(layout, names)
    return layout, text[start:], headers + 1


def _separator(value: str, path: Path, where: str) -> str:
    named = _SEPARATOR_NAMES.get(value.lower())
    if named:
        return named
    if len(value) == 1 and value not in '"\n':
        return value
    raise FormatError.at(path, where, f"unknown separator {value!r}")


def _role_of(name: str) -> str | None:
    clean = name.strip().lower()
    return next((role for role, names in _ROLE_NAMES.items() if clean in names), None)


def _assign_names(layout: _Layout, names: Sequence[str]) -> None:
    layout.named = True
    for index, name in enumerate(names):
        role = _role_of(name)
        if role and index not in layout.roles and role not in layout.roles.values():
            layout.roles[index] = role


def _looks_like_header(row: Sequence[str]) -> bool:
    """A first row of column names: two or more known ones, most cells known, none twice."""
    cells = [c.strip() for c in row if c.strip()]
    roles = [r for r in (_role_of(c) for c in cells) if r]
    return (
        len(roles) >= 2
        and 2 * len(roles) >= len(cells)
        and bool({"front", "back"} & set(roles))
        and len(set(roles)) == len(roles)
    )


def _rows_split_at_semicolons(body: str, separator: str) -> list[list[str]] | None:
    """The rows of a file written on one line with ';' after each row, as Quizlet exports
    with 'Between rows: Semicolon' (`term<TAB>definition;term<TAB>definition;`); None for
    any other file. Each row must hold exactly one separator, so a ';' inside a definition
    that holds none leaves the file as it is."""
    line = body.strip("\n")
    if separator == ";" or "\n" in line or '"' in line or ";" not in line:
        return None
    parts = line.split(";")
    if not parts[-1].strip():
        parts.pop()  # the ';' after the last row
    if len(parts) < 2 or any(part.count(separator) != 1 for part in parts):
        return None
    return [part.split(separator) for part in parts]


def _guess_separator(text: str, path: Path) -> str:
    """The separator that splits the rows alike (most often into the same number of
    columns, two or more). When two do that equally, a comma with a digit on each side is
    taken for a decimal comma (`3,14` in a European spreadsheet's `;`-separated file), and
    the other separator wins."""
    preferred = "\t" if path.suffix.lower() in (".tsv", ".tab", ".txt") else ","
    order = [preferred, *(c for c in _CANDIDATES if c != preferred)]
    best, best_score = preferred, 0.0
    sample = text[:_DETECT_CHARS]
    for candidate in order:
        counts: list[int] = []
        try:
            for _, row in records(text[:_DETECT_CHARS], candidate, path):
                if any(cell.strip() for cell in row):
                    counts.append(len(row))
                if len(counts) >= _DETECT_RECORDS:
                    break
        except FormatError:
            pass  # a quote left open in the sample: judge on the rows read so far
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        score = hits / len(counts) if mode >= 2 else 0.0
        if score > best_score or (
            score == best_score > 0 and best == "," and _decimal_commas(sample)
        ):
            best, best_score = candidate, score
    return best


def _decimal_commas(text: str) -> bool:
    """Whether every comma of `text` sits between two digits (`3,14`, `1,000`)."""
    commas = text.count(",")
    return commas > 0 and len(_DECIMAL_COMMA.findall(text)) == commas


def parse_text(text: str, path: Path, name: str) -> ParseResult:
    result = ParseResult(format=name)
    if not text.strip():
        raise FormatError.at(path, None, "the file is empty")
    layout, body, first_line = _read_headers(text, path, result)
    separator = layout.separator or ("\t" if name == "tsv" else _guess_separator(body, path))
    split = None if layout.separator else _rows_split_at_semicolons(body, separator)
    listed = None if split is not None else _one_line_records(body, separator)
    rows: Iterator[tuple[int, list[str]]]
    if split is not None:
        rows = zip(repeat(first_line), split)
        result.warnings.append(
            f"the file's one line was read as {len(split)} rows, split at ';' (as Quizlet's "
            "export writes them with 'Between rows: Semicolon')"
        )
    elif listed is None:
        rows = iter(records(body, separator, path, first_line))
    else:
        rows = zip(count(first_line), listed, strict=False)
    pending: tuple[int, list[str]] | None = None
    consumed = 0
    if not layout.named:
        for number, row in rows:
            consumed += 1
            if any(cell.strip() for cell in row):
                if _looks_like_header(row):
                    _assign_names(layout, row)
                    if [cell.strip() for cell in row] == list(EXPORT_COLUMNS):
                        layout.tag_split = _TAG_SPACES  # our own export
                        layout.cloze_fronts = False
                else:
                    pending = (number, row)
                break
    _fill_roles(layout, result)
    result.deck_name = layout.deck
    carried = {"tags"} if "tags" in layout.roles.values() or layout.tags else set()
    if "source" in layout.roles.values():
        carried.add("source")
    result.carries = frozenset(carried)

    if listed is not None:
        start = consumed - 1 if pending is not None else consumed
        if not _read_columns(layout, listed[start:], first_line + start, result):
            _read_rows(layout, zip(count(first_line + start), listed[start:]), result)
    else:

        def all_rows() -> Iterator[tuple[int, list[str]]]:
            if pending is not None:
                yield pending
            yield from rows

        _read_rows(layout, all_rows(), result)
    backs = map(attrgetter("back"), result.cards)
    empty = (
        [] if all(map(str.strip, backs)) else [c.where for c in result.cards if not c.back.strip()]
    )
    if empty and len(empty) == len(result.cards):
        back = next(index for index, role in layout.roles.items() if role == "back")
        result.warnings.append(
            f"every card has an empty back: no row has text in column {back + 1}"
        )
    elif empty and layout.cloze_fronts:  # not our own export, which writes them as they are
        shown = ", ".join(where.removeprefix("line ") for where in empty[:_LINES_NAMED])
        more = f" and {len(empty) - _LINES_NAMED} more" if len(empty) > _LINES_NAMED else ""
        result.warnings.append(
            f"{len(empty)} row{'s have' if len(empty) != 1 else ' has'} a front and no back "
            f"(line{'s' if len(empty) != 1 else ''} {shown}{more}): imported so; a line break "
            "inside a field that is not quoted splits a row in two"
        )
    return result


def _read_columns(
    layout: _Layout, rows: list[list[str]], first_line: int, result: ParseResult
) -> bool:
    """Every row as a card draft, column by column; False (having read nothing) unless each
    row has exactly the columns the roles take and a front, and no HTML needs reading.

    The common file (a front, a back, maybe tags, one card a line) is read here without
    a Python step per row; anything else goes through `_read_rows`.
    """
    width = max(layout.roles) + 1
    if not rows or layout.html or len(layout.roles) != width or set(map(len, rows)) != {width}:
        return False
    column = {role: index for index, role in layout.roles.items()}
    if "notetype" in column:
        return False
    fronts = list(map(itemgetter(column["front"]), rows))
    if not all(map(str.strip, fronts)):
        return False
    if layout.cloze_fronts and any("{{c" in front for front in fronts):
        return False

    def cells(role: str, clean: Callable[[str], Any], absent: Any) -> Iterable[Any]:
        at = column.get(role)
        return repeat(absent) if at is None else map(clean, map(itemgetter(at), rows))

    tags_at = column.get("tags")
    tag_cells = () if tags_at is None else set(map(itemgetter(tags_at), rows))
    tags_of = {  # a file has a few distinct tag lists: each is normalized once
        cell: normalize_tags([*layout.tags, *layout.tag_split.split(cell)])
        for cell in {"", *tag_cells}
    }
    result.cards += map(
        _new_draft,
        zip(
            fronts,
            map(itemgetter(column["back"]), rows),
            cells("tags", tags_of.__getitem__, tags_of[""]),
            cells("source", str.strip, ""),
            cells("id", _stripped_or_none, None),
            cells("deck", _stripped_or_none, None),
            repeat(None),
            map("line {}".format, range(first_line, first_line + len(rows))),
            repeat(None),
            repeat(()),
            repeat(False),
            repeat(None),
            repeat(None),
        ),
    )
    return True


def _stripped_or_none(cell: str) -> str | None:
    return cell.strip() or None


# A card draft from all its fields at once, without a Python call (what `CardDraft._make`
# does, minus the length check the zip above makes needless).
_new_draft = partial(tuple.__new__, CardDraft)


def _fill_roles(layout: _Layout, result: ParseResult) -> None:
    """Columns without a role: the first free ones are front and back, the rest are unused."""
    taken = set(layout.roles.values())
    for role in ("front", "back"):
        if role in taken:
            continue
        index = 0
        while index in layout.roles:
            index += 1
        layout.roles[index] = role


def _read_rows(layout: _Layout, rows: Iterator[tuple[int, list[str]]], result: ParseResult) -> None:
    """Every record as a card draft, or as a skipped entry saying why it is not one.

    This loop runs once per card of files that can hold hundreds of thousands, so each
    role's column is looked up once, rows are padded to the columns the roles use, and the
    tags of a row are normalized once per distinct cell.
    """
    column = {role: index for index, role in layout.roles.items()}
    width = max(layout.roles) + 1
    padding = [""] * width
    unrolled = [i for i in range(width) if i not in layout.roles]
    front_at, back_at = column["front"], column["back"]
    tags_at, source_at = column.get("tags"), column.get("source")
    id_at, deck_at = column.get("id"), column.get("deck")
    notetype_at = column.get("notetype")
    reversed_notes: Counter[str] = Counter()
    html, tag_split = layout.html, layout.tag_split
    tag_cache: dict[str, tuple[str, ...]] = {}
    cards, skipped = result.cards, result.skipped
    unused: dict[int, list[int]] = {}  # column -> lines where it held text that was not taken
    for number, row in rows:
        if unrolled or len(row) != width:  # else every column is one of the card's
            size = len(row)
            if size == 1 and not row[0].strip():
                continue  # a blank line
            if size < width:
                row = row + padding[size:]
            for index in unrolled if size <= width else [*unrolled, *range(width, size)]:
                if row[index].strip():
                    unused.setdefault(index + 1, []).append(number)
        front, back = row[front_at], row[back_at]
        if (
            _CLOZE_TYPE.search(row[notetype_at])
            if notetype_at is not None
            else layout.cloze_fronts and "{{c" in front and _CLOZE_FIELD.search(front)
        ):
            _read_cloze(layout, row, number, result)
            continue
        if notetype_at is not None and _REVERSED_TYPE.search(row[notetype_at]):
            reversed_notes[row[notetype_at].strip()] += 1
        if html:
            front, back = html_to_text(front), html_to_text(back)
        if not front.strip():
            if not any(map(str.strip, row)):
                continue  # a spreadsheet's empty row: every cell blank
            reason = "a back but no front" if back.strip() else "no front and no back"
            skipped.append(Skipped(f"line {number}", f"row has {reason}"))
            continue
        cell = row[tags_at] if tags_at is not None else ""
        tags = tag_cache.get(cell)
        if tags is None:
            tags = tag_cache[cell] = normalize_tags([*layout.tags, *tag_split.split(cell)])
        cards.append(
            CardDraft(
                front,
                back,
                tags,
                row[source_at].strip() if source_at is not None else "",
                (row[id_at].strip() or None) if id_at is not None else None,
                (row[deck_at].strip() or None) if deck_at is not None else None,
                None,
                f"line {number}",
            )
        )
    _warn_unused(unused, result)
    for notetype, notes in sorted(reversed_notes.items()):
        result.warnings.append(
            f"{notes} note{'s' if notes != 1 else ''} of type '{notetype}' gave only the "
            "front-to-back card: a text export holds notes, not their reversed cards; "
            "export the deck from Anki as a package (.apkg) to get both"
        )


def _read_cloze(layout: _Layout, row: list[str], number: int, result: ParseResult) -> None:
    """The cards of a cloze note (one per deletion number) as Anki would show them, each
    with its deletion hidden on the front; a note with none, or of image occlusions, is
    skipped with the reason."""
    column = {role: index for index, role in layout.roles.items()}
    text, extra = row[column["front"]], row[column["back"]]
    if not layout.html:
        text, extra = (
            html.escape(side, quote=False).replace("\n", "<br>") for side in (text, extra)
        )
    tags = normalize_tags([*layout.tags, *layout.tag_split.split(_cell(row, column, "tags"))])
    key = _cell(row, column, "id").strip()
    numbers = cloze_numbers(text)
    if not numbers:
        result.skipped.append(Skipped(f"line {number}", "cloze note without a deletion"))
    for cloze in numbers:
        where = f"line {number} cloze {cloze}"
        card = render_card(CLOZE, (text, extra), cloze - 1)
        if card.problem:
            result.skipped.append(Skipped(where, card.problem))
            continue
        result.cards.append(
            CardDraft(
                card.front,
                card.back,
                tags,
                _cell(row, column, "source").strip(),
                f"{key}:c{cloze}" if key else None,
                _cell(row, column, "deck").strip() or None,
                None,
                where,
            )
        )


def _cell(row: list[str], column: dict[str, int], role: str) -> str:
    at = column.get(role)
    return row[at] if at is not None else ""


def _warn_unused(unused: dict[int, list[int]], result: ParseResult) -> None:
    """One warning for each run of neighbouring columns left out on the same rows."""
    runs: list[tuple[int, int, list[int]]] = []  # first column, last column, rows
    for index, numbers in sorted(unused.items()):
        if runs and runs[-1][1] == index - 1 and runs[-1][2] == numbers:
            runs[-1] = (runs[-1][0], index, numbers)
        else:
            runs.append((index, index, numbers))
    for first, last, numbers in runs:
        where = (
            f"line {numbers[0]}"
            if len(numbers) == 1
            else f"{len(numbers)} rows from line {numbers[0]}"
        )
        columns = f"column {first}" if first == last else f"columns {first} to {last}"
        verb = "was" if first == last else "were"
        result.warnings.append(
            f"{columns} ({where}) {verb} left out: "
            f"{'it is' if first == last else 'they are'} not front, back, tags, deck, id or source"
        )


def parse_csv(path: Path) -> ParseResult:
    return parse_text(read_text(path), path, "csv")


def parse_tsv(path: Path) -> ParseResult:
    return parse_text(read_text(path), path, "tsv")


def _sniff(path: Path, head: bytes, tab: bool) -> float:
    if not looks_like_text(head):
        return 0.0
    text = head_text(head)
    suffix = path.suffix.lower()
    separator = re.match(r"#separator:(\S+)", text, re.IGNORECASE)
    if separator or re.match(r"#html:(?:true|false)", text, re.IGNORECASE):
        is_tab = separator is None or separator.group(1).lower() in ("tab", "\t")
        return 0.95 if is_tab == tab else 0.9
    if suffix in (".tsv", ".tab"):
        return 0.7 if tab else 0.0
    if suffix == ".csv":
        return 0.7 if not tab else 0.0
    if tab and suffix == ".txt":
        lines = [line for line in text.split("\n")[:40] if line.strip()]
        tabbed = sum(1 for line in lines if "\t" in line)
        return 0.5 if lines and tabbed / len(lines) >= 0.8 else 0.0
    return 0.0


# --- writing --------------------------------------------------------------------------------


def _export(decks: Sequence[ExportDeck], separator: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for deck in decks:
        for card in sorted(deck.cards, key=lambda c: c.position):
            writer.writerow(
                [card.front, card.back, " ".join(card.tags), deck.name, card.uid, card.source]
            )
    return buffer.getvalue().encode("utf-8")


def export_csv(decks: Sequence[ExportDeck]) -> bytes:
    return _export(decks, ",")


def export_tsv(decks: Sequence[ExportDeck]) -> bytes:
    return _export(decks, "\t")


FORMATS = (
    FormatSpec(
        name="csv",
        description="comma-separated values (spreadsheets, Anki text exports)",
        extensions=(".csv",),
        sniff=lambda path, head: _sniff(path, head, tab=False),
        parse=parse_csv,
        export=export_csv,
    ),
    FormatSpec(
        name="tsv",
        description="tab-separated values (Anki and Quizlet text exports)",
        extensions=(".tsv", ".txt"),
        sniff=lambda path, head: _sniff(path, head, tab=True),
        parse=parse_tsv,
        export=export_tsv,
    ),
)
