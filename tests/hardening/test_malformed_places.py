"""A malformed file the readers have no specific check for still gets the promised line.

Each of these once reached the importer's fallback and printed Python's own exception text
(`invalid literal for int()`, `Exceeds the limit (4300 digits)`, `maximum recursion depth
exceeded`) or no place at all. Each must be one sentence that names the file, the place in
it and the rule, with exit status 2 and the collection exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.db import open_store
from studyapp.services.cards import CardService
from studyapp.services.library import LibraryService
from tests.hardening.conftest import one_line, run_cli


def _demo_deck(value: str) -> str:
    return f"# M\n\n## c1\ndemo: adam_vs_sgd steps={value}\n\nfront\n\n---\n\nback\n"


CASES = [
    (
        "a column number in superscript digits",
        "sup.csv",
        "#separator:comma\n#tags column:²\nq1,a1,t1\n",
        "line 2: #tags column takes a column number from 1 to 9999, not '²'",
    ),
    (
        "a demo parameter of 5000 digits",
        "bigint.md",
        _demo_deck("9" * 5000),
        "line 4: demo parameter 'steps' holds a whole number of more than 4,300 digits, "
        "the most that can be read",
    ),
    (
        "a demo parameter holding a number of 5000 digits in a list",
        "biglist.md",
        _demo_deck("[" + "9" * 5000 + "]"),
        "line 4: demo parameter 'steps' holds a whole number of more than 4,300 digits, "
        "the most that can be read",
    ),
    (
        "a demo parameter nested 100000 deep",
        "deep.md",
        _demo_deck("[" * 100_000),
        "line 4: demo parameter 'steps' holds lists or objects nested too deeply to be read",
    ),
    (
        "a deck cell holding a line break",
        "newline.csv",
        'front,back,deck\nq1,a1,Kept\nq2,a2,"two\nlines"\n',
        "line 3: a deck name cannot hold a control character or a lone surrogate (it holds U+000A)",
    ),
    (
        "a deck cell holding a line break, on a card with an id",
        "keyed.csv",
        'front,back,deck,id\nq1,a1,"two\nlines",k1\n',
        "line 2: a deck name cannot hold a control character or a lone surrogate (it holds U+000A)",
    ),
    (
        "a deck cell of 300 characters",
        "long.tsv",
        "front\tback\tdeck\nq1\ta1\t" + "x" * 300 + "\n",
        "line 2: a deck name has at most 200 characters; this one has 300",
    ),
]


@pytest.mark.parametrize(("label", "name", "text", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_file_is_one_line_with_its_place(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    label: str,
    name: str,
    text: str,
    message: str,
) -> None:
    db = tmp_path / "c.db"
    store = open_store(str(db))
    CardService(store).add("Mine", "kept", "as it was")
    before = LibraryService(store).export("json")
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")

    status, out, err = run_cli(capsys, "import", source, "--db", db)

    assert (status, out) == (2, "")
    assert one_line(err) == f"studyapp: {source}, {message}"
    assert LibraryService(store).export("json") == before
    store.dispose()
