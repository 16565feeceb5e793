"""Render an Anki card's two sides from its note type's templates, as plain text.

Anki stores notes (fields) and note types (templates); a card is what a template makes of a
note. To import what the learner actually studied, each card is rendered here the way Anki
would show it, then reduced to text: `{{Field}}` substitution, `{{#Field}}`/`{{^Field}}`
sections, filters that only make sense in a browser (`hint:`, `type:`, `tts`) degraded to
text, and cloze deletions hidden as `[...]` (or `[hint]`) on the front of their own card and
shown as plain text everywhere else. `{{FrontSide}}` on the answer is left out, so the back
says only what the front did not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from studyapp.formats.anki_collection import NoteType, Template
from studyapp.formats.anki_export import UID_FIELD
from studyapp.formats.anki_html import exact_text, html_to_text

_TAG = re.compile(r"\{\{([^{}]*)\}\}")
_CLOZE_TOKEN = re.compile(r"\{\{c(\d{1,6}(?:,\d{1,6})*)::|\}\}")
_IMAGE_OCCLUSION = "image-occlusion:"
MAX_MARKUP = 50_000  # tags and entities in one side; real cards hold a few hundred
MAX_RENDERED = 4 * 1024 * 1024  # characters of fields substituted into one card
MAX_NESTING = 64  # deeper sections or deletions are left as written
# A Basic card's templates: one field on the front; the front again, a rule, one field.
_ONE_FIELD = re.compile(r"\s*\{\{([^{}:#^/!=>]+)\}\}\s*")
_FRONT_RULE_FIELD = re.compile(
    r"\s*\{\{FrontSide\}\}\s*<hr id=\"?answer\"?>\s*\{\{([^{}:#^/!=>]+)\}\}\s*"
)


@dataclass(frozen=True)
class RenderedCard:
    """A card's two sides as text, or the reason it cannot be shown."""

    front: str
    back: str
    problem: str | None = None
    unknown_fields: frozenset[str] = frozenset()


def render_card(
    notetype: NoteType,
    fields: Sequence[str],
    ord_: int,
    *,
    tags: Sequence[str] = (),
    deck: str = "",
) -> RenderedCard:
    """The text of card `ord_` of a note whose field values are `fields`."""
    padded = [*fields, *[""] * (len(notetype.fields) - len(fields))]
    values = dict(zip(notetype.fields, padded, strict=False))
    cloze = notetype.cloze
    template_index = 0 if cloze else ord_
    if not 0 <= template_index < len(notetype.templates):
        return RenderedCard("", "", f"note type '{notetype.name}' has no card template {ord_}")
    template = notetype.templates[template_index]
    specials = {
        "Tags": " ".join(tags),
        "Type": notetype.name,
        "Deck": deck,
        "Subdeck": deck.rsplit("::", 1)[-1],
        "Card": template.name,
    }
    context = _Context({**specials, **values}, cloze_ord=ord_ + 1 if cloze else None)
    try:
        front_html = _render(_parse(template.question), context, question=True)
        back_html = _render(_parse(template.answer), context, question=False)
    except _TooLarge:
        problem = f"its template repeats its fields into over {MAX_RENDERED:,} characters"
        return RenderedCard("", "", problem, frozenset(context.unknown))
    if any(_markup_count(side) > MAX_MARKUP for side in (front_html, back_html)):
        problem = f"it holds over {MAX_MARKUP:,} HTML tags, too many to show as text"
        return RenderedCard("", "", problem, frozenset(context.unknown))
    # studyapp's own notes come back exactly as they were written; others as shown.
    exact = _exact_sides(template, values) if UID_FIELD in notetype.fields else None
    if exact is not None:
        front, back = exact
    else:
        front, back = html_to_text(front_html), html_to_text(back_html)
        if back.startswith(front + "\n") and front:
            back = back[len(front) :].strip("\n")
    problem = None
    if cloze and context.cloze_seen == "missing":
        problem = f"its cloze deletion c{ord_ + 1} is not in the note"
    elif context.cloze_seen == "image":
        problem = "an image occlusion card is a masked image, not text"
    elif not front.strip():
        problem = f"its front is empty in note type '{notetype.name}'"
    return RenderedCard(front, back, problem, frozenset(context.unknown))


def _exact_sides(template: Template, values: Mapping[str, str]) -> tuple[str, str] | None:
    """A Basic card's two fields as the text they hold, every space and blank line kept,
    when both are plain text as studyapp's export writes them (see `exact_text`); else None
    (a field edited in Anki with markup, another template)."""
    question = _ONE_FIELD.fullmatch(template.question)
    answer = _FRONT_RULE_FIELD.fullmatch(template.answer)
    if question is None or answer is None:
        return None
    sides = []
    for name in (question.group(1), answer.group(1)):
        if name not in values:
            return None
        text = exact_text(values[name])
        if text is None:
            return None
        sides.append(text)
    return sides[0], sides[1]


# Anki's stock Cloze note type, for notes that come without theirs (a text export).
CLOZE = NoteType(
    id=0,
    name="Cloze",
    cloze=True,
    fields=("Text", "Back Extra"),
    templates=(Template("Cloze", "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),),
)


def cloze_numbers(text: str) -> list[int]:
    """The deletion numbers of a cloze field, in order: one card each."""
    found: set[int] = set()
    nodes = list(_parse_cloze(text))
    while nodes:
        node = nodes.pop()
        if isinstance(node, _Cloze):
            found |= node.ords
            nodes.extend(node.body)
    return sorted(found)


def _markup_count(html: str) -> int:
    return html.count("<") + html.count("&")


class _TooLarge(Exception):
    pass


@dataclass
class _Context:
    values: Mapping[str, str]
    cloze_ord: int | None
    cloze_seen: str = "missing"  # "missing", "found" or "image"
    unknown: set[str] = field(default_factory=set)
    rendered: int = 0  # characters substituted so far
    filled: dict[str, bool] = field(default_factory=dict)

    def has_content(self, name: str) -> bool:
        """Whether a field shows anything (`<br>` or spaces alone do not count)."""
        if name not in self.filled:
            value = self.lookup(name)
            if value is None:
                self.unknown.add(name)
            if value and _markup_count(value) > MAX_MARKUP:
                self.filled[name] = True  # too big to read through; it shows something
            else:
                self.filled[name] = bool(value and html_to_text(value).strip())
        return self.filled[name]

    def count(self, value: str) -> str:
        self.rendered += len(value)
        if self.rendered > MAX_RENDERED:
            raise _TooLarge
        return value

    def lookup(self, name: str) -> str | None:
        if name in self.values:
            return self.values[name]
        folded = name.casefold()
        for key, value in self.values.items():
            if key.casefold() == folded:
                return value
        # `{{#c2}}` in a cloze template asks whether this card is deletion 2.
        if self.cloze_ord is not None and re.fullmatch(r"c\d+", name):
            return "1" if int(name[1:]) == self.cloze_ord else ""
        return None


# A template is a list of text pieces, replacements and sections.
@dataclass(frozen=True)
class _Replacement:
    name: str
    filters: tuple[str, ...]  # applied in order: the one next to the field name first


@dataclass(frozen=True)
class _Section:
    name: str
    inverted: bool
    body: tuple[object, ...]


@lru_cache(maxsize=256)
def _parse(template: str) -> tuple[object, ...]:
    root: list[object] = []
    stack: list[tuple[str, bool, list[object]]] = []
    current = root
    position = 0
    for match in _TAG.finditer(template):
        if match.start() > position:
            current.append(template[position : match.start()])
        position = match.end()
        tag = match.group(1).strip()
        if tag[:1] in ("#", "^") and len(stack) >= MAX_NESTING:
            current.append(match.group(0))
        elif tag[:1] in ("#", "^"):
            stack.append((tag[1:].strip(), tag[0] == "^", current))
            current = []
        elif tag[:1] == "/":
            if stack:
                name, inverted, parent = stack.pop()
                parent.append(_Section(name, inverted, tuple(current)))
                current = parent
        elif tag:
            *filters, name = tag.split(":")
            current.append(_Replacement(name.strip(), tuple(f.strip() for f in reversed(filters))))
    current.append(template[position:])
    while stack:  # an unclosed section runs to the end of the template
        name, inverted, parent = stack.pop()
        parent.append(_Section(name, inverted, tuple(current)))
        current = parent
    return tuple(root)


def _render(nodes: Sequence[object], context: _Context, *, question: bool) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Section):
            if context.has_content(node.name) != node.inverted:
                out.append(_render(node.body, context, question=question))
        elif isinstance(node, _Replacement):
            out.append(context.count(_replace(node, context, question=question)))
    return "".join(out)


def _replace(node: _Replacement, context: _Context, *, question: bool) -> str:
    if node.name == "FrontSide":
        return ""  # the back shows only what the front did not
    value = context.lookup(node.name)
    if value is None:
        context.unknown.add(node.name)
        return ""
    for name in node.filters:
        if name == "cloze":
            value = _render_cloze(value, context, question=question)
        elif name == "cloze-only":
            value = ", ".join(_active_texts(_parse_cloze(value), context.cloze_ord))
        elif name == "type":
            # The front would ask the learner to type the answer; the back shows it.
            value = "" if question or "cloze" in node.filters else value
        elif name == "hint":
            value = f"<div>Hint: {value}</div>" if value.strip() else ""
        elif name.startswith("tts"):
            value = ""  # read aloud by Anki; the text is shown by the field itself
    return value


# Cloze deletions: `{{c1::answer::hint}}`, possibly nested, possibly `{{c1,2::...}}`.
@dataclass(frozen=True)
class _Cloze:
    ords: frozenset[int]
    body: tuple[object, ...]
    hint: str | None


def _parse_cloze(text: str) -> tuple[object, ...]:
    root: list[object] = []
    stack: list[tuple[frozenset[int], list[object], str]] = []
    current = root
    position = 0
    for match in _CLOZE_TOKEN.finditer(text):
        opening = match.group(1)
        if opening is None and not stack:
            continue  # a "}}" outside any deletion is just text
        if match.start() > position:
            current.append(text[position : match.start()])
        position = match.end()
        if opening is not None and len(stack) >= MAX_NESTING:
            current.append(match.group(0))
        elif opening is not None:
            ords = frozenset(int(n) for n in opening.split(","))
            stack.append((ords, current, match.group(0)))
            current = []
        else:
            ords, parent, _ = stack.pop()
            body, hint = _split_hint(current)
            parent.append(_Cloze(ords, body, hint))
            current = parent
    current.append(text[position:])
    while stack:  # an unclosed deletion is shown as written
        _, parent, opening_text = stack.pop()
        parent.extend([opening_text, *current])
        current = parent
    return tuple(root)


def _split_hint(body: list[object]) -> tuple[tuple[object, ...], str | None]:
    if body and isinstance(body[-1], str) and "::" in body[-1]:
        text, hint = body[-1].split("::", 1)
        return (*body[:-1], text), hint
    return tuple(body), None


def _render_cloze(text: str, context: _Context, *, question: bool) -> str:
    return _cloze_nodes(_parse_cloze(text), context, question=question)


def _cloze_nodes(nodes: Sequence[object], context: _Context, *, question: bool) -> str:
    out: list[str] = []
    for node in nodes:
        if not isinstance(node, _Cloze):
            out.append(str(node))
            continue
        active = context.cloze_ord in node.ords
        if active:
            first = node.body[0] if node.body else ""
            if isinstance(first, str) and first.startswith(_IMAGE_OCCLUSION):
                context.cloze_seen = "image"
            elif context.cloze_seen == "missing":
                context.cloze_seen = "found"
        if active and question:
            out.append(f"[{node.hint}]" if node.hint else "[...]")
        else:
            out.append(_cloze_nodes(node.body, context, question=question))
    return "".join(out)


def _active_texts(nodes: Sequence[object], cloze_ord: int | None) -> list[str]:
    texts: list[str] = []
    for node in nodes:
        if isinstance(node, _Cloze):
            if cloze_ord in node.ords:
                texts.append(_plain(node.body))
            else:
                texts.extend(_active_texts(node.body, cloze_ord))
    return texts


def _plain(nodes: Sequence[object]) -> str:
    return "".join(_plain(node.body) if isinstance(node, _Cloze) else str(node) for node in nodes)
