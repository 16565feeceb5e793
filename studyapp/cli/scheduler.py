"""`studyapp deck NAME --scheduler ...` and `studyapp scheduler optimize|evaluate`.

Which scheduler a deck uses (SM-2 or FSRS) and FSRS's desired retention are set on the deck;
`scheduler optimize` fits FSRS to a review log and `scheduler evaluate` compares the models
on one. Fitting runs in a worker process; this process never imports torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from studyapp.cli.output import print_json, print_table, say
from studyapp.scheduling.fsrs import MAX_DESIRED_RETENTION, MIN_DESIRED_RETENTION, SCHEDULERS


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    deck = commands.add_parser(
        "deck",
        parents=[common],
        help="show or set a deck's scheduler (SM-2 or FSRS) and desired retention",
        description="Show a deck's scheduler, or set it. Switching to FSRS gives every card "
        "an FSRS memory state computed from its review log; due dates stay as they are. "
        "Switching back to SM-2 continues from each card's current interval.",
    )
    deck.add_argument("name", metavar="NAME", help="the deck")
    deck.add_argument("--scheduler", choices=SCHEDULERS, help="schedule the deck with this")
    deck.add_argument(
        "--desired-retention",
        metavar="R",
        type=float,
        help=f"the recall probability FSRS aims at when a card comes due "
        f"({MIN_DESIRED_RETENTION:.2f}-{MAX_DESIRED_RETENTION:.2f}, default 0.90)",
    )
    deck.add_argument("--json", action="store_true", help="print JSON")
    deck.set_defaults(handler=run_deck)

    scheduler = commands.add_parser(
        "scheduler",
        parents=[common],
        help="fit FSRS to your reviews, or compare SM-2 and FSRS on a review history",
    )
    actions = scheduler.add_subparsers(title="actions", metavar="ACTION", required=True)
    optimize = actions.add_parser(
        "optimize",
        parents=[common],
        help="fit FSRS's parameters to a deck's review log and keep them",
        description="Fit FSRS's 21 parameters to the review log with the fsrs package's "
        "optimizer (in a worker process; it takes a while on a long history) and store them "
        "on the deck. With no --deck, one set is fitted to every deck's reviews together and "
        "given to every deck. Below 512 reviews nothing is fitted or changed.",
    )
    optimize.add_argument("--deck", metavar="NAME", help="one deck (default: all, together)")
    optimize.add_argument("--json", action="store_true", help="print JSON")
    optimize.set_defaults(handler=run_optimize)

    evaluate = actions.add_parser(
        "evaluate",
        parents=[common],
        help="replay a review history and score SM-2, FSRS and FSRS fitted to it",
        description="Replay a review history and score how well each model predicted "
        "recall: SM-2 (recall 0.9^(t/I) for a review t days into an interval of I days), FSRS "
        "with its default parameters, and FSRS fitted on the earlier two thirds of the "
        "history; all are scored on the later third. Lower log loss and RMSE(bins) are "
        "better, higher AUC is better. --revlog reads a CSV review log (card_id, "
        "review_rating 1-4, review_time, review_duration) or an Anki package.",
    )
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--deck", metavar="NAME", help="one deck (default: all decks)")
    source.add_argument("--revlog", metavar="FILE", type=Path, help="a review log file")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=run_evaluate)


def run_deck(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.decks import DeckService
    from studyapp.services.scheduler import SchedulerService

    changing = args.scheduler is not None or args.desired_retention is not None
    store = open_store(args.db, read_only=not changing)
    report = None
    if changing:
        report = SchedulerService(store).set_scheduler(
            args.name, args.scheduler, args.desired_retention
        )
    settings = DeckService(store).get(args.name).settings
    data = {
        "deck": args.name,
        "scheduler": settings.scheduler,
        "desired_retention": settings.desired_retention,
        "fsrs_parameters": "fitted" if settings.fsrs_params is not None else "default",
    }
    if args.json:
        print_json({**data, **(report.to_dict() if report else {})}, indent=2)
        return 0
    if report is not None and report.switched and report.scheduler == "fsrs":
        say(
            f"Deck {args.name!r} now schedules with FSRS (desired retention "
            f"{report.desired_retention:.2f}). Memory states: {report.from_log} cards from "
            f"their review log, {report.from_schedule} from their interval; due dates are "
            "unchanged."
        )
    elif report is not None and report.switched:
        say(f"Deck {args.name!r} now schedules with SM-2, from each card's current interval.")
    elif report is not None:
        say(f"Deck {args.name!r}: desired retention {report.desired_retention:.2f}.")
    else:
        name = "FSRS" if settings.scheduler == "fsrs" else "SM-2"
        say(f"Deck {args.name!r} schedules with {name}.")
        if settings.scheduler == "fsrs":
            say(
                f"  desired retention {settings.desired_retention:.2f}, "
                f"{data['fsrs_parameters']} parameters"
            )
    return 0


def run_optimize(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.scheduler import SchedulerService

    report = SchedulerService(open_store(args.db)).optimize(args.deck)
    if args.json:
        print_json(report.to_dict(), indent=2)
        return 0
    scope = f"deck {args.deck!r}" if args.deck else "all decks"
    if not report.fitted:
        say(
            f"Not fitted: {scope} has {report.reviews} reviews to learn from, and FSRS needs "
            "at least 512. Its parameters stay as they are (the defaults until a fit)."
        )
        return 0
    say(
        f"Fitted FSRS to {report.reviews} reviews of {scope}; the parameters are stored "
        f"on {', '.join(repr(n) for n in report.decks)}.",
        "  " + " ".join(f"{p:.4f}" for p in report.parameters),
    )
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.scheduler import MODEL_NAMES, MODELS, SchedulerService

    if args.revlog is not None:  # a file alone: the collection is not opened
        from studyapp.formats.revlog import read_history
        from studyapp.scheduling import DEFAULT_DAY_START_HOUR
        from studyapp.services.scheduler import evaluate_history

        history = read_history(args.revlog, DEFAULT_DAY_START_HOUR)
        evaluation = evaluate_history(history, str(args.revlog))
    else:
        evaluation = SchedulerService(open_store(args.db, read_only=True)).evaluate(args.deck)
    if args.json:
        print_json(evaluation.to_dict(), indent=2)
        return 0
    say(
        f"Evaluated on {evaluation.reviews} reviews of {evaluation.cards} cards from "
        f"{evaluation.split.isoformat()} on ({evaluation.source}); FSRS was fitted on "
        f"{evaluation.fit_reviews} earlier reviews."
    )
    rows = []
    for name in MODELS:
        scores = evaluation.models[name]
        auc = round(scores.auc, 4) if scores.auc is not None else None
        rows.append([MODEL_NAMES[name], round(scores.log_loss, 4), round(scores.rmse_bins, 4), auc])
    print_table(["Model", "Log loss", "RMSE(bins)", "AUC"], rows)
    for note in evaluation.notes:
        say(f"Note: {note}.")
    return 0
