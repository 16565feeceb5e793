"""The deck shipped in cards/: what a new user studies first, so it must be whole and clean.

Each file is read with the native format, the way `studyapp init` loads it. The checks hold
the curation rules of cards/README.md: the expected count per source document, ids unique
across decks, topic tags from the vocabulary, no page chrome, at least 90% of cards linked to
a demo that exists with valid parameters, and text faithful to the source documents in data/
except where the deck's description names a card as repaired or filled. A card corrected
against the literature (the README's "Audit" table) still shows its source's words, quoted
verbatim after "The source says:", and the README's "Merged cards" table, which upgrades of
existing collections read, names ids that were removed and ids that were kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from studyapp.demo_api import check_link
from studyapp.formats import CardDraft, ParseResult, get_format
from tests.formats.decks import as_deck

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"
DATA = ROOT / "data"

# deck file -> (deck title, source document, number of cards)
DECKS = {
    "class-thirteen-optimizers.md": ("Class Thirteen: Optimizers", "000_135b1a0c306b6a06.txt", 21),
    "optimization-hyperparameters.md": (
        "Optimization and Hyperparameters",
        "001_cf4f64a6db542696.txt",
        18,
    ),
    "deep-learning-interview.md": (
        "Deep Learning Interview Questions",
        "002_571e76fee13970cc.txt",
        37,
    ),
    "optimization-cnn-quiz.md": ("Quiz 2: Optimization and CNNs", "003_0a81d32002206609.txt", 103),
    "training-deep-networks.md": ("Training Deep Neural Networks", "004_94e693ab075b1c21.txt", 25),
}

TAGS = {
    "optimizers",
    "learning-rate",
    "hyperparameters",
    "initialization",
    "activations",
    "backpropagation",
    "regularization",
    "normalization",
    "cnn",
    "evaluation",
    "generative",
    "fundamentals",
    "training",
    "architecture",
}

# Text that belongs to the study sites' pages, never to a card.
CHROME = (
    "How well did you know this?",
    "New cards",
    "studied by",
    "Practice Test",
    "Spaced Repetition",
    "Card Sorting",
    "Study Analytics",
    "No study sessions yet",
    "There's no tags or description",
    "Looks like no tags are added yet",
    "encourage image",
    "Download Scientific Diagram",
    "| Medium",
    "- Quora",
    "Codecademy",
    "Chris Albon",
    "Step by StepHere",
    "ExplainedThe",
)
CHROME_LINES = re.compile(r"^(?:\d+/\d+|\d+ Terms|Q|A|\d|Not at all|Perfectly|Mastery|seq2seq)$")
# Cards whose text differs from the source beyond bullets and rejoined lines (a caption cut
# out of a sentence, a lost superscript restored, a statement turned into a fill-in-the-blank
# card, a list renumbered), and cards whose missing answer was filled from another card of
# the sources.
REPAIRED = {
    "ct-014",
    "oh-003",
    "oh-009",
    "oh-021",
    "dli-008",
    "dli-014",
    "dli-022",
    "dli-037",
    "q2-019",
}
FILLED = {"tdn-008"}
CARD_ID = re.compile(r"\b(?:ct|oh|dli|q2|tdn)-\d{3}\b")
SOURCE_REF = re.compile(r"^(?P<file>\S+\.txt) (?:card|line) (?P<n>\d+)\b")
# The last paragraph of a corrected card: why it was corrected, then the source's own words.
CORRECTION = re.compile(r"\n\nCorrected: (?P<why>[^\n]+?) The source says: (?P<quoted>[^\n]+)\Z")
QUOTE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class Deck:
    file: str
    source: str
    parsed: ParseResult

    @property
    def cards(self) -> list[CardDraft]:
        return self.parsed.cards

    @property
    def description(self) -> str:
        return self.parsed.description


@cache
def _decks() -> tuple[Deck, ...]:
    native = get_format("md")
    assert native.parse is not None
    return tuple(
        Deck(file, source, native.parse(CARDS / file)) for file, (_, source, _) in DECKS.items()
    )


def _all_cards() -> Iterator[tuple[Deck, CardDraft]]:
    for deck in _decks():
        for card in deck.cards:
            yield deck, card


def _normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@cache
def _source_text(name: str) -> str:
    return _normalise((DATA / name).read_text(encoding="utf-8"))


def _noted(deck: Deck) -> set[str]:
    """Card ids that the deck's description names: repaired, filled or otherwise curated."""
    return set(CARD_ID.findall(deck.description))


def _readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table under `## heading` in cards/README.md, header row excluded."""
    text = (CARDS / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.split("\n") if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _corrected() -> set[str]:
    """Card ids of the README's Audit table: cards whose source was corrected."""
    return {row[0] for row in _readme_table("Audit")}


def _merges() -> list[tuple[str, str]]:
    """(removed, kept) pairs of the README's Merged cards table."""
    return [(row[0], row[1]) for row in _readme_table("Merged cards")]


def _quoted_source(card: CardDraft) -> list[str] | None:
    """The source's words a corrected card quotes in its last paragraph, or None if it has none."""
    match = CORRECTION.search(card.back)
    return QUOTE.findall(match["quoted"]) if match else None


def test_the_deck_folder_holds_exactly_the_five_decks() -> None:
    found = {p.name for p in CARDS.glob("*.md")} - {"README.md"}
    assert found == set(DECKS)


@pytest.mark.parametrize("file", list(DECKS))
def test_each_deck_has_its_title_and_card_count(file: str) -> None:
    deck = next(d for d in _decks() if d.file == file)
    title, _source, count = DECKS[file]
    assert deck.parsed.deck_name == title
    assert not deck.parsed.skipped
    assert len(deck.cards) == count


@pytest.mark.parametrize("file", list(DECKS))
def test_each_deck_file_is_written_as_the_exporter_writes_it(file: str) -> None:
    """Exporting a loaded bundled deck gives back its file byte for byte, so diffs stay clean."""
    deck = next(d for d in _decks() if d.file == file)
    exported = as_deck(deck.parsed)
    native = get_format("md", for_export=True)
    assert native.export is not None
    assert native.export([exported]) == (CARDS / file).read_bytes()


def test_the_deck_is_about_210_cards() -> None:
    assert 200 <= sum(1 for _ in _all_cards()) <= 220


def test_ids_are_unique_across_all_decks_and_carry_the_deck_prefix() -> None:
    prefixes = {"ct", "oh", "dli", "q2", "tdn"}
    ids = [card.key for _, card in _all_cards()]
    assert all(key and key.split("-")[0] in prefixes for key in ids)
    duplicates = sorted({key for key in ids if ids.count(key) > 1 and key})
    assert not duplicates


def test_every_card_has_topic_tags_from_the_vocabulary() -> None:
    untagged = [card.key for _, card in _all_cards() if not card.tags]
    unknown = {(card.key, tag) for _, card in _all_cards() for tag in card.tags if tag not in TAGS}
    assert not untagged
    assert not unknown


def test_every_card_names_its_own_source_document() -> None:
    wrong = []
    for deck, card in _all_cards():
        match = SOURCE_REF.match(card.source)
        if match is None or match["file"] != deck.source:
            wrong.append((card.key, card.source))
    assert not wrong


def test_no_page_chrome_or_site_bullets_in_any_card() -> None:
    found = []
    for _, card in _all_cards():
        for side in (card.front, card.back):
            lowered = side.lower()
            found += [(card.key, s) for s in CHROME if s.lower() in lowered]
            found += [
                (card.key, line)
                for line in side.split("\n")
                if CHROME_LINES.match(line.strip()) or "•" in line
            ]
    assert not found


def test_formulas_and_unicode_survive() -> None:
    text = "\n".join(card.front + "\n" + card.back for _, card in _all_cards())
    for piece in (
        "∂Loss/∂W₁ = (∂Loss/∂Aₗ) (∂Aₗ/∂Aₗ₋₁) ... (∂A₂/∂A₁) (∂A₁/∂W₁)",
        "v_t = β * v_{t-1} + (1 - β) * g_t",
        "No activation (linear activation) with output range (-∞, ∞).",
        "y^ = f(x, θ)",
        "CE = -Σ(y_i * log(p_i))",
    ):
        assert piece in text


def test_missing_answers_are_filled_from_the_sources_or_left_out_with_a_note() -> None:
    deck = {d.file: d for d in _decks()}
    quiz = deck["optimization-cnn-quiz.md"]
    assert "q2-067" not in {card.key for card in quiz.cards}
    assert "card 67" in quiz.description.lower()
    filled = next(c for c in deck["training-deep-networks.md"].cards if c.key == "tdn-008")
    assert "002_571e76fee13970cc.txt card 18" in filled.source
    assert filled.back in _source_text("002_571e76fee13970cc.txt")
    assert "tdn-008" in deck["training-deep-networks.md"].description


def test_at_least_90_percent_of_cards_link_a_demo() -> None:
    cards = [card for _, card in _all_cards()]
    linked = [card for card in cards if card.demo is not None]
    assert len(linked) >= 0.9 * len(cards), f"{len(linked)} of {len(cards)} cards link a demo"


def test_every_demo_link_names_a_demo_of_the_catalogue_with_valid_parameters() -> None:
    problems = [
        (card.key, problem)
        for _, card in _all_cards()
        if card.demo is not None
        and (problem := check_link(card.demo.id, dict(card.demo.params))) is not None
    ]
    assert not problems


def _lines_not_in(text: str, source: str) -> list[str]:
    """Lines of `text` whose words are not in `source` (list markers aside)."""
    missing = []
    for line in text.split("\n"):
        words = _normalise(re.sub(r"^\s*(?:- |\d+\. )", "", line))
        if words and words not in source:
            missing.append(line)
    return missing


def test_every_repaired_or_filled_card_is_named_in_its_deck_description() -> None:
    for deck in _decks():
        keys = {card.key for card in deck.cards}
        expected = (REPAIRED | FILLED) & keys
        assert expected <= _noted(deck), deck.file


def test_cards_keep_the_source_wording() -> None:
    """Bullets were normalised and broken lines rejoined, but no words changed or added.

    A corrected card keeps its source's front, and its source's words for the corrected part
    are quoted after "The source says:"; the corrected answer itself is the literature's.
    """
    changed = []
    corrected = _corrected()
    for deck, card in _all_cards():
        source = _source_text(deck.source)
        if card.key in corrected:
            if _normalise(card.front) not in source:
                changed.append((card.key, card.front))
            quotes = _quoted_source(card) or ["(no quote of the source)"]
            changed += [(card.key, q) for q in quotes if _normalise(q) not in source]
            continue
        if card.key in REPAIRED | FILLED:
            continue
        if _normalise(card.front) not in source:
            changed.append((card.key, card.front))
        changed += [(card.key, line) for line in _lines_not_in(card.back, source)]
    assert not changed


def test_every_corrected_card_keeps_the_source_words_visible() -> None:
    """Each card of the Audit table ends with why it was corrected and the source's own words."""
    cards = {card.key: card for _, card in _all_cards()}
    corrected = _corrected()
    assert corrected, "the Audit table lists no card"
    assert corrected <= set(cards), sorted(corrected - set(cards))
    for key in sorted(corrected):
        card = cards[key]
        match = CORRECTION.search(card.back)
        assert match is not None, f"{key} does not end with 'Corrected: ... The source says: ...'"
        assert match["why"].endswith("."), key
        assert _quoted_source(card), f"{key} quotes nothing of its source"
        answer = card.back[: match.start()]
        assert answer.strip(), f"{key} has no corrected answer before the source's words"


def test_no_card_quotes_its_source_as_a_correction_without_an_audit_line() -> None:
    quoting = {card.key for _, card in _all_cards() if "The source says:" in card.back}
    assert quoting == _corrected()


def test_every_corrected_card_is_named_in_its_deck_description() -> None:
    corrected = _corrected()
    for deck in _decks():
        keys = {card.key for card in deck.cards}
        assert corrected & keys <= _noted(deck), deck.file


def test_the_merge_table_names_removed_ids_and_the_ids_that_were_kept() -> None:
    """The upgrade reads this table to move a removed card's history to the kept card."""
    cards = {card.key: card for _, card in _all_cards()}
    merges = _merges()
    removed = [r for r, _ in merges]
    kept = {k for _, k in merges}
    assert merges, "the Merged cards table is empty"
    assert all(CARD_ID.fullmatch(r) and CARD_ID.fullmatch(k) for r, k in merges), merges
    assert len(removed) == len(set(removed)), removed
    assert not set(removed) & set(cards), sorted(set(removed) & set(cards))
    assert kept <= set(cards), sorted(kept - set(cards))
    assert not kept & set(removed), "a kept card was itself merged away"
    for r, k in merges:
        assert f"(was {r})" in cards[k].source, (k, cards[k].source)


def test_filled_answers_are_quoted_from_another_source_card_that_it_names() -> None:
    everything = " ".join(_source_text(name) for _, name, _ in DECKS.values())
    for deck, card in _all_cards():
        if card.key not in FILLED:
            continue
        assert _normalise(card.front) in _source_text(deck.source)
        assert not _lines_not_in(card.back, everything), card.key
        others = [name for _, name, _ in DECKS.values() if name != deck.source]
        assert any(f"{name} card" in card.source for name in others), card.key
