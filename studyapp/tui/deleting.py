"""Deleting cards from the app: ask first, then delete off the UI thread (a backup of a large
collection takes a moment), then say what went and where the backup is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from textual.screen import Screen

from studyapp.errors import UserError
from studyapp.model import Card
from studyapp.services.cards import Deleted
from studyapp.terminal import one_line
from studyapp.tui.context import Services
from studyapp.tui.screens.confirm import ConfirmScreen

FRONT_SHOWN = 60


def question(cards: Sequence[Card], bundled: bool = False) -> tuple[str, str]:
    """The title and the body of the question asked before deleting `cards`; `bundled`
    says whether any of them came with the app (it then stays deleted through updates)."""
    after = "The collection is backed up first."
    if bundled:
        after += (
            " A card of the bundled deck you delete stays deleted when the bundled deck is updated."
        )
    if len(cards) == 1:
        card = cards[0]
        front = " ".join(one_line(card.front).split())
        if len(front) > FRONT_SHOWN:
            front = front[: FRONT_SHOWN - 1] + "…"
        return (
            "Delete this card?",
            f"{front}\n({card.deck})\n\nIts review history goes too. {after}",
        )
    decks = sorted({card.deck for card in cards})
    where = decks[0] if len(decks) == 1 else f"{len(decks)} decks"
    return (
        f"Delete {len(cards)} cards?",
        f"{len(cards)} cards of {where}, with their review history. {after}",
    )


def delete_cards(
    screen: Screen[object],
    services: Services,
    cards: Sequence[Card],
    then: Callable[[Deleted], None],
) -> None:
    """Ask, then delete `cards`; `then` gets what was deleted."""
    # Asked at once, so that a key pressed next answers the question: reading which cards
    # the app ships takes a few milliseconds, once.
    title, body = question(cards, services.cards.any_bundled([card.uid for card in cards]))
    ids = [card.id for card in cards]

    async def run() -> None:
        if not await screen.app.push_screen_wait(ConfirmScreen(title, body, "Delete")):
            return
        try:
            deleted = await asyncio.to_thread(services.cards.delete, ids, cards)
        except UserError as exc:
            screen.notify(exc.message, severity="error", markup=False)
            return
        except Exception as exc:  # shown, not raised: the app keeps running
            screen.notify(f"The cards were not deleted: {exc}", severity="error", markup=False)
            return
        n = len(deleted.cards)
        backup = f" Backup: {deleted.backup}" if deleted.backup else ""
        screen.notify(f"Deleted {n} card{'s' if n != 1 else ''}.{backup}", markup=False)
        then(deleted)

    screen.run_worker(run(), exclusive=True, group="delete-cards", exit_on_error=False)
