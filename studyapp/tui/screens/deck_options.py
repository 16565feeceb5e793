"""A deck's options: its name, daily limits, day-start hour, scheduler and desired retention;
a new deck; deleting a deck.

The fields come from `studyapp.model.DECK_SETTINGS`, the list `studyapp deck` takes its
options from, each with its bounds beside it and read by the setting's own rule, so this
screen and the command accept exactly the same values. A setting with choices (the
scheduler) is picked from a list; the others are typed.

Saving runs off the UI thread: switching a deck with a long history to FSRS gives every
reviewed card its memory state from the whole review log, which can take a while. The
screen says it is saving, and stays until the save is done.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from studyapp.errors import NoSuchDeckError, UserError
from studyapp.model import DECK_SETTINGS, DeckSetting, DeckSettings
from studyapp.services.decks import DeckDetail, clean_name
from studyapp.services.scheduler import SwitchReport
from studyapp.tui.context import Services
from studyapp.tui.messages import DeckSaved
from studyapp.tui.screens.confirm import ConfirmScreen, ask_to_discard
from studyapp.tui.text import line, plain


class SettingInput(Input):
    """An input that knows which deck setting it edits."""

    def __init__(self, setting: DeckSetting, value: object) -> None:
        super().__init__(
            setting.shown(value),
            compact=True,
            id=f"options-{setting.name}",
            classes="setting-field",
        )
        self.setting = setting
        self.shown = setting.shown(value)

    @property
    def typed(self) -> str:
        return self.value

    @property
    def changed(self) -> bool:
        """Whether it holds other than what it showed (a value shown rounded, such as a
        retention of 0.875 shown as 0.88, is left as it is unless it was edited)."""
        return self.value.strip() != self.shown.strip()


class SettingChoice(Select[str]):
    """A list to pick a deck setting's value from (a setting with choices)."""

    def __init__(self, setting: DeckSetting, value: object) -> None:
        names = setting.choice_names or setting.choices
        shown = value if value in setting.choices else setting.choices[0]
        super().__init__(
            list(zip(names, setting.choices, strict=True)),
            value=shown,
            allow_blank=False,
            compact=True,
            id=f"options-{setting.name}",
            classes="setting-field",
        )
        self.setting = setting
        self.shown = shown

    @property
    def typed(self) -> str:
        return str(self.value)

    @property
    def changed(self) -> bool:
        return self.value != self.shown


def setting_field(setting: DeckSetting, value: object) -> SettingInput | SettingChoice:
    return SettingChoice(setting, value) if setting.choices else SettingInput(setting, value)


def switch_note(name: str, report: SwitchReport) -> str:
    """What switching the deck's scheduler did, in one sentence."""
    if report.scheduler != "fsrs":
        return f"{name} now schedules with SM-2, from each card's current interval."
    given = report.from_log + report.from_schedule
    cards = f"{given} reviewed card{'s' if given != 1 else ''}"
    return f"{name} now schedules with FSRS ({cards} given a memory state; due dates unchanged)."


def saving_note(detail: DeckDetail | None, values: dict[str, int | float | str]) -> str:
    """What the screen says while a save runs: a switch to FSRS is the slow kind."""
    if detail is None:
        return "Creating the deck..."
    if values.get("scheduler") == "fsrs" and detail.deck.settings.scheduler != "fsrs":
        return (
            "Saving: switching to FSRS gives each reviewed card a memory state from its "
            "review history, which takes a while on a long history..."
        )
    return "Saving..."


def counts_line(detail: DeckDetail) -> Content:
    counts = detail.counts
    cards = f"{counts.total} card{'s' if counts.total != 1 else ''}"
    return Content(
        f"{cards}: {counts.new} new, {counts.due} due today, {counts.learning} learning, "
        f"{counts.suspended} suspended"
    )


class DeckOptionsScreen(Screen[str | None]):
    """The options of deck `name`, or a new deck when `name` is None. Dismissed with the
    deck's name once it is saved (None when nothing was, or the deck was deleted)."""

    AUTO_FOCUS = "#options-name"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="options.save"),
        # ctrl+d deletes a character in a field: the deck is ctrl+delete (or the button).
        Binding("ctrl+delete", "delete", "Delete deck", id="options.delete"),
        Binding("escape", "back", "Back", id="options.back"),
    ]

    def __init__(self, services: Services, name: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.detail = services.decks.detail(name) if name is not None else None
        self.saving = False

    @property
    def is_new(self) -> bool:
        return self.detail is None

    def compose(self) -> ComposeResult:
        detail = self.detail
        settings = detail.deck.settings if detail is not None else DeckSettings()
        with VerticalScroll(id="options-body"):
            yield Static(self._title(), id="options-title", classes="screen-title")
            if detail is not None:
                yield Static(counts_line(detail), id="options-counts")
            with Horizontal(classes="option-row"):
                yield Label("Name", classes="option-label")
                yield Input(
                    detail.deck.name if detail is not None else "",
                    placeholder="the deck's name",
                    id="options-name",
                    compact=True,
                )
            for setting in DECK_SETTINGS:
                with Horizontal(classes="option-row"):
                    yield Label(setting.label, classes="option-label")
                    yield setting_field(setting, getattr(settings, setting.name))
                    # A list shows its own choices; a typed value needs its bounds said.
                    bounds = "" if setting.choices else f"{setting.bounds}: "
                    yield Static(line(f"{bounds}{setting.help}"), classes="option-help")
            yield Static(id="options-error", markup=False)
            yield Static(id="options-status", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(
                    "Create (ctrl+s)" if detail is None else "Save (ctrl+s)",
                    id="options-save",
                    variant="primary",
                    compact=True,
                )
                if detail is not None:
                    yield Button(
                        "Delete deck (ctrl+delete)",
                        id="options-delete",
                        variant="error",
                        compact=True,
                    )
                yield Button("Back (esc)", id="options-back", compact=True)
        yield Footer(compact=True)

    def _title(self) -> Content:
        detail = self.detail
        title = "New deck" if detail is None else f"Deck options: {detail.deck.name}"
        return line(title).stylize("bold")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return None if self.saving else not self.is_new
        if action == "save":
            return None if self.saving else True
        return True

    def read(self) -> tuple[str, dict[str, int | float | str]]:
        """The name and settings typed, each checked; UserError names the first problem.

        For a deck that exists, only the settings changed here: the others are left as they
        are in the collection, whoever changed them since the screen opened.
        """
        name = clean_name(self.query_one("#options-name", Input).value)
        values: dict[str, int | float | str] = {}
        problem: str | None = None
        for field in self.query(".setting-field").results():
            assert isinstance(field, SettingInput | SettingChoice)
            if self.detail is not None and not field.changed:
                field.remove_class("-invalid")
                continue  # left as shown: the deck keeps its own value
            try:
                values[field.setting.name] = field.setting.parse(field.typed)
                field.remove_class("-invalid")
            except ValueError as exc:
                field.add_class("-invalid")
                problem = problem or str(exc)
        if problem is not None:
            raise UserError(problem)
        return name, values

    def action_save(self) -> None:
        """Check what was typed here, then save it in a worker (`_save`)."""
        if self.saving:
            return
        try:
            name, values = self.read()
        except UserError as exc:
            self._show_error(exc.message)
            return
        self._set_saving(True, saving_note(self.detail, values))
        self._save(name, values)

    @work(thread=True, exclusive=True, group="save-options", exit_on_error=False)
    def _save(self, name: str, values: dict[str, int | float | str]) -> None:
        decks = self.services.decks
        renamed = False
        try:
            if self.detail is None:
                decks.create(name, DeckSettings(**values))
                done = f"Created deck {name}."
            else:
                old = self.detail.deck.name
                if name != old:
                    decks.rename(old, name)
                    renamed = True
                report = decks.update_settings(
                    name, shown=self.detail.deck.settings, **values
                ).switch
                done = f"Saved the options of {name}." if name == old else f"Renamed to {name}."
                if report is not None and report.switched:
                    done += f" {switch_note(name, report)}"
        except NoSuchDeckError as exc:
            if not renamed:
                self.post_message(DeckSaved(name, error=exc.message, gone=exc.name))
                return
            self.post_message(DeckSaved(name, error=f"Renamed to {name}, but {exc}", renamed=True))
        except Exception as exc:  # shown, not raised: the app keeps running
            reason = exc.message if isinstance(exc, UserError) else f"Not saved: {exc}"
            if renamed:
                reason = f"Renamed to {name}, but the other options were not saved: {exc}"
            self.post_message(DeckSaved(name, error=reason, renamed=renamed))
        else:
            self.post_message(DeckSaved(name, done=done))

    def on_deck_saved(self, message: DeckSaved) -> None:
        self._set_saving(False)
        if message.gone is not None:
            self.dismiss(None)
            self.app.deck_gone(NoSuchDeckError(message.gone))  # type: ignore[attr-defined]
            return
        if message.error is None:
            self.notify(message.done, markup=False)
            self.dismiss(message.name)
            return
        if message.renamed and self.detail is not None:
            # The new name stands: saving again must not try to rename the old one.
            self.detail = replace(self.detail, deck=replace(self.detail.deck, name=message.name))
            self.query_one("#options-title", Static).update(self._title())
        self._show_error(message.error)

    def _set_saving(self, saving: bool, note: str = "") -> None:
        self.saving = saving
        self.query_one("#options-save", Button).label = (
            "Saving..." if saving else ("Create (ctrl+s)" if self.is_new else "Save (ctrl+s)")
        )
        status = self.query_one("#options-status", Static)
        status.update(plain(note) if saving else "")
        status.display = saving
        if saving:
            self.query_one("#options-error", Static).update("")
            self.call_after_refresh(status.scroll_visible)
        self.refresh_bindings()

    def _show_error(self, message: str) -> None:
        error = self.query_one("#options-error", Static)
        error.update(plain(message))
        self.call_after_refresh(error.scroll_visible)  # under the fields at 80x24

    def action_delete(self) -> None:
        if self.detail is not None and not self.saving:
            self._delete(self.detail)

    @work(exclusive=True, group="delete-deck", exit_on_error=False)
    async def _delete(self, detail: DeckDetail) -> None:
        counts = detail.counts
        cards = f"{counts.total} card{'s' if counts.total != 1 else ''}"
        body = (
            f"Delete {detail.deck.name} with its {cards} and their review history? The "
            "collection is backed up first. A bundled deck you delete stays deleted."
        )
        question = ConfirmScreen(f"Delete deck {detail.deck.name}?", body, "Delete deck")
        if not await self.app.push_screen_wait(question):
            return
        try:
            deleted = await asyncio.to_thread(self.services.decks.delete, detail.deck.name)
        except NoSuchDeckError as exc:
            self.dismiss(None)
            self.app.deck_gone(exc)  # type: ignore[attr-defined]
            return
        except UserError as exc:
            self.query_one("#options-error", Static).update(plain(exc.message))
            return
        except Exception as exc:  # shown, not raised: the app keeps running
            self.query_one("#options-error", Static).update(plain(f"Not deleted: {exc}"))
            return
        where = f" Backup: {deleted.backup}" if deleted.backup else ""
        self.notify(f"Deleted deck {deleted.name} ({deleted.cards} cards).{where}", markup=False)
        self.dismiss(None)

    def action_back(self) -> None:
        """Close; if something was typed and not saved, only once the learner says to throw
        it away (as the card editor asks)."""
        if self.saving:
            self.notify("Still saving: this screen closes when it is done.", markup=False)
            return
        if not self.touched():
            self.dismiss(None)
            return

        ask_to_discard(
            self, "Discard your changes?", "What you typed in these options has not been saved."
        )

    def touched(self) -> bool:
        """Whether the name or any setting holds other than what the screen showed."""
        name = self.query_one("#options-name", Input).value
        if name.strip() != (self.detail.deck.name if self.detail is not None else ""):
            return True
        fields = self.query(".setting-field").results()
        return any(f.changed for f in fields if isinstance(f, SettingInput | SettingChoice))

    @on(Input.Changed)
    @on(Select.Changed)
    def _typed(self) -> None:
        self.query_one("#options-error", Static).update("")

    @on(Input.Submitted)
    def _entered(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#options-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#options-delete")
    def _delete_pressed(self) -> None:
        self.action_delete()

    @on(Button.Pressed, "#options-back")
    def _back_pressed(self) -> None:
        self.action_back()
