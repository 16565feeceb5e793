"""`studyapp init`, `studyapp decks` and `studyapp stats`."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from studyapp.cli.output import path_text, print_table, say

if TYPE_CHECKING:
    from studyapp.services.stats import Stats

INIT_WARNINGS_SHOWN = 5


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    init = commands.add_parser(
        "init",
        parents=[common],
        help="create the collection if needed and load the bundled deck",
        description="Create the collection if needed and load the bundled deck. Running it "
        "again changes nothing.",
    )
    init.set_defaults(handler=run_init)

    decks = commands.add_parser(
        "decks",
        parents=[common],
        help="decks with today's new / due / learning counts, unseen and total cards",
        description="Each deck's counts: new and due are what a review started now shows "
        "(within what is left of the daily limits), learning the cards in today's drill "
        "(rated below 4, shown again today), unseen every card not yet studied.",
    )
    decks.add_argument("--json", action="store_true", help="print JSON")
    decks.set_defaults(handler=run_decks)

    stats = commands.add_parser(
        "stats",
        parents=[common],
        help="reviews per day, retention, streak, 30-day due forecast",
    )
    stats.add_argument("--deck", metavar="NAME", help="one deck (default: all)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=run_stats)


def run_init(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.decks import DeckService
    from studyapp.services.library import LibraryService

    store = open_store(args.db)
    report = LibraryService(store).load_bundled()
    counts = DeckService(store).counts()
    cards = sum(c.total for c in counts)
    left_out = ""
    if report.left_out:
        n = report.left_out
        cards_stay = (
            "1 bundled card you deleted stays" if n == 1 else f"{n} bundled cards you deleted stay"
        )
        left_out = f"; {cards_stay} deleted"
    say(
        f"Collection ready at {path_text(store.where)}: {len(counts)} decks, {cards} cards "
        f"({report.added} added from the bundled deck{left_out})."
    )
    if report.updated or report.merged or report.edited or report.decks_updated:
        print(f"  {report.summary()}")
    if len(report.edited) > 5:
        print(f"  all the cards you edited, left as they are: {', '.join(report.edited)}")
    if len(report.warnings) <= INIT_WARNINGS_SHOWN:
        for warning in report.warnings:
            say(f"  warning: {warning}")
    else:
        say(
            f"  {len(report.warnings)} warnings about the bundled deck, such as: "
            f"{report.warnings[0]}"
        )
    return 0


def run_decks(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.decks import DeckService

    counts = DeckService(open_store(args.db, read_only=True)).counts()
    if args.json:
        print(json.dumps([c.to_dict() for c in counts], indent=2))
        return 0
    if not counts:
        print(
            "No decks yet: `studyapp add` adds a card, `studyapp import` a deck, and "
            "`studyapp init` the bundled deck."
        )
        return 0
    rows = [[c.name, c.new, c.due, c.learning, c.unseen, c.total] for c in counts]
    rows.append(["All decks", *(sum(r[i] for r in rows) for i in range(1, 6))])
    print_table(["Deck", "New", "Due", "Learning", "Unseen", "Total"], rows, footer=True)
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.stats import StatsService

    stats = StatsService(open_store(args.db, read_only=True)).compute(args.deck)
    if args.json:
        print(json.dumps(stats.to_dict(), indent=2))
        return 0
    scope = f"deck {stats.deck!r}" if stats.deck else "all decks"
    rate = stats.retention.rate
    rate30 = stats.retention_30d.rate
    say(f"Statistics for {scope} on {stats.today.isoformat()}")
    print(f"  cards: {stats.cards} ({stats.new} unseen, {stats.suspended} suspended)")
    today_count = stats.reviews_per_day.get(stats.today, 0)
    print(f"  reviews: {stats.total_reviews} in all, {today_count} today")
    print(f"  streak: {stats.streak} day{'s' if stats.streak != 1 else ''}")
    print(
        "  retention: "
        + (
            f"{rate:.1%} of {stats.retention.reviews} reviews"
            if rate is not None
            else "no reviews yet"
        )
        + (f"; last 30 days {rate30:.1%}" if rate30 is not None else "")
    )
    for line in prediction_lines(stats):
        say(f"  {line}")
    recent = sorted(stats.reviews_per_day.items())[-14:]
    if recent:
        print("  reviews per day (last days with reviews):")
        width, peak = _scale([n for _, n in recent])
        for day, n in recent:
            print(f"    {day.isoformat()}  {n:{width}d}  {_bar(n, peak)}")
    print("  due in the next 30 days:")
    width, peak = _scale(stats.forecast)
    for i, n in enumerate(stats.forecast):
        if n:
            label = "today" if i == 0 else f"+{i}d"
            print(f"    {label:>6}  {n:{width}d}  {_bar(n, peak)}")
    if not any(stats.forecast):
        print("    nothing due")
    return 0


def prediction_lines(stats: Stats) -> list[str]:
    """How the predictions of demo outcomes went, for a person: accuracy, and the demos
    predicted wrong most often."""
    predictions = stats.predictions
    rate = predictions.rate
    if rate is None:
        return ["predictions: none graded yet (`studyapp demo run ID --predict OPTION`)"]
    lines = [
        f"predictions: {predictions.correct} of {predictions.total} right ({rate:.1%})"
        + (f", {predictions.ungraded} not graded" if predictions.ungraded else "")
    ]
    wrong = predictions.most_wrong(3)
    if wrong:
        lines.append(
            "most often predicted wrong: "
            + ", ".join(f"{t.demo_id} ({t.wrong} wrong of {t.total})" for t in wrong)
        )
    return lines


def _scale(counts: list[int]) -> tuple[int, int]:
    """The width of the widest count (at least 4) and the largest count (at least 1)."""
    peak = max(counts, default=0)
    return max(4, len(str(peak))), max(peak, 1)


def _bar(n: int, peak: int) -> str:
    """A bar of up to 40 marks, relative to the largest count; any count shows at least one."""
    return "#" * max(1, round(40 * n / peak))
