"""`studyapp` with no command opens the app; `studyapp review [--deck NAME]` opens the review,
and `studyapp review --predictions` the drill of the demos whose outcome was predicted wrong.

A new collection gets the bundled deck first, so the first run has cards to study; a
collection that has it gets the corrections of a newer release on the first start after the
upgrade. Textual and the screens are imported only here, inside the handlers, so headless
commands stay fast.
"""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING, Any, Literal

from studyapp.errors import UserError

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
    review.add_argument(
        "--predictions",
        action="store_true",
        help="drill the demos whose outcome you predicted wrong, with new seeds and settings, "
        "until you predict them right",
    )
    review.set_defaults(handler=run_review)


def default_handler(args: argparse.Namespace) -> int:
    return open_app(args.db, start="home")


def run_review(args: argparse.Namespace) -> int:
    if args.predictions:
        if args.deck is not None:
            raise UserError("--predictions drills demos, not a deck: drop --deck")
        return open_app(args.db, start="predictions")
    return open_app(args.db, start="review", deck=args.deck)


def open_app(
    db: str | None, start: Literal["home", "review", "predictions"], deck: str | None = None
) -> int:
    from studyapp.db import open_store
    from studyapp.services.study import decks_in_scope

    _check_terminal()  # before the collection is made, upgraded or brought up to date
    store = open_store(db)
    try:
        news = bring_bundled_deck_up_to_date(store)
        if deck is not None:
            with store.reading() as rows:
                decks_in_scope(rows, deck)  # an unknown deck is a one-line error, before the app
        from studyapp.tui.app import create_app

        create_app(store, start=start, deck=deck, notice=news).run()
    finally:
        store.dispose()
        # The app leaves a large heap of widgets behind, and the interpreter's last garbage
        # collection of it took most of a second after ctrl+q. Nothing in it needs
        # finalizing (the collection is closed just above), so it is left to the exit.
        gc.freeze()
    return 0


def _check_terminal() -> None:
    """UserError unless standard input and output are a terminal: the app reads keys and
    draws a screen, and with input closed it failed with a traceback, and with input at its
    end (`< /dev/null`) it waited for keys that never come."""
    for name, stream in (("input", sys.__stdin__), ("output", sys.__stdout__)):
        try:
            is_terminal = stream is not None and stream.isatty()
        except (OSError, ValueError):  # closed
            is_terminal = False
        if not is_terminal:
            raise UserError(
                f"the app needs a terminal, and standard {name} is not one: run it in a "
                "terminal, or use a command (studyapp --help lists them)"
            )


def bring_bundled_deck_up_to_date(store: Store) -> str | None:
    """Give a collection without cards the bundled deck, so the first run has cards to study;
    give one that holds it the bundled deck's corrections, once after an upgrade.

    Returns a sentence for the learner when the update changed something or left cards they
    edited alone, else None. Costs a hash of the bundled files and one read on every start;
    the update itself runs only when the files changed since the collection last took them.
    A collection that never took the bundled deck (the learner's own decks only) is left
    alone.
    """
    from studyapp.db.reads import has_cards
    from studyapp.services.bundled_files import (
        BUNDLED_DIR,
        LOADED_KEY,
        REVISION_KEY,
        deck_files,
        revision,
    )

    with store.reading() as rows:
        empty = not has_cards(rows)
        info = dict(
            rows(
                "SELECT key, value FROM collection_info WHERE key IN (:loaded, :revision)",
                {"loaded": LOADED_KEY, "revision": REVISION_KEY},
            )
        )
    files = deck_files(BUNDLED_DIR)
    taken = LOADED_KEY in info
    if not files or not (empty or (taken and info.get(REVISION_KEY) != revision(files))):
        return None
    from studyapp.services.library import LibraryService

    try:
        update = LibraryService(store).load_bundled()
    except UserError as exc:
        return f"The bundled deck could not be brought up to date: {exc.message}"
    if empty or not (update.changed or update.edited):
        return None
    return update.summary()
