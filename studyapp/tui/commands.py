"""The command palette's entries: what the current screen's keys do, and the app's places.

Entries come from the active bindings, so the palette always matches the keys (and the help
screen) of the screen it was opened on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

PLACES = (
    ("Go home", "the decks, with what is due today", "home"),
    ("Review all decks", "start today's review over every deck", "review_all"),
    ("Add a card", "front, back, tags and a demo, previewed before it is added", "open('add')"),
    ("Browse cards", "search, edit, suspend, delete, see a card's history", "open('browse')"),
    ("Statistics", "due forecast, heatmap, retention, streak", "open('stats')"),
    (
        "Predictions drill",
        "run the demos you predicted wrong again until you predict them right",
        "open('predictions')",
    ),
    ("Import a deck", "CSV, TSV, Anki, JSON backup or Markdown deck files", "open('import')"),
    ("Export", "write a deck or the whole collection to a file", "open('export')"),
)


class ScreenCommands(Provider):
    """Screen actions first (with their keys), then places to go."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], Any]]]:
        app = self.app
        screen = self.screen
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.system or not active.enabled:
                continue
            if binding.action in seen or binding.action == "command_palette":
                continue
            seen.add(binding.action)
            key = app.get_key_display(binding)
            yield (
                binding.description,
                f"key {key}",
                partial(app.run_action, binding.action, active.node),
            )
        for title, help_text, action in PLACES:
            yield title, help_text, partial(app.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
