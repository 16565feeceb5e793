"""A synthetic collection at the size real users reach, made reproducibly from a seed.

Cards are spread over ten decks; most have been studied, with review logs whose last entry
matches the card's state, due dates spread from a month overdue to a year ahead, and a share
of new cards. Rows go in through SQLAlchemy Core in large batches, into an SQLite file or a
database on a PostgreSQL server.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from studyapp.db import open_store
from studyapp.db.models import CardRow, DeckRow, ReviewRow

DECKS = 10
NEW_SHARE = 0.2
BATCH = 20_000


def make_collection(
    path: Path | str, cards: int, reviews: int, seed: int = 0, today: date | None = None
) -> Path | str:
    """Write a collection with `cards` cards and about `reviews` review-log rows to `path`
    (a file, replaced; or the URL of an empty database on a server)."""
    rng = random.Random(seed)
    today = today or datetime.now().date()
    if isinstance(path, Path) and path.exists():
        path.unlink()
    store = open_store(str(path))
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.write() as session:
        session.execute(
            insert(DeckRow),
            [
                {
                    "id": d + 1,
                    "name": f"Deck {d + 1:02d}",
                    "description": "",
                    "new_per_day": 20,
                    "reviews_per_day": 200,
                    "day_start_hour": 4,
                    "created_at": now,
                }
                for d in range(DECKS)
            ],
        )
    studied = [i for i in range(cards) if rng.random() >= NEW_SHARE]
    per_card = max(1, reviews // max(1, len(studied)))
    card_rows: list[dict[str, object]] = []
    review_rows: list[dict[str, object]] = []

    def flush() -> None:
        with store.write() as session:
            if card_rows:
                session.execute(insert(CardRow), card_rows)
            if review_rows:
                session.execute(insert(ReviewRow), review_rows)
        card_rows.clear()
        review_rows.clear()

    studied_set = set(studied)
    for i in range(cards):
        card_id = i + 1
        row: dict[str, object] = {
            "id": card_id,
            "uid": f"bench-{card_id:07d}",
            "deck_id": i % DECKS + 1,
            "position": i // DECKS + 1,
            "front": f"Question {card_id}: what does layer {rng.randrange(100)} compute?",
            "back": f"Answer {card_id}: " + " ".join(rng.choice(WORDS) for _ in range(12)),
            "tags": f" {rng.choice(TAGS)} ",
            "source": "synthetic",
            "content_key": f"{card_id:032x}",
            "demo_id": "adam_vs_sgd" if i % 7 == 0 else None,
            "demo_params": "{}" if i % 7 == 0 else None,
            "suspended": False,
            "buried_until": None,
            "ease_cents": 250,
            "interval": 0,
            "repetitions": 0,
            "lapses": 0,
            "due": None,
            "created_at": now,
            "modified_at": now,
        }
        if card_id - 1 in studied_set:
            interval = rng.choice((1, 3, 6, 15, 40, 100, 250))
            due = today + timedelta(days=rng.randint(-30, 365))
            ease = rng.choice((130, 180, 230, 250, 270))
            row.update(ease_cents=ease, interval=interval, repetitions=3, due=due)
            day = min(due - timedelta(days=interval), today - timedelta(days=1))
            for k in range(per_card):
                at = datetime(day.year, day.month, day.day, 12) - timedelta(days=(per_card - k) * 3)
                review_rows.append(
                    {
                        "card_id": card_id,
                        "at": at,
                        "study_day": at.date(),
                        "rating": rng.choice((2, 3, 4, 4, 5, 5)),
                        "duration_ms": rng.randrange(2000, 20000),
                        "kind": "review" if k else "new",
                        "ease_before": ease,
                        "interval_before": interval,
                        "repetitions_before": 2,
                        "lapses_before": 0,
                        "due_before": due,
                        "ease_after": ease,
                        "interval_after": interval,
                        "repetitions_after": 3,
                        "lapses_after": 0,
                        "due_after": due,
                    }
                )
        card_rows.append(row)
        if len(card_rows) >= BATCH:
            flush()
    flush()
    if store.path is None:  # a server hands out ids from sequences the rows above skipped
        with store.write() as session:
            for table in ("decks", "cards", "reviews"):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id))"
                        f" FROM {table}"
                    )
                )
    store.dispose()
    return path


WORDS = (
    "gradient weights bias activation loss optimizer momentum dropout batch norm layer "
    "convolution kernel stride padding pooling softmax sigmoid tanh relu entropy learning rate "
    "schedule warmup decay regularization overfitting validation accuracy precision recall"
).split()
TAGS = ("optimizers", "cnn", "regularization", "initialization", "activations", "evaluation")
