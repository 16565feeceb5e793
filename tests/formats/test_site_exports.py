"""Brainscape, Knowt and Quizlet text copies: the five seed files and other pages like them."""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.formats import FormatError, detect, get_format
from studyapp.formats.base import ParseResult
from studyapp.model import text_problem

DATA = Path(__file__).resolve().parents[2] / "data"
CHROME = (
    "How well did you know this?",
    "Not at all",
    "Perfectly",
    "New cards",
    "studied by",
    "Studied by",
    "Practice Test",
    "Spaced Repetition",
    "encourage image",
    "No study sessions yet",
    "Looks like no tags",
    "37 Terms",
    "1/36",
    "1/24",
    "Codecademy",
    "| Medium",
)


def seed(stem: str) -> Path:
    return next(DATA.glob(f"{stem}_*.txt"))


def parse(path: Path) -> ParseResult:
    spec = detect(path)
    assert spec.parse is not None
    return spec.parse(path)


def card_text(result: ParseResult) -> str:
    return "\n".join(f"{c.front}\n{c.back}" for c in result.cards)


@pytest.mark.parametrize(
    ("stem", "format", "deck", "cards", "skipped"),
    [
        ("000", "brainscape", "Class Thirteen", 21, []),
        ("003", "brainscape", "Quiz 2 - Optimization, CNN", 103, ["card 67"]),
        ("002", "knowt", "Deep learning Interview Questions", 37, []),
        ("004", "knowt", None, 24, ["line 30"]),
    ],
)
def test_seed_files_import_whole_and_clean(
    stem: str, format: str, deck: str | None, cards: int, skipped: list[str]
) -> None:
    result = parse(seed(stem))
    assert result.format == format
    assert result.deck_name == deck
    assert len(result.cards) == cards
    assert [s.where for s in result.skipped] == skipped
    assert all(c.front.strip() and c.back.strip() for c in result.cards)
    text = card_text(result)
    for chrome in CHROME:
        assert chrome not in text, chrome
    assert len({(c.front, c.back) for c in result.cards}) == cards


def test_brainscape_reports_the_empty_card_and_keeps_structure() -> None:
    result = parse(seed("003"))
    assert result.skipped[0].reason == "card has no question and no answer"
    first = result.cards[0]
    assert first.front == "Loss surface geometries difficult for optimization"
    assert first.back == (
        "- local minima\n- plateaus\n- saddle points\n"
        "  - gradients of orthogonal directions are zero\n"
        "    - (min for one direction, max for another)"
    )
    assert first.source == "003_0a81d32002206609.txt card 1"
    two_paragraphs = next(c for c in result.cards if c.where == "card 54")
    assert two_paragraphs.front == (
        "Deeper networks are ___ sensitive to initialization\n\n(more or less?)"
    )
    # A stray empty bullet at the end of an answer is dropped, the rest kept.
    hessian = next(c for c in result.cards if c.where == "card 76")
    assert hessian.back.endswith("- Not often used in Deep Learning (computationally inefficient)")


def test_formulas_and_unicode_survive() -> None:
    schedules = next(c for c in parse(seed("000")).cards if c.where == "card 14")
    assert "η(t) = η0 /" in schedules.back and "factor of λ" in schedules.back
    vanishing = next(c for c in parse(seed("002")).cards if c.where == "card 21")
    assert "∂Loss/∂W₁ = (∂Loss/∂Aₗ) (∂Aₗ/∂Aₗ₋₁) ... (∂A₂/∂A₁) (∂A₁/∂W₁)" in vanishing.back
    regression = parse(seed("004")).cards[4]
    assert "(-∞, ∞)" in regression.back


def test_knowt_bullets_become_dashes_and_captions_are_reported() -> None:
    result = parse(seed("002"))
    first = result.cards[0]
    assert first.front == "What is deep learning?"
    assert "\n- Input layer: Data enters through the input layer.\n- Hidden layers:" in first.back
    assert "\u00a0" not in card_text(result)
    warnings = "\n".join(result.warnings)
    assert "card 12: left out 4 lines that look like an image caption" in warnings
    assert "Codecademy" in warnings


def test_knowt_question_lines_keep_the_analogy_and_report_the_unanswered() -> None:
    result = parse(seed("004"))
    assert result.cards[0].front == "What is the simple formulation of a machine learning model?"
    assert result.cards[0].back.splitlines()[1].startswith("Analogy: Think of f as a recipe")
    assert result.skipped[0].reason.startswith("question 'What is the solution for optimizing")
    assert result.description is not None and result.description.startswith("Flashcards covering")


def test_quizlet_style_copy_accounts_for_every_line() -> None:
    path = seed("001")
    result = parse(path)
    assert result.format == "quizlet"
    assert len(result.cards) >= 20
    skipped_lines = {int(s.where.split()[1]) for s in result.skipped}
    text = card_text(result)
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if line.strip():
            assert line.strip() in text or number in skipped_lines, (number, line)
    by_line = {c.where: c for c in result.cards}
    assert by_line["line 19"].back == "True"
    assert by_line["line 9"].back == "Chain rule"
    assert "line 36" in {s.where for s in result.skipped}  # a question with no answer


# --- other pages of the same kinds ----------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "page.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BRAINSCAPE_VARIANT = """\
Précis de réseaux — Ünïcode Flashcards

Preview
1
Q

Qu'est-ce que θ ?

A

  • θ are the parameters
    * nested star bullet
How well did you know this? 1 Not at all 2 3 4 5 Perfectly
2
Q

A question whose answer was an image

A

3
Q
What does ŷ = σ(Wx + b) compute?
A
  1. a weighted sum
  2. then the activation σ
How well did you know this?
1
Not at all
2
3
4
5
Perfectly
"""


def test_other_brainscape_pages(tmp_path: Path) -> None:
    result = parse(write(tmp_path, BRAINSCAPE_VARIANT))
    assert result.format == "brainscape"
    assert result.deck_name == "Précis de réseaux — Ünïcode"
    assert [(c.front, c.back) for c in result.cards] == [
        ("Qu'est-ce que θ ?", "- θ are the parameters\n  - nested star bullet"),
        ("What does ŷ = σ(Wx + b) compute?", "1. a weighted sum\n2. then the activation σ"),
    ]
    assert [(s.where, s.reason) for s in result.skipped] == [
        ("card 2", "question 'A question whose answer was an image' has no answer")
    ]


KNOWT_VARIANT = """\
Convolutions 101
4.5(12)
studied byStudied by 120 people
learnLearn
examPractice Test
3 Terms

1
Still learning

What is a kernel?

A small matrix of weights.

  • slides over the input

2
Mastered

What is stride?

The step between positions.

3
New cards

Unanswered one?

4
Learning
What is padding?
Zeros around the border.
  • keeps the size

No study sessions yet.
"""


def test_other_knowt_pages(tmp_path: Path) -> None:
    result = parse(write(tmp_path, KNOWT_VARIANT))
    assert result.format == "knowt"
    assert result.deck_name == "Convolutions 101"
    assert [(c.front, c.back) for c in result.cards] == [
        ("What is a kernel?", "A small matrix of weights.\n\n- slides over the input"),
        ("What is stride?", "The step between positions."),
        ("What is padding?", "Zeros around the border.\n- keeps the size"),
    ]
    assert [s.where for s in result.skipped] == ["card 3"]


def test_quizlet_page_with_its_chrome(tmp_path: Path) -> None:
    text = "Terms in this set (2)\nWhat is ReLU?\nmax(0, x)\nDefine dropout\nRandomly zero units\n"
    result = parse(write(tmp_path, text))
    assert result.format == "quizlet"
    assert [(c.front, c.back) for c in result.cards] == [
        ("What is ReLU?", "max(0, x)"),
        ("Define dropout", "Randomly zero units"),
    ]
    assert [(s.where, s.reason) for s in result.skipped] == [("line 1", "page chrome")]


@pytest.mark.parametrize("name", ["brainscape", "knowt", "quizlet"])
def test_a_page_with_no_cards_is_one_clear_error(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "just some words\nwithout any cards\n")
    parse_file = get_format(name).parse
    assert parse_file is not None
    with pytest.raises(FormatError) as caught:
        parse_file(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("stem", ["003", "000"])
def test_a_site_copy_whose_file_name_is_not_utf8_keeps_its_cards(stem: str, tmp_path: Path) -> None:
    """The file's name is each card's source: bytes of it that are not UTF-8 are shown as
    U+FFFD, not a lone surrogate that made every card skipped."""
    copy = tmp_path / "quiz\udcff.txt"  # the byte 0xFF, as the system passes it
    copy.write_bytes(seed(stem).read_bytes())
    result = parse(copy)
    assert len(result.cards) == len(parse(seed(stem)).cards) > 20
    assert {card.source.split(" card ")[0] for card in result.cards} == {"quiz\ufffd.txt"}
    assert all(text_problem(card.source) is None for card in result.cards)
