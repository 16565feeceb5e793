"""Native deck files: the spec's example, exact round trips, canonical output, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from studyapp.formats import FormatError, detect, get_format
from studyapp.formats.base import ExportCard, ExportDeck
from studyapp.formats.native import export, parse_text, render
from studyapp.model import DemoLink
from studyapp.scheduling import SM2State
from tests.formats.decks import as_deck

CARDS = Path(__file__).resolve().parents[2] / "cards"
EXAMPLE = """\
# Optimization and CNNs

<!-- studyapp deck · source: data/003_0a81d32002206609.txt (Brainscape "Quiz 2") -->
Optional description paragraphs and curation notes (e.g. "Card 67 of the source is empty
and was left out."), up to the first card.

## q2-001
tags: optimizers, fundamentals
source: 003_0a81d32002206609.txt card 1
demo: adam_vs_sgd steps=400 lr_adam=0.01 nesterov=true schedule=cosine

What is the role of an optimizer in deep learning?

---

It adjusts the parameters iteratively ...
- bullet one
  - indented bullet
"""


def test_the_example_reads_as_specified() -> None:
    result = parse_text(EXAMPLE, "deck.md")
    assert result.deck_name == "Optimization and CNNs"
    assert result.description is not None
    assert result.description.startswith("<!-- studyapp deck · source:")
    assert result.description.endswith("up to the first card.")
    (card,) = result.cards
    assert card.key == "q2-001"
    assert card.tags == ("optimizers", "fundamentals")
    assert card.source == "003_0a81d32002206609.txt card 1"
    assert card.demo == DemoLink(
        "adam_vs_sgd", {"steps": 400, "lr_adam": 0.01, "nesterov": True, "schedule": "cosine"}
    )
    assert card.front == "What is the role of an optimizer in deep learning?"
    assert (
        card.back == "It adjusts the parameters iteratively ...\n- bullet one\n  - indented bullet"
    )
    assert render(as_deck(result)) == EXAMPLE


@pytest.mark.parametrize(
    "text",
    [
        "w[i] <- w[i] - lr",
        "[bold]not markup[/] and [/]",
        "## looks like a heading\n---\n\\backslash first\n\\\\two",
        "\n\nleading and trailing blank lines\n\n",
        "   indented\n\n\n\ninner blank lines kept\n\t tab",
        "  ",
        "---",
        "front\n-----\nlonger rule\n--- \nrule and a space",
        "Unicode: θ ∞ ŷ → ∂Loss/∂W₁ 🙂",
        "tags: read as text, not as the card's tags\nsource: nor this",
        "```yaml\n---\nkey: 1\n```",
    ],
)
def test_any_text_survives_a_round_trip(text: str) -> None:
    front = text if text.strip() else "front"
    card = ExportCard(
        uid="c1",
        front=front,
        back=text,
        tags=("a", "b"),
        source="file.txt card 3",
        demo=DemoLink("d", {"s": "two words", "n": "1", "f": 1e-05, "b": False, "i": -3}),
        state=SM2State.new(),
        reviews=(),
        suspended=True,
        position=1,
    )
    written = render(ExportDeck("Deck", (card,), "notes\n## not a card"))
    result = parse_text(written, "x.md")
    (back,) = result.cards
    assert (back.front, back.back, back.demo, back.suspended) == (
        front,
        text,
        card.demo,
        True,
    )
    assert result.description == "notes\n## not a card"
    assert render(as_deck(result)) == written


@pytest.mark.skipif(not list(CARDS.glob("*.md")), reason="the bundled deck is not written yet")
def test_the_bundled_deck_files_are_canonical() -> None:
    for path in sorted(CARDS.glob("*.md")):
        if path.name.lower().startswith("readme"):
            continue
        text = path.read_text(encoding="utf-8")
        assert render(as_deck(parse_text(text, path))) == text, path.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# D\n\n## a\n\nq\n\n---\n\nx\n\n## a\n\nq2\n---\n",
            "x.md, line 11: card id 'a' is already used on line 3",
        ),
        ("# D\n\n## a\ncolour: red\n\nq\n---\n", "x.md, line 4: unknown key 'colour'"),
        ("# D\n\n## a\n\nq without a rule\n", "x.md, line 3: card 'a' has no '---' line"),
        ("# D\n\n## a\n\n\n---\nback\n", "x.md, line 3: card 'a' has an empty front"),
        ("# D\n\n## bad id\n\nq\n---\n", "x.md, line 3: 'bad id' is not a card id"),
        (
            "# D\n\n## a\n\nq\n---\n```python\n## forward pass\ny = f(x)\n```\n",
            "x.md, line 8: '## forward pass' inside a code block starts a card; "
            "write it as '\\## forward pass'",
        ),
        ("# D\n\n## a\ndemo: k=v\n\nq\n---\n", "x.md, line 4: a demo link is"),
        ("# D\n\n## a\nsuspended: maybe\n\nq\n---\n", "x.md, line 4: suspended is true or false"),
        ("# D\n\n## a\nWhat: is this?\n---\n", "x.md, line 4: unknown key 'What'"),
        ("no title\n", "x.md, line 1: a deck file starts with '# <deck name>'"),
    ],
)
def test_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        parse_text(text, "x.md")
    assert str(caught.value).startswith(message)


def test_a_file_holds_one_deck() -> None:
    deck = ExportDeck("A", ())
    assert export([deck]) == b"# A\n\n"
    with pytest.raises(FormatError, match="one deck"):
        export([deck, ExportDeck("B", ())])


def test_hand_written_rules_and_capitalised_keys_are_read() -> None:
    text = (
        "# Hand written\n\n## c1\nTags: a, b\nSource: book p. 3\n\nFront one\n\n-----\n\nBack one\n"
        "\n## c2\n\nFront two\n--- \nBack two\n"
    )
    result = parse_text(text, "hand.md")
    assert [(c.front, c.back, c.tags, c.source) for c in result.cards] == [
        ("Front one", "Back one", ("a", "b"), "book p. 3"),
        ("Front two", "Back two", (), ""),
    ]


def test_a_rule_in_a_fenced_code_block_written_by_hand_stays_in_the_side() -> None:
    text = (
        "# Hand\n\n## c1\n\nWhat does this start with?\n\n```yaml\n---\nkey: 1\n```\n\n---\n\n"
        "A document marker.\n\n## c2\n\nA fence left open\n```\n\n---\n\nBack\n"
    )
    first, second = parse_text(text, "hand.md").cards
    assert (first.front, first.back) == (
        "What does this start with?\n\n```yaml\n---\nkey: 1\n```",
        "A document marker.",
    )
    assert (second.front, second.back) == ("A fence left open\n```", "Back")


def test_keys_after_a_blank_line_are_the_front_and_the_file_is_told_so() -> None:
    text = "# Hand\n\n## c1\n\ntags: adam\n\nWhat is Adam?\n\n---\n\nAn optimizer.\n"
    result = parse_text(text, "hand.md")
    (card,) = result.cards
    assert (card.front, card.tags) == ("tags: adam\n\nWhat is Adam?", ())
    assert result.warnings == [
        "line 5: card 'c1' has a blank line after its heading, so 'tags: adam' was read as "
        "its front's text; 'key: value' lines go right under the heading"
    ]


def test_a_longer_rule_in_a_side_written_before_it_was_escaped_stays_in_the_side() -> None:
    # Earlier versions escaped only '---': a side's '-----' line is in their files as it is.
    text = "# Earlier\n\n## c1\n\nAbove\n-----\nBelow\n\n---\n\nBack\n-----\nMore\n"
    (card,) = parse_text(text, "earlier.md").cards
    assert (card.front, card.back) == ("Above\n-----\nBelow", "Back\n-----\nMore")


def test_cards_under_the_wrong_heading_level_are_reported_not_dropped() -> None:
    result = parse_text("# Levels\n\n### c1\n\nFront\n\n---\n\nBack\n", "levels.md")
    assert result.cards == []
    assert result.warnings == [
        "no cards were read: a card starts with a line '## <card id>', and line 3 ('### c1') "
        "was read as part of the deck's description"
    ]


def test_a_deck_without_cards_reads_without_a_warning() -> None:
    result = parse_text("# Empty\n\nJust a description.\n", "empty.md")
    assert (result.cards, result.warnings) == ([], [])


@pytest.mark.parametrize("description", ["?", "0", "What is a gradient?\nThe slope."])
def test_a_deck_file_without_cards_is_read_as_one(tmp_path: Path, description: str) -> None:
    # Its description may read like a question and its answer; the title says what it is.
    path = tmp_path / "deck-1.md"
    path.write_text(f"# ?\n\n{description}\n", encoding="utf-8")
    result = detect(path).parse(path)  # type: ignore[misc]
    assert (result.format, result.deck_name, result.cards) == ("md", "?", [])
    assert result.description == description


def test_notes_of_questions_under_a_title_are_told_how_to_read_them(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Biology\n\nWhat is a cell?\nThe unit of life.\n", encoding="utf-8")
    result = detect(path).parse(path)  # type: ignore[misc]
    assert (result.deck_name, result.cards) == ("Biology", [])
    assert result.warnings == [
        "no cards were read: a card starts with a line '## <card id>', and line 3 ('What is a "
        "cell?') was read as part of the deck's description; to read questions and answers, "
        "import the file as quizlet"
    ]
    assert [c.front for c in get_format("quizlet").parse(path).cards] == ["What is a cell?"]  # type: ignore[misc]


def test_a_markdown_file_without_a_title_is_told_what_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("## c1\n\nFront\n\n---\n\nBack\n", encoding="utf-8")
    spec = detect(path)
    assert spec.name == "md"
    with pytest.raises(FormatError) as caught:
        spec.parse(path)  # type: ignore[misc]
    assert str(caught.value) == f"{path}, line 1: a deck file starts with '# <deck name>'"
