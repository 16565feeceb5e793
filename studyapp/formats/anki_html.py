"""Turn the HTML that Anki keeps in its fields into plain text a terminal can show.

Cards are shown literally, so an Anki field such as `<div>Adam</div><ul><li>m</li></ul>`
must become readable lines ("Adam", "- m") rather than markup. The rules follow what a
browser would show: blocks and `<br>` start new lines, list items become bullets (ordered
lists numbered), runs of spaces in the source collapse, entities are decoded, images and
sounds become their names, `<script>`/`<style>` vanish. Text written through character
references (`&nbsp;`, `&#9;`) is kept as written, which is how exported cards keep their
indentation.
"""

from __future__ import annotations

import html
import re
from html.entities import html5
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "nav", "p", "section", "summary", "table"),
        *("tbody", "tfoot", "thead", "tr"),
    }
)
_SKIPPED = frozenset({"script", "style", "head", "title", "template", "noscript"})
_COLLAPSIBLE = re.compile(r"[ \t\n\r\f]+")
# A sound reference is shown with a space after the colon (so Anki does not play it when the
# card goes back); one that already has it, as our own export writes, is left as it is.
_SOUND = re.compile(r"\[sound: ?([^\]]*)\]")
_TAG = re.compile(r"<[!?/]?[A-Za-z][^<>]*>")
_STRAY_AMPERSAND = re.compile(r"&(?![#A-Za-z])")
_MAX_LIST_INDENT = 6  # deeper lists are shown at this depth
_NBSP = "\xa0"
# A space that HTML would collapse or drop: at the start or end of a line, or after a space
# or tab.
_SIGNIFICANT_SPACE = re.compile(r" (?<![^ \t\n] )| (?=\n|\Z)")
# The character references text_to_html writes, and what each stands for.
_WRITTEN = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&nbsp;": " ",
    "&#9;": "\t",
    "&#160;": _NBSP,
    "&#91;": "[",
    "&#31;": "\x1f",
}
_WRITTEN_REFERENCE = re.compile("|".join(map(re.escape, _WRITTEN)))


def text_to_html(text: str) -> str:
    """Field HTML that shows `text` as written: escaped, line breaks as `<br>`, and every
    space or tab HTML would collapse or drop (and a no-break space) as a reference, so
    `exact_text` gives `text` back. `[` is a reference too: Anki reads `[sound:...]`,
    `[latex]` and `[$]` in a field as media and formulas, and card text is only text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    escaped = html.escape(text, quote=False)
    if _NBSP in escaped:
        escaped = escaped.replace(_NBSP, "&#160;")
    if "[" in escaped:
        escaped = escaped.replace("[", "&#91;")
    if "\x1f" in escaped:  # Anki's field separator
        escaped = escaped.replace("\x1f", "&#31;")
    # Exactly when _SIGNIFICANT_SPACE can match; far faster than a search.
    if (
        "  " in text
        or "\t " in text
        or "\n " in text
        or " \n" in text
        or text.startswith(" ")
        or text.endswith(" ")
    ):
        escaped = _SIGNIFICANT_SPACE.sub("&nbsp;", escaped)
    return escaped.replace("\t", "&#9;").replace("\n", "<br>")


def exact_text(markup: str) -> str | None:
    """The text a field holds when it is exactly what `text_to_html` writes (plain text,
    `<br>` and the references it uses), every blank kept; None for any other HTML, which
    `html_to_text` reads as a browser would show it."""
    text = markup.replace("<br>", "\n")
    if "&" in text:
        text = _WRITTEN_REFERENCE.sub(lambda found: _WRITTEN[found.group(0)], text)
    return text if text_to_html(text) == markup else None


def html_to_text(markup: str) -> str:
    """Readable text for a piece of Anki HTML: one line per visual line, no tags left."""
    writer = _TextWriter()
    writer.feed(_escape_strays(markup))
    writer.close()
    return writer.text()


def _escape_strays(markup: str) -> str:
    """The markup with every `<` or `&` that starts no complete tag or reference escaped.

    html.parser rescans to the end of its input for each unfinished construct, so a field
    of many stray `<a` or `</` would take minutes; as text they cost nothing. A comment left
    open hides the rest, as in a browser.
    """
    out: list[str] = []
    position = 0
    while (start := markup.find("<", position)) != -1:
        out.append(_STRAY_AMPERSAND.sub("&amp;", markup[position:start]))
        if markup.startswith("<!--", start):
            end = markup.find("-->", start + 4)
            if end == -1:
                return "".join(out)
            position = end + 3
            continue
        tag = _TAG.match(markup, start)
        if tag:
            out.append(tag.group(0))
            position = tag.end()
        else:
            out.append("&lt;")
            position = start + 1
    out.append(_STRAY_AMPERSAND.sub("&amp;", markup[position:]))
    return "".join(out)


class _TextWriter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self._lines: list[str] = []
        self._line: list[str] = []
        self._has_content = False  # the current line has more than spaces
        self._pending_space = False
        self._prefix = ""  # bullet or number that opens the current line
        self._continuation: list[str] = []  # indentation under each open list item
        self._lists: list[list[int]] = []  # [ordered, count] for each open list
        self._cells: list[int] = []  # cells written so far in each open table row
        self._skip = 0
        self._pre = 0

    # Building lines.

    def _end_line(self, *, force: bool) -> None:
        if self._has_content:
            self._lines.append(self._prefix + "".join(self._line))
            self._prefix = self._continuation[-1] if self._continuation else ""
        elif force:
            self._lines.append("")
        self._line = []
        self._has_content = False
        self._pending_space = False

    def _write(self, text: str) -> None:
        if self._pending_space and self._has_content:
            self._line.append(" ")
        self._pending_space = False
        self._line.append(text)
        self._has_content = self._has_content or bool(text.strip(" "))

    def _write_collapsing(self, data: str) -> None:
        for index, piece in enumerate(_COLLAPSIBLE.split(data)):
            if index:
                self._pending_space = True
            if piece:
                self._write(piece)

    def _write_literal(self, data: str) -> None:
        lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for index, piece in enumerate(lines):
            if index:
                self._end_line(force=True)
            if piece:
                self._write(piece)

    # Parser callbacks.

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "br":
            self._end_line(force=True)
        elif tag in ("ul", "ol"):
            self._end_line(force=False)
            self._lists.append([tag == "ol", _list_start(attrs) - 1])
        elif tag == "li":
            self._start_item()
        elif tag == "pre":
            self._end_line(force=False)
            self._pre += 1
        elif tag in ("td", "th"):
            if self._cells:
                if self._cells[-1]:
                    self._write(" | ")
                self._cells[-1] += 1
        elif tag == "img":
            source = dict(attrs).get("src") or ""
            if source.startswith("data:"):
                source = "embedded"  # the image itself, base64-encoded in the field
            self._write(f"[image: {source}]" if source else "[image]")
        elif tag in _BLOCKS:
            self._end_line(force=False)
            if tag == "tr":
                self._cells.append(0)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in ("ul", "ol"):
            self._end_line(force=False)
            if self._lists:
                self._lists.pop()
        elif tag == "li":
            self._end_line(force=False)
            if self._continuation:
                self._continuation.pop()
            self._prefix = self._continuation[-1] if self._continuation else ""
        elif tag == "pre":
            self._end_line(force=False)
            self._pre = max(0, self._pre - 1)
        elif tag in _BLOCKS:
            self._end_line(force=False)
            if tag == "tr" and self._cells:
                self._cells.pop()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self._write_literal(data)
        else:
            self._write_collapsing(data)

    def handle_entityref(self, name: str) -> None:
        decoded = html5.get(name + ";")
        self._write_reference(decoded if decoded is not None else html.unescape("&" + name))

    def handle_charref(self, name: str) -> None:
        self._write_reference(html.unescape(f"&#{name};"))

    def _write_reference(self, text: str) -> None:
        # Spaces written as references are kept: they become NBSP until the text is done.
        if not self._skip:
            self._write_literal(text.replace(" ", _NBSP))

    def _start_item(self) -> None:
        self._end_line(force=False)
        if not self._lists:
            self._lists.append([False, 0])
        entry = self._lists[-1]
        entry[1] += 1
        marker = f"{entry[1]}. " if entry[0] else "- "
        indent = "  " * min(len(self._lists) - 1, _MAX_LIST_INDENT)
        self._prefix = indent + marker
        self._continuation.append(indent + " " * len(marker))

    def text(self) -> str:
        self._end_line(force=False)
        lines = [line.rstrip().replace(_NBSP, " ") for line in self._lines]
        kept: list[str] = []
        for line in lines:
            if line or (kept and kept[-1]):
                kept.append(line)
        while kept and not kept[-1]:
            kept.pop()
        return _SOUND.sub(r"[sound: \1]", "\n".join(kept))


def _list_start(attrs: list[tuple[str, str | None]]) -> int:
    value = dict(attrs).get("start") or "1"
    try:
        return max(-(10**6), min(int(value), 10**6))
    except ValueError:
        return 1
