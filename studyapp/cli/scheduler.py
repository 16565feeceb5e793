"""`studyapp scheduler optimize|evaluate`.

Which scheduler a deck uses (SM-2 or FSRS) and FSRS's desired retention are set on the deck
(`studyapp deck NAME --scheduler ... --desired-retention ...`, in `cli.deck`);
`scheduler optimize` fits FSRS to a review log and `scheduler evaluate` compares the models
on one. Fitting runs in a worker process; this process never imports torch.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from studyapp.cli.output import file_argument, path_text, print_json, print_table, say


def register(commands: Any, common: argparse.ArgumentParser) -> None:
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
    source.add_argument("--revlog", metavar="FILE", type=file_argument, help="a review log file")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=run_evaluate)


def run_optimize(args: argparse.Namespace) -> int:
    from studyapp.db import open_store
    from studyapp.services.scheduler import SchedulerService

    report = SchedulerService(open_store(args.db)).optimize(args.deck, progress=_progress)
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
        evaluation = evaluate_history(history, str(args.revlog), progress=_progress)
    else:
        service = SchedulerService(open_store(args.db, read_only=True))
        evaluation = service.evaluate(args.deck, progress=_progress)
    if args.json:
        print_json(evaluation.to_dict(), indent=2)
        return 0
    say(
        f"Evaluated on {evaluation.reviews} reviews of {evaluation.cards} cards from "
        f"{evaluation.split.isoformat()} on ({path_text(evaluation.source)}); FSRS was fitted on "
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


def _progress(message: str) -> None:
    """Say what a long step is doing, to a person watching: on standard error, and only when
    it is a terminal (a script reading the output sees only the result)."""
    if sys.stderr.isatty():
        say(message, file=sys.stderr)
