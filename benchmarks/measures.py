"""The measurements: each one times studyapp and, in the same run, the floor it is held to.

Every function returns `Row`s; `benchmarks.__main__` runs them and writes the README table.
Collections are copied before anything writes to them, so a run never changes its inputs.
"""

from __future__ import annotations

import compileall
import csv
import importlib.util
import io
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.terminal import first_paint

PYTHON = sys.executable
MARKER = b"Question"  # every synthetic card's front starts with it
HOME_MARKER = b"All decks"  # the last row of home's deck table


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    what: str
    measured: str
    floor: str
    ratio: float | None  # measured / floor, where the floor is comparable
    goal: str
    verdict: str


def _fmt_s(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _verdict(value: float, goal: float, must: float | None = None) -> str:
    if value <= goal:
        return "meets the goal"
    if must is not None and value <= must:
        return "meets the must, not the goal"
    return "misses"


def copy_collection(source: Path, target: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


# --- start-up and memory ---------------------------------------------------------------------


def startup(collection: Path, runs: int) -> list[Row]:
    """First card on screen (and the home screen) vs a bare Textual app's first paint,
    alternating, medians."""
    app: list[float] = []
    home: list[float] = []
    bare: list[float] = []
    rss: list[float] = []
    _byte_compile("studyapp")
    for _ in range(runs):
        b = first_paint([PYTHON, "-m", "benchmarks.bare_app"], MARKER)
        a = first_paint([PYTHON, "-m", "studyapp", "review", "--db", str(collection)], MARKER)
        h = first_paint([PYTHON, "-m", "studyapp", "--db", str(collection)], HOME_MARKER)
        bare.append(b.seconds)
        app.append(a.seconds)
        home.append(h.seconds)
        rss += [p.peak_rss_mb for p in (a, h) if p.peak_rss_mb is not None]
    bare_s = statistics.median(bare)
    rows = []
    for label, seconds, targeted in (
        ("start-up to the first card (`studyapp review`, 100x30 pty)", app, True),
        ("start-up to the home screen's deck counts (`studyapp`, 100x30 pty)", home, False),
    ):
        ours = statistics.median(seconds)
        rows.append(
            Row(
                label,
                _fmt_s(ours),
                f"{_fmt_s(bare_s)} (bare Textual app)",
                ours / bare_s,
                "≤ 1.5x (must 2.5x)" if targeted else "-",
                _verdict(ours / bare_s, 1.5, 2.5) if targeted else "-",
            )
        )
    if rss:
        peak = max(rss)
        rows.append(
            Row(
                "peak memory of the TUI process (first card or home shown)",
                f"{peak:.0f} MB",
                "-",
                None,
                "< 150 MB",
                _verdict(peak, 150),
            )
        )
    return rows


def _byte_compile(package: str) -> None:
    """Compile `package` as pip does when it installs one, so start-up is measured as a user
    has it: the floor's Textual comes from site-packages compiled, and an editable checkout
    where PYTHONDONTWRITEBYTECODE is set would otherwise compile every module on each run."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise RuntimeError(f"{package} is not an importable package here")
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


# --- rating and queue ------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rating(collection: Path, work: Path, ratings: int) -> list[Row]:
    """Rate-to-next-card latency against a bare SQLite commit with the same settings."""
    from studyapp.db import open_store
    from studyapp.services.study import StudySession

    store = open_store(str(copy_collection(collection, work / "rating.db")))
    store.prepare()  # as the app does while the first card is read
    session = StudySession(store, None)
    rng = random.Random(0)
    times: list[float] = []
    for _ in range(ratings):
        if session.current is None:
            break
        start = time.perf_counter()
        session.answer(rng.choice((2, 3, 4, 4, 5)))
        _ = session.current  # the next card, chosen and read
        times.append(time.perf_counter() - start)
    store.dispose()

    bare_path = work / "bare-commit.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{bare_path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(bare_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, card INTEGER, rating INTEGER)")
    bare: list[float] = []
    for i in range(len(times)):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO log (card, rating) VALUES (?, ?)", (i, 4))
        conn.execute("COMMIT")
        bare.append(time.perf_counter() - start)
    conn.close()

    return rating_rows(times, bare, "rating to next card", "bare one-row commit")


def rating_rows(times: list[float], bare: list[float], what: str, floor: str) -> list[Row]:
    """The p50 and p99 rows of ratings' `times` against the `bare` commits' (the goal is a
    p99 under 5 ms)."""
    rows = []
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        ours, bare_q = _percentile(times, q), _percentile(bare, q)
        rows.append(
            Row(
                f"{what}, {label} ({len(times)} ratings)",
                _fmt_s(ours),
                f"{_fmt_s(bare_q)} ({floor})",
                ours / bare_q,
                "p99 < 5 ms" if label == "p99" else "-",
                _verdict(ours, 0.005) if label == "p99" else "-",
            )
        )
    return rows


def queue(collection: Path, repeats: int = 5) -> list[Row]:
    """Building today's queue over all decks vs one indexed query for due cards."""
    from studyapp.db import open_store
    from studyapp.services.study import StudySession

    store = open_store(str(collection))
    StudySession(store, None)  # warm the statement cache and the page cache
    ours = statistics.median(_timed(lambda: StudySession(store, None)) for _ in range(repeats))
    store.dispose()
    today = datetime.now().date().isoformat()
    conn = sqlite3.connect(collection)
    query = "SELECT id FROM cards WHERE deck_id = 1 AND due <= ? ORDER BY due LIMIT 200"
    conn.execute(query, (today,)).fetchall()
    floor = statistics.median(
        _timed(lambda: conn.execute(query, (today,)).fetchall()) for _ in range(repeats)
    )
    conn.close()
    return [
        Row(
            "build today's queue (all 10 decks)",
            _fmt_s(ours),
            f"{_fmt_s(floor)} (one indexed due query)",
            ours / floor,
            "-",
            "-",
        )
    ]


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# --- import and export -----------------------------------------------------------------------


def write_csv(path: Path, cards: int, seed: int = 0) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    words = [
        "gradient",
        "loss",
        "weights",
        "bias",
        "momentum",
        "dropout",
        "kernel",
        "stride",
        "softmax",
        "entropy",
    ]
    rows = [
        (
            f"Question {i}: what does layer {rng.randrange(100)} compute?",
            f"Answer {i}: " + " ".join(rng.choice(words) for _ in range(12)),
            rng.choice(("optimizers", "cnn", "regularization")),
        )
        for i in range(cards)
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("front", "back", "tags"))
        writer.writerows(rows)
    return rows


def import_export(work: Path, cards: int, repeats: int = 3) -> list[Row]:
    """Import a CSV of `cards` cards, export JSON and .apkg; floors are bare executemany.

    Each figure is the median of `repeats` runs, its floor too, taken in turns so a busy
    moment of the machine weighs on both alike.
    """
    from studyapp.db import open_store
    from studyapp.services.library import LibraryService

    source = work / "cards.csv"
    rows = write_csv(source, cards)
    target = work / "import.db"
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    for _ in range(repeats):
        _remove_collection(target)
        store = open_store(str(target))
        library = LibraryService(store)
        note("import", _timed(lambda lib=library: lib.import_files([source], deck="Bench")))
        for fmt in ("json", "apkg"):
            note(fmt, _timed(lambda fmt=fmt, lib=library: lib.export(fmt)))
        package = library.export("apkg")
        store.dispose()
        note("same file", _bare_package(package))
        note("minimal", _bare_insert(work / "bare-minimal.db", rows, same_table=None))
        note("same", _bare_insert(work / "bare-same.db", rows, same_table=target))
        note("command", _timed(lambda: _studyapp_import(source, work / "command.db")))
        note("bare command", _timed(lambda: _bare_script(source, work / "bare-script.db")))
    median = {name: statistics.median(values) for name, values in times.items()}
    minimal, same = median["minimal"], median["same"]
    bare_floor = f"{_fmt_s(minimal)} (bare executemany, 3 columns)"
    out = [
        Row(
            f"import {cards:,} CSV cards",
            _fmt_s(median["import"]),
            bare_floor,
            median["import"] / minimal,
            "≤ 5x (must 10x)",
            _verdict(median["import"] / minimal, 5, 10),
        ),
        Row(
            f"import {cards:,} CSV cards, against the same table",
            _fmt_s(median["import"]),
            f"{_fmt_s(same)} (bare executemany into the cards table, its indexes)",
            median["import"] / same,
            "≤ 5x (must 10x)",
            _verdict(median["import"] / same, 5, 10),
        ),
        Row(
            f"`studyapp import` of {cards:,} CSV cards into a new collection, process start"
            " to exit",
            _fmt_s(median["command"]),
            f"{_fmt_s(median['bare command'])} (a Python script: read the CSV, executemany,"
            " 3 columns)",
            median["command"] / median["bare command"],
            "-",
            "-",
        ),
    ]
    for fmt in ("json", "apkg"):
        seconds = median[fmt]
        out.append(
            Row(
                f"export {cards:,} cards to {fmt}",
                _fmt_s(seconds),
                bare_floor,
                seconds / minimal,
                "≤ 5x (must 10x)",
                _verdict(seconds / minimal, 5, 10),
            )
        )
    same_file = median["same file"]
    out.append(
        Row(
            f"export {cards:,} cards to apkg, against writing the same file",
            _fmt_s(median["apkg"]),
            f"{_fmt_s(same_file)} (its notes and cards as ready rows: bare executemany, its"
            " index, deflate)",
            median["apkg"] / same_file,
            "-",
            "-",
        )
    )
    return out


def _bare_package(package: bytes) -> float:
    """How long plain sqlite3 and zipfile take to write the Anki collection in `package`
    from its rows ready in memory: its tables, its notes and cards, its index, deflated
    into a zip archive (level 1, as the export's). What the export adds to this is reading
    the collection and working out each note (fields, checksum, guid)."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        collection = archive.read("collection.anki2")
    source = sqlite3.connect(":memory:")
    source.deserialize(collection)
    tables = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL"
        )
    ]
    indexes = [
        sql
        for (sql,) in source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    ]
    rows = {
        name: source.execute(f"SELECT * FROM {name}").fetchall()
        for name in ("col", "notes", "cards", "revlog", "graves")
    }
    source.close()
    start = time.perf_counter()
    target = sqlite3.connect(":memory:")
    target.execute("PRAGMA journal_mode = OFF")
    for sql in tables:
        target.execute(sql)
    for name, values in rows.items():
        if values:
            marks = ", ".join("?" * len(values[0]))
            target.executemany(f"INSERT INTO {name} VALUES ({marks})", values)
    for sql in indexes:
        target.execute(sql)
    target.commit()
    data = target.serialize()
    target.close()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("collection.anki2", data)
        archive.writestr("media", b"{}")
    return time.perf_counter() - start


_BARE_SCRIPT = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[2])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=FULL")
conn.execute("CREATE TABLE cards (id INTEGER PRIMARY KEY, front TEXT, back TEXT, tags TEXT)")
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    rows = list(csv.reader(handle))[1:]
with conn:
    conn.executemany("INSERT INTO cards (front, back, tags) VALUES (?, ?, ?)", rows)
conn.close()
"""


def _bare_script(source: Path, target: Path) -> None:
    _remove_collection(target)
    subprocess.run([PYTHON, "-c", _BARE_SCRIPT, str(source), str(target)], check=True)


def _studyapp_import(source: Path, collection: Path) -> None:
    """`studyapp import` into a new collection, from process start to exit."""
    _remove_collection(collection)
    subprocess.run(
        [PYTHON, "-m", "studyapp", "import", str(source), "--db", str(collection)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _remove_collection(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _bare_insert(path: Path, rows: list[tuple[str, str, str]], same_table: Path | None) -> float:
    """The same rows through plain sqlite3 executemany, WAL and full sync, one transaction."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    if same_table is None:
        conn.execute(
            "CREATE TABLE cards (id INTEGER PRIMARY KEY, front TEXT, back TEXT, tags TEXT)"
        )
        sql = "INSERT INTO cards (front, back, tags) VALUES (?, ?, ?)"
        params: list[tuple[object, ...]] = list(rows)
    else:
        schema = sqlite3.connect(same_table)
        ddl = [
            sql
            for (sql,) in schema.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'cards' AND sql IS NOT NULL"
            )
        ]
        schema.close()
        for statement in ddl:
            conn.execute(statement)  # the table and its indexes, as the collection has them
        sql = (
            "INSERT INTO cards (uid, deck_id, position, front, back, tags, source, content_key,"
            " suspended, ease_cents, interval, repetitions, lapses, created_at, modified_at)"
            " VALUES (?, 1, ?, ?, ?, ?, '', ?, 0, 250, 0, 0, 0, ?, ?)"
        )
        params = [
            (f"b{i:015x}", i, front, back, f" {tags} ", f"{i:032x}", now, now)
            for i, (front, back, tags) in enumerate(rows)
        ]
    start = time.perf_counter()
    with conn:
        conn.executemany(sql, params)
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


# --- demos -----------------------------------------------------------------------------------


def demos() -> list[Row]:
    """Every demo's default run in the warm worker, and the first demo cold and warm."""
    from studyapp.demo_api import all_specs
    from studyapp.services.demos import DemoRunner

    rows: list[Row] = []
    cold_runner = DemoRunner(None)
    cold = _timed(lambda: cold_runner.run("adam_vs_sgd", {}, 0, use_cache=False))
    warm = _timed(lambda: cold_runner.run("adam_vs_sgd", {}, 0, use_cache=False))
    rows.append(
        Row(
            "first demo in the app: cold worker (spawn + torch import + run)",
            _fmt_s(cold),
            f"{_fmt_s(warm)} (same demo, warm worker)",
            cold / warm,
            "-",
            "-",
        )
    )
    slowest = ("", 0.0)
    failures = []
    for spec in all_specs():
        result = cold_runner.run(spec.id, {}, 0, use_cache=False)
        if not result.ok:
            failures.append(f"{spec.id}: {result.error}")
            continue
        if result.elapsed_s > slowest[1]:
            slowest = (spec.id, result.elapsed_s)
        rows.append(
            Row(
                f"demo {spec.id} (default run, seed 0)",
                _fmt_s(result.elapsed_s),
                "-",
                None,
                "< 5 s",
                _verdict(result.elapsed_s, 5.0),
            )
        )
    cold_runner.close()
    if failures:
        rows.append(Row("demos that failed", "; ".join(failures), "-", None, "none", "misses"))
    return rows


def clean(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
