"""Every text parser, fed arbitrary text and bytes: a result or a FormatError, nothing else.

Besides random text, the inputs are built from fragments of the formats themselves (markers,
headers, quotes, separators), so the fuzzer reaches deep into each parser.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studyapp.errors import UserError
from studyapp.formats import detect, get_format
from studyapp.formats.base import ParseResult

PARSERS = ("brainscape", "knowt", "quizlet", "csv", "tsv", "md", "json")
# fmt: off
FRAGMENTS = (
    "1", "2", "67", "Q", "A", "", " ", "  • bullet", "    • nested", "*", "- x", "1. item",
    "How well did you know this?", "Not at all", "Perfectly", "New cards", "Still learning",
    "What is θ?", "True or False: yes", "True", "Name it", "Standard method is…", "studied by",
    "37 Terms", "1/36", "AI | Neural Networks | Medium", "# Deck", "## a", "## a", "## b c",
    "---", "tags: x, y", "source: s", "demo: d k=1 f=0.5 s=\"q w\" b=true", "demo: =",
    "suspended: true", "bogus: 1", "\\## escaped", "\\", "#separator:Tab", "#separator:;",
    "#html:true", "#tags column:3", "#deck column:0", "#columns:Front\tBack", "front,back",
    'q,"a', '"x""y",z', "a\tb\tc", "<b>x</b><ul><li>y", "&amp;&#0;&#xffffff;", "{", "}",
    '{"version": 1, "decks": [', '{"name": "D", "cards": [{"id": "x", "front": "f"}]}',
    "]}", '"state": {"ease": 1e999}', "\x00", "\ufeff", "\r", "\u2028",
)
# fmt: on
lines = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=40)
texts = st.one_of(st.text(max_size=400), lines.map("\n".join))
_counter = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def run(folder: Path, name: str, data: bytes, suffix: str = ".txt") -> None:
    path = folder / f"input-{next(_counter)}{suffix}"
    path.write_bytes(data)
    parse = get_format(name).parse
    assert parse is not None
    try:
        result = parse(path)
    except UserError as exc:
        assert str(path) in exc.message and "\n" not in exc.message
        return
    finally:
        path.unlink()
    assert isinstance(result, ParseResult)
    assert all(card.front.strip() for card in result.cards)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("name", PARSERS)
@FUZZ
@given(text=texts)
def test_parsers_take_any_text(folder: Path, name: str, text: str) -> None:
    run(folder, name, text.encode("utf-8"))


@pytest.mark.parametrize("name", PARSERS)
@FUZZ
@given(data=st.binary(max_size=300))
def test_parsers_take_any_bytes(folder: Path, name: str, data: bytes) -> None:
    run(folder, name, data)


@FUZZ
@given(data=st.binary(max_size=300) | texts.map(lambda t: t.encode("utf-8")))
def test_detection_takes_any_bytes(folder: Path, data: bytes) -> None:
    path = folder / f"detect-{next(_counter)}.bin"
    path.write_bytes(data)
    try:
        detect(path)
    except UserError as exc:
        assert str(path) in exc.message
    finally:
        path.unlink()


KEYS = (
    "name", "description", "settings", "cards", "id", "front", "back", "tags", "source",
    "demo", "params", "suspended", "state", "ease", "interval", "repetitions", "lapses", "due",
    "reviews", "at", "study_day", "rating", "duration_ms", "kind", "before", "after",
    "new_per_day", "reviews_per_day", "day_start_hour",
)  # fmt: skip
scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from(["2026-03-02", "2026-03-02T10:00:00+00:00", "new", "x"])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner),
    max_leaves=25,
)
documents = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 2, 0, "1"]), "decks": st.lists(values, max_size=3)}
)


@FUZZ
@given(document=documents)
def test_backup_reader_takes_any_document_shape(folder: Path, document: dict) -> None:
    run(folder, "json", json.dumps(document).encode("utf-8"), suffix=".json")
