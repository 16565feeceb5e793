"""`studyapp` with no command opens the app; `studyapp review [--deck NAME]` opens the review.

A new collection gets the bundled deck first, so the first run has cards to study. Textual
and the screens are imported only here, inside the handlers, so headless commands stay fast.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from studyapp.db import Store


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    review = commands.add_parser(
        "review",
        parents=[common],
        help="open the app straight into today's review",
        description="Open the app straight into today's review of one deck or of all decks.",
    )
    review.add_argument("--deck", metavar="NAME", help="review this deck only (default: all)")
    review.set_defaults(handler=run_review)


def default_handler(args: argparse.Namespace) -> int:
    return open_app(args.db, start="home")


def run_review(args: argparse.Namespace) -> int:
    return open_app(args.db, start="review", deck=args.deck)


def open_app(db: str | None, start: Literal["home", "review"], deck: str | None = None) -> int:
    from studyapp.db import open_store
    from studyapp.services.study import decks_in_scope

    store = open_store(db)
    try:
        load_bundled_if_empty(store)
        if deck is not None:
            with store.reading() as rows:
                decks_in_scope(rows, deck)  # an unknown deck is a one-line error, before the app
        from studyapp.tui.app import create_app

        create_app(store, start=start, deck=deck).run()
    finally:
        store.dispose()
    return 0


def load_bundled_if_empty(store: Store) -> None:
    """Give a collection without cards the bundled deck, so the first run has cards to study."""
    from studyapp.db.reads import has_cards

    with store.reading() as rows:
        empty = not has_cards(rows)
    if empty:
        from studyapp.services.library import LibraryService

        LibraryService(store).load_bundled()
