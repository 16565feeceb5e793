"""What the screens may call: the collection's services, the clock, the RNG and the demo runner.

Screens get one `Services` from the app instead of reaching for module globals, so tests build
the app on a temporary collection with a fixed clock, a seeded RNG and a stub demo runner.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from studyapp.clock import Clock
from studyapp.db import Store
from studyapp.model import DeckCounts
from studyapp.services.overview import Today, deck_counts, today_progress
from studyapp.services.study import StudySession

if TYPE_CHECKING:
    from studyapp.demo_api import DemoResult
    from studyapp.services.cards import CardService
    from studyapp.services.decks import DeckService
    from studyapp.services.predictions import PredictionService
    from studyapp.services.preferences import Preferences
    from studyapp.services.scheduler import SchedulerService
    from studyapp.services.stats import StatsService


class DemoRunnerLike(Protocol):
    """The demo runner as the TUI uses it (`studyapp.services.demos.DemoRunner`)."""

    def cached(self, demo_id: str, params: Mapping[str, Any], seed: int) -> DemoResult | None: ...

    def run(
        self,
        demo_id: str,
        params: Mapping[str, Any],
        seed: int,
        on_progress: Callable[[Any], None] | None = None,
        use_cache: bool = True,
    ) -> DemoResult: ...

    def cancel(self) -> None: ...

    def warm_up(self) -> None: ...

    def close(self) -> None: ...


class LibraryLike(Protocol):
    """Import and export as the TUI uses them (`studyapp.services.library.LibraryService`)."""

    def import_files(
        self,
        paths: Sequence[Path],
        format: str | None = None,
        deck: str | None = None,
        dry_run: bool = False,
    ) -> Any: ...

    def export(self, format: str, deck: str | None = None) -> bytes: ...

    def export_to_folder(self, format: str, deck: str | None, folder: Path) -> list[Path]: ...


def default_runner(store: Store) -> DemoRunnerLike:
    """The real demo runner, made on first use so start-up does not pay for it."""
    return _LazyRunner(store)


class _LazyRunner:
    """Stands in for `studyapp.services.demos.DemoRunner` until a demo is first wanted."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._runner: DemoRunnerLike | None = None
        self._lock = threading.Lock()

    def _get(self) -> DemoRunnerLike:
        with self._lock:
            if self._runner is None:
                from studyapp.services.demos import DemoRunner

                self._runner = DemoRunner(self._store)
            return self._runner

    def cached(self, demo_id: str, params: Mapping[str, Any], seed: int) -> DemoResult | None:
        return self._get().cached(demo_id, params, seed)

    def run(
        self,
        demo_id: str,
        params: Mapping[str, Any],
        seed: int,
        on_progress: Callable[[Any], None] | None = None,
        use_cache: bool = True,
    ) -> DemoResult:
        return self._get().run(demo_id, params, seed, on_progress, use_cache)

    def warm_up(self) -> None:
        self._get().warm_up()

    def cancel(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()


class Services:
    """The services of one open collection, sharing its clock.

    Each is made on first use: a review opened from the command line paints its first card
    before the services that need SQLAlchemy have loaded.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        rng: random.Random,
        runner: DemoRunnerLike,
        library: LibraryLike | None = None,
        preferences: Preferences | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng
        self.runner = runner
        self._library = library
        self._preferences = preferences

    @cached_property
    def decks(self) -> DeckService:
        from studyapp.services.decks import DeckService

        return DeckService(self.store, self.clock)

    @cached_property
    def cards(self) -> CardService:
        from studyapp.services.cards import CardService

        return CardService(self.store, self.clock)

    @cached_property
    def predictions(self) -> PredictionService:
        from studyapp.services.predictions import PredictionService

        return PredictionService(self.store, self.clock)

    @cached_property
    def stats(self) -> StatsService:
        from studyapp.services.stats import StatsService

        return StatsService(self.store, self.clock)

    @cached_property
    def preferences(self) -> Preferences:
        """What the learner set in the app, kept in the user config folder."""
        if self._preferences is not None:
            return self._preferences
        from studyapp.services.preferences import Preferences

        return Preferences()

    @cached_property
    def scheduler(self) -> SchedulerService:
        from studyapp.services.scheduler import SchedulerService

        return SchedulerService(self.store, self.clock)

    def overview(self) -> tuple[list[DeckCounts], Today]:
        """What home shows, read together: every deck's counts and today's progress."""
        with self.store.reading() as rows:
            return deck_counts(rows, self.clock), today_progress(rows, self.clock)

    def study(self, deck: str | None) -> StudySession:
        return StudySession(self.store, deck, self.clock)

    @cached_property
    def library(self) -> LibraryLike:
        """Import and export (the formats load on first use, not at start-up)."""
        if self._library is not None:
            return self._library
        from studyapp.services.library import LibraryService

        return LibraryService(self.store, self.clock)

    def new_seed(self) -> int:
        return self.rng.randrange(1, 2**31)
