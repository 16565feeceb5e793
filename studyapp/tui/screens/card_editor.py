"""Edit a card's front, back, tags and demo link, over whatever screen asked for it.

The editor checks what was typed and saves it through the card service; it closes with the
saved card, or with None when nothing was saved. A save refused (the card changed or went
since it was opened) leaves the editor open with the text as typed, and escape asks before
it throws typed text away. A demo link is typed as the demo id followed by `key=value`
overrides, checked against the demo's parameters the same way `demo run --set` is.

A control character in a card (from an imported file) is shown as `\\x1b`, as everywhere
else; a field left as it was shown keeps the card's exact text, and a field that was edited
is saved as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, TextArea

from studyapp.demo_api import UnknownDemoError, demo_ids, parse_link
from studyapp.errors import UserError
from studyapp.model import Card, DemoLink, normalize_tags
from studyapp.services.cards import DELETED_SINCE, CardService, ChangedSinceError
from studyapp.terminal import has_control, visible
from studyapp.tui.text import line, plain
from studyapp.tui.widgets.param_form import format_value


@dataclass(frozen=True)
class CardChanges:
    """What was edited: a field left as shown is None (the demo link False), and is left as
    it is in the collection, whoever changed it since."""

    card: Card  # as the editor showed it
    front: str | None
    back: str | None
    tags: tuple[str, ...] | None
    demo: DemoLink | None | bool  # False: leave the link as it is


def demo_text(link: DemoLink | None) -> str:
    if link is None:
        return ""
    overrides = " ".join(f"{k}={format_value(v)}" for k, v in link.params.items())
    return f"{link.id} {overrides}".strip()


def parse_demo_link(text: str) -> DemoLink | None:
    """`adam_vs_sgd steps=200` -> a checked DemoLink; empty text -> no demo. An unknown id
    is refused with the ids it is closest to (the command line's hint names a command)."""
    try:
        parsed = parse_link(text)
    except UnknownDemoError:
        typed = text.split()[0]
        near = get_close_matches(typed, demo_ids(), n=2, cutoff=0.75)
        hint = (
            f"did you mean {' or '.join(near)}?"
            if near
            else "the Demo list of the add-card screen (n on home) shows the catalogue"
        )
        raise UserError(f"there is no demo {typed!r}; {hint}") from None
    return DemoLink(*parsed) if parsed is not None else None


class CardEditor(ModalScreen[Card | None]):
    """Returns the card as saved, None when closed without saving."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="editor.save"),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
    ]

    def __init__(self, card: Card, cards: CardService) -> None:
        super().__init__()
        self.card = card  # as the fields left alone show it
        self.cards = cards

    def compose(self) -> ComposeResult:
        # Scrolls when it is taller than the terminal (a note and an error at 80x24).
        with VerticalScroll(id="editor-box"):
            yield Static(line(f"Edit card ({self.card.deck})").stylize("bold"))
            if any(map(has_control, self._shown_fields())):
                yield Static(
                    Content(
                        "This card holds control characters, shown as \\xNN (or \\u202e): a "
                        "field left as it is keeps them, an edited field is saved as typed."
                    ),
                    id="editor-note",
                )
            yield Label("Front")
            yield TextArea(visible(self.card.front), id="editor-front", compact=True)
            yield Label("Back")
            yield TextArea(visible(self.card.back), id="editor-back", compact=True)
            yield Label("Tags (separated by spaces)")
            yield Input(visible(self._tags_text()), id="editor-tags", compact=True)
            yield Label("Demo (id, then key=value overrides; empty for none)")
            yield Input(visible(demo_text(self.card.demo)), id="editor-demo", compact=True)
            yield Static(id="editor-error", markup=False)
            with Horizontal(id="editor-buttons"):
                yield Button("Save (ctrl+s)", id="editor-save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="editor-cancel", compact=True)
        yield Footer(compact=True)  # the editor's keys, not those of the screen under it

    def _tags_text(self) -> str:
        return " ".join(self.card.tags)

    def _shown_fields(self) -> tuple[str, ...]:
        card = self.card
        return (card.front, card.back, self._tags_text(), demo_text(card.demo))

    def on_mount(self) -> None:
        self.query_one("#editor-front", TextArea).focus()

    def read(self) -> CardChanges:
        """What was typed, checked; raises UserError with the first problem."""
        card = self.card
        front = _edited(self.query_one("#editor-front", TextArea).text, card.front)
        if front is not None and not front.strip():
            raise UserError("a card needs a front")
        back = _edited(self.query_one("#editor-back", TextArea).text, card.back)
        tags_text = _edited(self.query_one("#editor-tags", Input).value, self._tags_text())
        tags = normalize_tags(tags_text.split()) if tags_text is not None else None
        if tags == card.tags:
            tags = None
        typed = self.query_one("#editor-demo", Input).value
        demo: DemoLink | None | bool = False
        if typed.split() != visible(demo_text(card.demo)).split():
            demo = parse_demo_link(typed)
        return CardChanges(card, front, back, tags, demo)

    def action_save(self) -> None:
        try:
            changes = self.read()
            saved = apply_changes(self.cards, self.card.id, changes)
        except ChangedSinceError as exc:
            self._take_in_change(exc)
            return
        except UserError as exc:
            self._show_error(exc.message)
            return
        self.dismiss(saved)

    def _take_in_change(self, refused: ChangedSinceError) -> None:
        """Someone else changed a field this edit changes: the fields left alone now show
        the card as it is, the typed ones keep the text, and saving again saves it over."""
        try:
            stored = self.cards.detail(self.card.id).card
        except UserError as exc:
            self._show_error(exc.message)
            return
        if stored.uid != self.card.uid:
            self._show_error(DELETED_SINCE)
            return
        left_alone = self._left_alone()
        self.card = stored
        for field, alone, shown in zip(_FIELD_IDS, left_alone, self._shown(), strict=True):
            if alone:
                self._set_field(field, shown)
        self._show_error(
            f"The card's {' and '.join(refused.fields)} changed since you opened it (in another "
            "window or by an import); nothing was saved. Your text is still here: ctrl+s saves "
            "it over that change, escape leaves the card as it is now."
        )

    def read_raw(self) -> tuple[str, str, str, str]:
        """The text of each field as it is on screen: front, back, tags, demo."""
        return (
            self.query_one("#editor-front", TextArea).text,
            self.query_one("#editor-back", TextArea).text,
            self.query_one("#editor-tags", Input).value,
            self.query_one("#editor-demo", Input).value,
        )

    def _shown(self) -> tuple[str, str, str, str]:
        """Each field as the editor shows the card when it opens."""
        return tuple(map(visible, self._shown_fields()))  # type: ignore[return-value]

    def _set_field(self, field: str, text: str) -> None:
        widget = self.query_one(f"#{field}")
        if isinstance(widget, TextArea):
            widget.load_text(text)
        elif isinstance(widget, Input):
            widget.value = text

    def _show_error(self, message: str) -> None:
        error = self.query_one("#editor-error", Static)
        error.update(plain(message))
        self.call_after_refresh(error.scroll_visible)

    def _left_alone(self) -> tuple[bool, bool, bool, bool]:
        """For each field (front, back, tags, demo), whether it holds what it showed."""
        front, back, tags, demo = self.read_raw()
        card = self.card
        return (
            _edited(front, card.front) is None,
            _edited(back, card.back) is None,
            _edited(tags, self._tags_text()) is None,
            demo.split() == visible(demo_text(card.demo)).split(),
        )

    def touched(self) -> bool:
        """Whether any field holds text other than what it showed."""
        return not all(self._left_alone())

    def action_cancel(self) -> None:
        """Close; if text was typed, only once the learner says to throw it away."""
        if not self.touched():
            self.dismiss(None)
            return
        from studyapp.tui.screens.confirm import ask_to_discard

        ask_to_discard(
            self, "Discard your changes?", "What you typed in this card has not been saved."
        )

    @on(Button.Pressed, "#editor-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#editor-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


_FIELD_IDS = ("editor-front", "editor-back", "editor-tags", "editor-demo")


def _edited(text: str, original: str) -> str | None:
    """What was typed in a field, or None if it was left as shown (a text area shows a line
    or paragraph separator, U+2028 or U+2029, as a line break)."""
    shown = visible(original)
    as_lines = shown.replace("\u2028", "\n").replace("\u2029", "\n")
    return None if text in (shown, as_lines) else text


def apply_changes(cards: CardService, card_id: int, changes: CardChanges) -> Card:
    """Save what the editor returned; scheduling state and history stay as they are, and
    so do the fields left as shown."""
    return cards.update(
        card_id,
        front=changes.front,
        back=changes.back,
        tags=changes.tags,
        demo=changes.demo,
        shown=changes.card,
    )
