"""The PostgreSQL rows: the same figures as on SQLite, for a collection on a server.

On a server the first card comes through the network stack and the server, not through the
sqlite3 fast path, so it is measured as it is: `studyapp review` against a bare Textual app
that reads the same card from the same server with the bare driver. Ratings are held to a
bare one-row commit on the same server, an import to a bare executemany on it, each in the
same run. The server is `STUDYAPP_BENCH_POSTGRES` (the URL of a database whose user may
create databases) or else a throwaway one started from the installed server binaries, with
fsync on as a real server has it; when neither can be had, the rows are skipped with a note.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from benchmarks import postgres
from benchmarks.measures import (
    MARKER,
    PYTHON,
    Row,
    _byte_compile,
    _fmt_s,
    _timed,
    _verdict,
    rating_rows,
    write_csv,
)
from benchmarks.synth import make_collection
from benchmarks.terminal import first_paint

SERVER_VAR = "STUDYAPP_BENCH_POSTGRES"
ON_SERVER = "PostgreSQL"


class _Databases:
    """Creates databases on the benchmark's server; each `url` is one a studyapp can open."""

    def __init__(self, admin_url: str) -> None:
        self.admin = make_url(admin_url).set(drivername="postgresql")

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            self.admin.render_as_string(hide_password=False), autocommit=True
        ) as conn:
            conn.execute(sql)

    def create(self, name: str, template: str | None = None) -> str:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        like = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{like} STRATEGY FILE_COPY')
        return self.url(name)

    def url(self, name: str) -> str:
        return self.admin.set(database=name).render_as_string(hide_password=False)


@contextmanager
def _server() -> Iterator[_Databases]:
    given = os.environ.get(SERVER_VAR)
    if given:
        yield _Databases(given)
        return
    server = postgres.start(durable=True)
    try:
        yield _Databases(server.url(driver="postgresql"))
    finally:
        server.stop()


def server_rows(
    work: Path, cards: int, reviews: int, seed: int, runs: int, ratings: int, parts: list[str]
) -> list[Row]:
    """The PostgreSQL rows of the `parts` asked for, or one row saying why there are none."""
    try:
        with _server() as databases:
            return _measure(databases, work, cards, reviews, seed, runs, ratings, parts)
    except postgres.ServerUnavailable as exc:
        return [Row(f"{ON_SERVER} rows", f"skipped: {exc}", "-", None, "-", "-")]


def _measure(
    databases: _Databases,
    work: Path,
    cards: int,
    reviews: int,
    seed: int,
    runs: int,
    ratings: int,
    parts: list[str],
) -> list[Row]:
    rows: list[Row] = []
    if "startup" in parts or "rating" in parts:
        started = time.perf_counter()
        synthetic = databases.create("synthetic")
        make_collection(synthetic, cards, reviews, seed)
        print(f"  {ON_SERVER} collection made in {time.perf_counter() - started:.0f} s")
        if "startup" in parts:
            rows += startup(synthetic, runs)
        if "rating" in parts:
            rows += rating(databases.create("rating", template="synthetic"), ratings)
    if "import" in parts:
        rows += import_cards(databases, work, cards)
    return rows


def startup(url: str, runs: int) -> list[Row]:
    """`studyapp review` on a server against a bare Textual app that reads the same first
    card from the same server; alternating, medians."""
    _byte_compile("studyapp")
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        bare.append(
            first_paint([PYTHON, "-m", "benchmarks.bare_app", _driver_url(url)], MARKER).seconds
        )
        ours.append(first_paint([PYTHON, "-m", "studyapp", "review", "--db", url], MARKER).seconds)
    app, floor = statistics.median(ours), statistics.median(bare)
    return [
        Row(
            f"{ON_SERVER}: start-up to the first card (`studyapp review`, 100x30 pty)",
            _fmt_s(app),
            f"{_fmt_s(floor)} (bare Textual app reading the card with psycopg)",
            app / floor,
            "≤ 1.5x (must 2.5x)",
            _verdict(app / floor, 1.5, 2.5),
        )
    ]


def rating(url: str, ratings: int) -> list[Row]:
    """Rate-to-next-card latency against a bare one-row commit on the same server."""
    import psycopg

    from studyapp.db import open_store
    from studyapp.services.study import StudySession

    store = open_store(url)
    store.prepare()
    session = StudySession(store, None)
    rng = random.Random(0)
    times: list[float] = []
    for _ in range(ratings):
        if session.current is None:
            break
        start = time.perf_counter()
        session.answer(rng.choice((2, 3, 4, 4, 5)))
        _ = session.current
        times.append(time.perf_counter() - start)
    store.dispose()

    bare: list[float] = []
    with psycopg.connect(_driver_url(url)) as conn:
        conn.execute("CREATE TABLE bare_log (id SERIAL PRIMARY KEY, card INTEGER, rating INTEGER)")
        conn.commit()
        for i in range(len(times)):
            start = time.perf_counter()
            with conn.transaction():
                conn.execute("INSERT INTO bare_log (card, rating) VALUES (%s, %s)", (i, 4))
            bare.append(time.perf_counter() - start)
    return rating_rows(
        times, bare, f"{ON_SERVER}: rating to next card", "bare one-row commit, same server"
    )


def import_cards(databases: _Databases, work: Path, cards: int, repeats: int = 3) -> list[Row]:
    """Import a CSV of `cards` cards into a new collection on the server, against bare
    executemany on the same server (3 columns, and the cards table with its indexes)."""
    from studyapp.db import open_store
    from studyapp.services.library import LibraryService

    source = work / "cards.csv"
    rows = write_csv(source, cards)
    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        store = open_store(databases.create("import"))
        library = LibraryService(store)
        times.setdefault("import", []).append(
            _timed(lambda lib=library: lib.import_files([source], deck="Bench"))
        )
        store.dispose()
        times.setdefault("minimal", []).append(_bare_insert(databases, rows, same_table=False))
        times.setdefault("same", []).append(_bare_insert(databases, rows, same_table=True))
    median = {name: statistics.median(values) for name, values in times.items()}
    ours, minimal, same = median["import"], median["minimal"], median["same"]
    return [
        Row(
            f"{ON_SERVER}: import {cards:,} CSV cards",
            _fmt_s(ours),
            f"{_fmt_s(minimal)} (bare executemany, 3 columns, same server)",
            ours / minimal,
            "≤ 5x (must 10x)",
            _verdict(ours / minimal, 5, 10),
        ),
        Row(
            f"{ON_SERVER}: import {cards:,} CSV cards, against the same table",
            _fmt_s(ours),
            f"{_fmt_s(same)} (bare executemany into the cards table, its indexes)",
            ours / same,
            "≤ 5x (must 10x)",
            _verdict(ours / same, 5, 10),
        ),
    ]


def _bare_insert(
    databases: _Databases, rows: list[tuple[str, str, str]], same_table: bool
) -> float:
    """The same rows through psycopg's executemany, in one transaction."""
    from datetime import UTC, datetime

    import psycopg

    url = databases.create("bare")
    if same_table:
        from studyapp.db import open_store

        open_store(url).dispose()  # the collection's tables and indexes, from the models
    now = datetime.now(UTC).replace(tzinfo=None)
    with psycopg.connect(_driver_url(url)) as conn:
        if same_table:
            conn.execute(
                "INSERT INTO decks (id, name, description, new_per_day, reviews_per_day,"
                " day_start_hour, created_at) VALUES (1, 'Bench', '', 20, 200, 4, %s)",
                (now,),
            )
            sql = (
                "INSERT INTO cards (uid, deck_id, position, front, back, tags, source,"
                " content_key, suspended, ease_cents, interval, repetitions, lapses,"
                " created_at, modified_at)"
                " VALUES (%s, 1, %s, %s, %s, %s, '', %s, FALSE, 250, 0, 0, 0, %s, %s)"
            )
            params: list[tuple[Any, ...]] = [
                (f"b{i:015x}", i, front, back, f" {tags} ", f"{i:032x}", now, now)
                for i, (front, back, tags) in enumerate(rows)
            ]
        else:
            conn.execute(
                "CREATE TABLE cards (id SERIAL PRIMARY KEY, front TEXT, back TEXT, tags TEXT)"
            )
            sql = "INSERT INTO cards (front, back, tags) VALUES (%s, %s, %s)"
            params = list(rows)
        conn.commit()
        with conn.cursor() as cursor:
            start = time.perf_counter()
            with conn.transaction():
                cursor.executemany(sql, params)
            return time.perf_counter() - start


def _driver_url(url: str) -> str:
    """The URL as the bare driver takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


__all__: list[str] = ["server_rows"]
