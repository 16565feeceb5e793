"""The app: its screens, the keys that work everywhere, and the factory that builds it.

`create_app` takes the collection, the clock, the RNG and the demo runner, so tests run the
same app on a temporary collection with a fixed clock and a stub runner.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme

from studyapp.clock import Clock, system_clock
from studyapp.db import Store
from studyapp.errors import NoSuchDeckError, UserError
from studyapp.scheduling.fsrs import load_fsrs
from studyapp.terminal import visible
from studyapp.tui.commands import ScreenCommands
from studyapp.tui.context import DemoRunnerLike, LibraryLike, Services, default_runner
from studyapp.tui.messages import StartReview
from studyapp.tui.paste import keep_pastes_as_text
from studyapp.tui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from studyapp.services.preferences import Preferences
    from studyapp.tui.screens.home import HomeScreen

Start = Literal["home", "review", "predictions"]
HOME_MODE = "home"

# Screens that are not needed for the first paint load when first visited: start-up pays
# only for the screen it opens (home, or review for `studyapp review`).
PLACES: dict[str, tuple[str, str]] = {
    "add": ("studyapp.tui.screens.add_card", "AddCardScreen"),
    "browse": ("studyapp.tui.screens.browse", "BrowseScreen"),
    "stats": ("studyapp.tui.screens.stats", "StatsScreen"),
    "import": ("studyapp.tui.screens.importing", "ImportScreen"),
    "export": ("studyapp.tui.screens.exporting", "ExportScreen"),
    "predictions": ("studyapp.tui.screens.prediction_drill", "PredictionDrillScreen"),
}
SCREEN_NAMES: dict[str, str] = {
    "HomeScreen": "home",
    "ReviewScreen": "review",
    "BrowseScreen": "browse",
    "CardScreen": "card",
    "StatsScreen": "stats",
    "ImportScreen": "import",
    "ExportScreen": "export",
    "PredictionDrillScreen": "predictions drill",
    "AddCardScreen": "add a card",
    "DeckOptionsScreen": "deck options",
}


class StudyApp(App[None]):
    """Home at the bottom of the screen stack; every other screen is pushed over it."""

    CSS_PATH = "app.tcss"
    TITLE = "studyapp"
    COMMANDS = App.COMMANDS | {ScreenCommands}
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding(
            "ctrl+p", "command_palette", "Commands", show=False, priority=True, id="app.palette"
        ),
    ]

    def __init__(
        self,
        services: Services,
        start: Start = "home",
        deck: str | None = None,
        owns_runner: bool = False,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        keep_pastes_as_text()
        self.services = services
        self.start = start
        self.start_deck = deck
        self.owns_runner = owns_runner
        self.notice = notice
        self.add_mode(HOME_MODE, self._home)
        self._theme_problem = self._set_theme(services.preferences.get("theme"))

    def _set_theme(self, name: str | None) -> str | None:
        """Use the theme the learner chose last time; why not, if it cannot be."""
        if name is None or name == self.theme:
            return None
        if name not in self.available_themes:
            return f"The theme {name!r} you chose last time is not available; using {self.theme}."
        self.theme = name
        return None

    def _home(self) -> HomeScreen:
        from studyapp.tui.screens.home import HomeScreen

        return HomeScreen(self.services)

    def get_default_screen(self) -> Screen[object]:
        # Opening straight into a review (or the predictions drill) paints it without building
        # home first; leaving it switches to the home mode, where later screens stack on home.
        if self.start == "predictions":
            module, name = PLACES["predictions"]
            screen: Screen[object] = getattr(importlib.import_module(module), name)(self.services)
            return screen
        if self.start == "review":
            try:
                return ReviewScreen(self.services, self.start_deck)
            except UserError as exc:
                self.call_later(self.notify, exc.message, severity="error", markup=False)
        return self._home()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A notification; its text often quotes a file (an error, a deck name, a path), so
        it is shown visibly (`studyapp.terminal`), and literally unless `markup` is asked
        for (as Textual's own notices do; the app's own never ask: a path holding `[/b]`
        would crash the app, `[@click=...]` act)."""
        super().notify(
            visible(message),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    # Textual's own notices are written in markup, which `notify` shows literally: the two a
    # learner meets (ctrl+c and the palette's screenshot) are given here in plain words.

    def action_help_quit(self) -> None:
        for active in self.active_bindings.values():
            if active.binding.action in ("quit", "app.quit"):
                shown = self.get_key_display(active.binding)
                self.notify(f"Press {shown} to quit the app.", title="Do you want to quit?")
                return

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":
                # after the palette has closed, as Textual's does, so it is not in the picture
                command = command._replace(
                    callback=lambda: self.set_timer(0.1, self._save_screenshot)
                )
            yield command

    def _save_screenshot(self) -> None:
        try:
            path = self.save_screenshot()
        except OSError as exc:
            self.notify(
                f"The screenshot was not saved: {exc.strerror or exc}.",
                title="Screenshot",
                severity="error",
            )
            return
        self.notify(f"Saved the screenshot to {path}", title="Screenshot")

    def on_mount(self) -> None:
        # The first screen reads without SQLAlchemy; load it while the learner reads, so the
        # first rating or edit does not wait for it.
        self.call_after_refresh(self._prepare_store)
        if self.notice:
            self.notify(self.notice, title="Bundled deck", timeout=12, markup=False)
        problem = self.services.preferences.problem or self._theme_problem
        if problem:
            self.notify(problem, title="Preferences", severity="warning", timeout=12, markup=False)
        self.theme_changed_signal.subscribe(self, self._keep_theme)

    def _keep_theme(self, theme: Theme) -> None:
        self.keep_preference("theme", theme.name)

    def keep_preference(self, key: str, value: object) -> None:
        """Write a preference; a file that cannot be written is said, and the app goes on."""
        try:
            self.services.preferences.set(key, value)
        except UserError as exc:
            self.notify(exc.message, title="Preferences", severity="warning", markup=False)

    def _prepare_store(self) -> None:
        # Only a head start: if it fails, the first write reports the failure itself.
        self.run_worker(self._prepare, thread=True, exit_on_error=False)

    def _prepare(self) -> None:
        self.services.store.prepare()
        load_fsrs()  # the first rating of a card on an FSRS deck does not wait for it

    def on_unmount(self) -> None:
        self.services.runner.cancel()  # a demo still running must not hold up the exit
        if self.owns_runner:
            self.services.runner.close()

    def open_review(self, deck: str | None) -> None:
        try:
            screen = ReviewScreen(self.services, deck)
        except NoSuchDeckError as exc:
            self.deck_gone(exc)
            return
        except UserError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self.push_screen(screen)

    def deck_gone(self, gone: NoSuchDeckError) -> None:
        """A deck picked from the list that is no longer there (deleted or renamed in
        another window or from the command line): said so, and home lists the decks again."""
        from studyapp.tui.screens.home import HomeScreen

        self.notify(
            f"The deck {gone.name!r} is no longer in the collection: it was deleted or "
            "renamed elsewhere.",
            severity="error",
        )
        for screen in self.screen_stack:
            if isinstance(screen, HomeScreen):
                screen.refresh_counts()

    def on_start_review(self, message: StartReview) -> None:
        self.open_review(message.deck)

    def action_review_all(self) -> None:
        self.open_review(None)

    def action_open(self, place: str) -> None:
        module, name = PLACES[place]
        screen_class = getattr(importlib.import_module(module), name)
        self.push_screen(screen_class(self.services))

    def action_home(self) -> None:
        from studyapp.tui.screens.home import HomeScreen

        while len(self.screen_stack) > 1:
            self.pop_screen()
        if not isinstance(self.screen, HomeScreen):
            self.switch_mode(HOME_MODE)

    def action_help(self) -> None:
        from studyapp.tui.screens.help import HelpScreen, key_rows

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        name = SCREEN_NAMES.get(type(screen).__name__, "this screen")
        self.push_screen(HelpScreen(name, key_rows(screen)))


def create_app(
    store: Store,
    *,
    clock: Clock = system_clock,
    runner: DemoRunnerLike | None = None,
    start: Start = "home",
    deck: str | None = None,
    rng: random.Random | None = None,
    library: LibraryLike | None = None,
    notice: str | None = None,
    preferences: Preferences | None = None,
) -> StudyApp:
    """The app on `store`. Without a runner it makes the real one and closes it on exit.

    `notice` is shown once the first screen is up (what start-up did to the collection).
    """
    owns_runner = runner is None
    if runner is None:
        runner = default_runner(store)
    services = Services(store, clock, rng or random.Random(), runner, library, preferences)
    return StudyApp(services, start=start, deck=deck, owns_runner=owns_runner, notice=notice)
