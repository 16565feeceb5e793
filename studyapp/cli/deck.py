"""`studyapp deck NAME`: a deck's options and counts; create, rename, delete it, set options.

The options (daily limits, day-start hour, scheduler and desired retention) come from
`studyapp.model.DECK_SETTINGS`, as the deck options screen's fields do, so a new per-deck
setting appears here by being listed there.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import path_text, print_json, say
from studyapp.errors import UserError
from studyapp.model import DECK_SETTINGS

if TYPE_CHECKING:
    from studyapp.services.decks import DeckDetail
    from studyapp.services.scheduler import SwitchReport


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    deck = commands.add_parser(
        "deck",
        parents=[common],
        help="show a deck's options and counts; create, rename or delete it; set its options",
        description="With no option, show a deck's options and today's counts. --create "
        "makes a new, empty deck; --rename gives it another name (its cards, history and "
        "options stay); --delete deletes it with its cards and their review history, after "
        "a backup. The option flags change its daily limits, the hour its study day "
        "starts, its scheduler and FSRS's desired retention, alone or with --create or "
        "--rename. Switching to FSRS gives every card an FSRS memory state computed from "
        "its review log; due dates stay as they are. Switching back to SM-2 continues from "
        "each card's current interval.",
    )
    deck.add_argument("name", metavar="NAME", help="the deck")
    action = deck.add_mutually_exclusive_group()
    action.add_argument("--create", action="store_true", help="make a new, empty deck")
    action.add_argument("--rename", metavar="NEW", help="give the deck this name")
    action.add_argument(
        "--delete",
        action="store_true",
        help="delete the deck, its cards and their history (after a backup)",
    )
    for setting in DECK_SETTINGS:
        deck.add_argument(
            setting.flag,
            dest=setting.name,
            metavar=setting.metavar,
            choices=setting.choices or None,
            help=f"{setting.help} ({setting.bounds})",
        )
    deck.add_argument("--json", action="store_true", help="print the deck as JSON")
    deck.set_defaults(handler=run_deck)


def _changes(args: argparse.Namespace) -> dict[str, int | float | str]:
    """The options given, each read and checked; UserError names the first bad one."""
    changes: dict[str, int | float | str] = {}
    for setting in DECK_SETTINGS:
        text = getattr(args, setting.name)
        if text is None:
            continue
        try:
            changes[setting.name] = setting.parse(text)
        except ValueError as exc:
            raise UserError(f"{setting.flag}: {exc}") from None
    return changes


def run_deck(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.model import DeckSettings
    from studyapp.services.decks import DeckService, clean_name

    changes = _changes(args)
    name = args.name.strip()
    if args.delete and changes:
        raise UserError("--delete takes no other option: the deck and its options go together")
    if not (args.create or args.rename is not None or args.delete or changes):
        show(DeckService(open_store(args.db, read_only=True)).detail(name), args.json)
        return 0
    service = DeckService(open_store(args.db))
    if args.delete:
        deleted = service.delete(name)
        if args.json:
            print_json(deleted.to_dict(), indent=2, ensure_ascii=False)
            return 0
        n, r = deleted.cards, deleted.reviews
        say(
            f"Deleted deck {deleted.name!r} with its {n} card{'s' if n != 1 else ''} and "
            f"{r} review{'s' if r != 1 else ''} of history."
        )
        if deleted.backup is not None:
            say(f"The collection as it was is saved in {path_text(deleted.backup)}")
        return 0
    done = ""
    if args.create:
        name = service.create(name, DeckSettings(**changes)).name
        done = f"Created deck {name!r}."
    elif args.rename is not None:
        new = clean_name(args.rename)
        old = service.get(name).name
        name = service.rename(name, new).name
        done = f"Renamed deck {old!r} to {name!r}."
    report = None
    if changes and not args.create:
        report = service.update_settings(name, **changes).switch
        done = f"{done} Options saved.".strip()
    detail = service.detail(name)
    if args.json:
        data = detail.to_dict()
        if report is not None:
            data |= {
                "switched": report.switched,
                "memory_from_log": report.from_log,
                "memory_from_schedule": report.from_schedule,
            }
        print_json(data, indent=2, ensure_ascii=False)
        return 0
    say(done)
    if report is not None:
        say(switched(report))
    show(detail, as_json=False)
    return 0


def switched(report: SwitchReport) -> str:
    """What changing the scheduler or the desired retention did, in one sentence."""
    if report.switched and report.scheduler == "fsrs":
        return (
            f"Deck {report.deck!r} now schedules with FSRS (desired retention "
            f"{report.desired_retention:.2f}). Memory states: {report.from_log} cards from "
            f"their review log, {report.from_schedule} from their interval; due dates are "
            "unchanged."
        )
    if report.switched:
        return f"Deck {report.deck!r} now schedules with SM-2, from each card's current interval."
    return f"Deck {report.deck!r}: desired retention {report.desired_retention:.2f}."


def show(detail: DeckDetail, as_json: bool) -> None:
    if as_json:
        print_json(detail.to_dict(), indent=2, ensure_ascii=False)
        return
    counts = detail.counts
    total = f"{counts.total} card{'s' if counts.total != 1 else ''}"
    say(
        f"Deck {detail.deck.name!r}",
        f"  {total}: {counts.new} new, {counts.due} due today, {counts.learning} learning, "
        f"{counts.suspended} suspended",
    )
    settings = detail.deck.settings
    width = max(len(s.label) for s in DECK_SETTINGS)
    for setting in DECK_SETTINGS:
        value = setting.shown(getattr(settings, setting.name))
        print(f"  {setting.label:<{width}}  {value:>7}   ({setting.flag}, {setting.bounds})")
    if settings.scheduler == "fsrs":
        fitted = "fitted" if settings.fsrs_params is not None else "default"
        print(f"  {'FSRS parameters':<{width}}  {fitted:>7}   (studyapp scheduler optimize)")
