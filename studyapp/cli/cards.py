"""`studyapp add`, `studyapp delete` and `studyapp cards`: write, remove and find cards."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import path_text, print_json, print_table, say
from studyapp.errors import UserError
from studyapp.terminal import cell_width, fit, one_line, visible

if TYPE_CHECKING:
    from studyapp.formats.base import ExportCard
    from studyapp.model import Card
    from studyapp.services.cards import CardDetail

DECK_SHOWN = 30  # characters of a deck name in the `cards` table
FRONT_MIN = 20


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    add = commands.add_parser(
        "add",
        parents=[common],
        help="add a card to a deck",
        description="Add a card at the end of a deck (made if it does not exist yet) and print "
        "its id and uid. The card is new: it comes up in the deck's next review.",
    )
    add.add_argument("--deck", required=True, metavar="NAME", help="the deck to add it to")
    add.add_argument("--front", required=True, metavar="TEXT", help="the question side")
    add.add_argument("--back", required=True, metavar="TEXT", help="the answer side")
    add.add_argument("--tags", default="", metavar="A,B", help="tags, separated by commas")
    add.add_argument(
        "--demo",
        metavar='"ID K=V ..."',
        help="link a demo of the catalogue, with parameter overrides "
        '(e.g. "adam_vs_sgd steps=200"; `studyapp demo list` shows them)',
    )
    add.add_argument("--json", action="store_true", help="print the new card as JSON")
    add.set_defaults(handler=run_add)

    delete = commands.add_parser(
        "delete",
        parents=[common],
        help="delete cards with their review history",
        description="Delete cards, named by id or uid (`studyapp cards` shows both), with "
        "their review history. The collection is backed up first. If any card is not found, "
        "nothing is deleted. A bundled card you delete stays deleted: `studyapp init` and "
        "updates of the bundled deck do not bring it back.",
    )
    delete.add_argument("cards", metavar="CARD", nargs="+", help="a card's id or uid")
    delete.add_argument("--json", action="store_true", help="print what was deleted as JSON")
    delete.set_defaults(handler=run_delete)

    cards = commands.add_parser(
        "cards",
        parents=[common],
        help="find cards with the browse screen's query language",
        description="List the cards that match a query, as browse finds them: words (in "
        'the front, back or source), "a phrase", tag:NAME, deck:NAME (deck:"Class '
        'Thirteen: Optimizers"; * matches any text), is:new, is:due, is:suspended. Terms '
        "combine with AND; case does not matter. No query lists every card.",
    )
    cards.add_argument("query", metavar="QUERY", nargs="*", help="search terms")
    cards.add_argument(
        "--json",
        action="store_true",
        help="print the cards as the JSON backup holds them (state and review history), "
        "each with its deck",
    )
    cards.set_defaults(handler=run_cards)


# --- add ------------------------------------------------------------------------------------


def run_add(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.demo_api import parse_link
    from studyapp.model import DemoLink
    from studyapp.services.cards import CardService
    from studyapp.services.decks import clean_name

    deck = clean_name(args.deck)
    tags = [tag for tag in args.tags.split(",") if tag.strip()]
    demo = None
    if args.demo is not None:
        parsed = parse_link(args.demo)
        if parsed is None:
            raise UserError("--demo is empty: give a demo id, e.g. --demo adam_vs_sgd")
        demo = DemoLink(*parsed)
    service = CardService(open_store(args.db))
    same = service.same_front(deck, args.front)
    new_deck = not same and not _deck_exists(service, deck)
    card = service.add(deck, args.front, args.back, tags=tags, demo=demo)
    if same:
        held = ", ".join(str(c.id) for c in same)
        say(
            f"studyapp: note: deck {deck!r} already held a card with this front (id {held})",
            file=sys.stderr,
        )
    if args.json:
        print_json({"id": card.id, "uid": card.uid, "deck": card.deck}, indent=2)
    else:
        where = f"the new deck {card.deck!r}" if new_deck else f"deck {card.deck!r}"
        say(f"Added card {card.id} (uid {card.uid}) to {where}.")
    return 0


def _deck_exists(service: Any, deck: str) -> bool:
    from studyapp.db import repository as repo

    with service.store.read() as session:
        return repo.deck_by_name(session, deck) is not None


# --- delete ---------------------------------------------------------------------------------


def run_delete(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.cards import CardService

    deleted = CardService(open_store(args.db)).delete(args.cards)
    if args.json:
        print_json(
            {
                "deleted": [
                    {"id": c.id, "uid": c.uid, "deck": c.deck, "front": c.front}
                    for c in deleted.cards
                ],
                "reviews": deleted.reviews,
                "backup": str(deleted.backup) if deleted.backup else None,
            },
            indent=2,
            ensure_ascii=False,
        )
        return 0
    n, r = len(deleted.cards), deleted.reviews
    say(
        f"Deleted {n} card{'s' if n != 1 else ''} with "
        f"{r} review{'s' if r != 1 else ''} of history:"
    )
    id_width = max(len(str(c.id)) for c in deleted.cards)
    for card in deleted.cards:
        where = f"  {card.id:>{id_width}}  {card.uid}  {clip(card.deck, DECK_SHOWN)}: "
        say(where + clip(card.front, _front_width(cell_width(where))))
    if deleted.backup is not None:
        say(f"The collection as it was is saved in {path_text(deleted.backup)}")
    return 0


# --- cards ----------------------------------------------------------------------------------


def query_text(words: Sequence[str]) -> str:
    """The query the shell's words make: a word that holds spaces was quoted in the shell
    (`deck:"Class Thirteen: Optimizers"` arrives as one word without its quotes), so it is
    quoted again for the query language."""
    from studyapp.services.query import PREFIXES

    terms = []
    for word in words:
        if '"' in word or not any(c.isspace() for c in word):
            terms.append(word)
            continue
        prefix, colon, value = word.partition(":")
        if colon and prefix.lower() in PREFIXES:
            terms.append(f'{prefix}:"{value}"')
        else:
            terms.append(f'"{word}"')
    return " ".join(terms)


def run_cards(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.cards import CardService
    from studyapp.services.query import parse_query

    query = parse_query(query_text(args.query))
    service = CardService(open_store(args.db, read_only=True))
    if args.json:
        from studyapp.formats.backup import card_to_dict

        found = service.find_with_history(query)
        print_json(
            [_with_deck(card_to_dict(export_card(d)), d.card.deck) for d in found],
            indent=2,
            ensure_ascii=False,
        )
        return 0
    cards = service.find(query, limit=None)
    if not cards:
        print("No cards match." if args.query else "No cards yet: `studyapp add` adds one.")
        return 0
    id_width = max(len(str(c.id)) for c in cards)
    uid_width = max(len(c.uid) for c in cards)
    deck_width = min(DECK_SHOWN, max(cell_width(one_line(c.deck)) for c in cards))
    front = _front_width(id_width + uid_width + deck_width + 10 + 8)
    rows = [[c.id, c.uid, clip(c.deck, DECK_SHOWN), _due(c), clip(c.front, front)] for c in cards]
    print_table(["Id", "Uid", "Deck", "Due", "Front"], rows)
    print(f"{len(cards)} card{'s' if len(cards) != 1 else ''}")
    return 0


def _with_deck(card: dict[str, Any], deck: str) -> dict[str, Any]:
    return {"id": card["id"], "deck": deck, **{k: v for k, v in card.items() if k != "id"}}


def export_card(detail: CardDetail) -> ExportCard:
    """A card with its history, as the JSON backup writes it."""
    from studyapp.formats.base import ExportCard, ReviewDraft

    card = detail.card
    reviews = tuple(
        ReviewDraft(
            r.at,
            r.study_day,
            r.rating,
            r.duration_ms,
            r.kind,
            r.before,
            r.after,
            r.memory_before,
            r.memory_after,
            r.imported,
        )
        for r in detail.history
    )
    return ExportCard(
        card.uid,
        card.front,
        card.back,
        card.tags,
        card.source,
        card.demo,
        card.state,
        reviews,
        card.suspended,
        card.position,
        card.memory,
        card.buried_until,
    )


def _due(card: Card) -> str:
    if card.suspended:
        return "suspended"
    return card.state.due.isoformat() if card.state.due else "new"


def _front_width(used: int) -> int:
    columns = shutil.get_terminal_size((100, 24)).columns
    return max(FRONT_MIN, columns - used)


def clip(text: str, width: int) -> str:
    """One line of at most `width` terminal cells, an ellipsis where it was cut."""
    return fit(" ".join(visible(text).split()), width)
