"""The deck shipped in cards/: what a new user studies first, so it must be whole and clean.

Each file is read with the native format, the way `studyapp init` loads it. The checks hold
the curation rules of cards/README.md: the expected count per deck, ids unique across decks,
topic tags from the vocabulary, no page chrome, at least 90% of cards linked to a demo that
exists with valid parameters, every demo of the catalogue linked by some card, and the text of
the five source decks faithful to the source documents in data/ except where the deck's
description names a card as repaired or filled. A card corrected against the literature (the
README's "Audit" table) still shows its source's words, quoted verbatim after "The source
says:", and the README's "Merged cards" table, which upgrades of existing collections read,
names ids that were removed and ids that were kept. The sixth deck, "Further topics", is not
drawn from data/: each of its cards cites the published work its answer rests on and links
the demo it was written for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from studyapp.demo_api import check_link, demo_ids
from studyapp.formats import CardDraft, ParseResult, get_format
from studyapp.formats.native import write_value
from tests.formats.decks import as_deck

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "cards"
DATA = ROOT / "data"

# deck file -> (deck title, source document, number of cards)
SOURCE_DECKS = {
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
# The deck of ideas that demos show and no source deck teaches, written from the literature.
FURTHER = "further-topics.md"
FURTHER_TITLE, FURTHER_COUNT = "Further topics", 6
# deck file -> (deck title, number of cards), every deck
DECKS = {file: (title, count) for file, (title, _, count) in SOURCE_DECKS.items()}
DECKS[FURTHER] = (FURTHER_TITLE, FURTHER_COUNT)

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
PREFIXES = {"ct", "oh", "dli", "q2", "tdn", "ft"}
CARD_ID = re.compile(r"\b(?:ct|oh|dli|q2|tdn|ft)-\d{3}\b")
SOURCE_REF = re.compile(r"^(?P<file>\S+\.txt) (?:card|line) (?P<n>\d+)\b")
# The last paragraph of a corrected card: why it was corrected, then the source's own words.
CORRECTION = re.compile(r"\n\nCorrected: (?P<why>[^\n]+?) The source says: (?P<quoted>[^\n]+)\Z")
QUOTE = re.compile(r'"([^"]+)"')
# One cited work: "Authors Year, Title"; a source line joins several with "; ".
CITATION = re.compile(r"^[A-Z][^;]*? (?:19|20)\d\d, [A-Z0-9][^;]*$")


@dataclass(frozen=True)
class Deck:
    file: str
    source: str | None  # the source document in data/; None for the Further topics deck
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
    sources = {file: source for file, (_, source, _) in SOURCE_DECKS.items()}
    return tuple(Deck(file, sources.get(file), native.parse(CARDS / file)) for file in DECKS)


def _all_cards() -> Iterator[tuple[Deck, CardDraft]]:
    for deck in _decks():
        for card in deck.cards:
            yield deck, card


def _source_cards() -> Iterator[tuple[Deck, str, CardDraft]]:
    """The cards of the five decks drawn from data/, with their deck's source document."""
    for deck, card in _all_cards():
        if deck.source is not None:
            yield deck, deck.source, card


def _further() -> Deck:
    return next(d for d in _decks() if d.file == FURTHER)


def _normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


@cache
def _source_text(name: str) -> str:
    return _normalise((DATA / name).read_text(encoding="utf-8"))


def _noted(deck: Deck) -> set[str]:
    """Card ids that the deck's description names: repaired, filled or otherwise curated."""
    return set(CARD_ID.findall(deck.description))


def _readme_table(heading: str) -> list[list[str]]:
    """The rows of the first table after the `heading` line of cards/README.md, header excluded.

    The table must come before the next heading of any level.
    """
    lines = (CARDS / "README.md").read_text(encoding="utf-8").split("\n")
    rows: list[str] = []
    for line in lines[lines.index(heading) + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows or line.startswith("#"):
            break
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _corrected() -> set[str]:
    """Card ids of the README's Audit table: cards whose source was corrected."""
    return {row[0] for row in _readme_table("## Audit")}


def _merges() -> list[tuple[str, str]]:
    """(removed, kept) pairs of the README's Merged cards table."""
    return [(row[0], row[1]) for row in _readme_table("## Merged cards")]


def _link(card: CardDraft) -> str:
    """A card's demo link as its `demo:` line writes it, or "none"."""
    if card.demo is None:
        return "none"
    params = " ".join(f"{k}={write_value(v)}" for k, v in card.demo.params.items())
    return f"{card.demo.id} {params}".rstrip()


def _quoted_source(card: CardDraft) -> list[str] | None:
    """The source's words a corrected card quotes in its last paragraph, or None if it has none."""
    match = CORRECTION.search(card.back)
    return QUOTE.findall(match["quoted"]) if match else None


def test_the_deck_folder_holds_exactly_the_six_decks() -> None:
    found = {p.name for p in CARDS.glob("*.md")} - {"README.md"}
    assert found == set(DECKS)


@pytest.mark.parametrize("file", list(DECKS))
def test_each_deck_has_its_title_and_card_count(file: str) -> None:
    deck = next(d for d in _decks() if d.file == file)
    title, count = DECKS[file]
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
    ids = [card.key for _, card in _all_cards()]
    assert all(key and key.split("-")[0] in PREFIXES for key in ids)
    duplicates = sorted({key for key in ids if ids.count(key) > 1 and key})
    assert not duplicates


def test_every_card_has_topic_tags_from_the_vocabulary() -> None:
    untagged = [card.key for _, card in _all_cards() if not card.tags]
    unknown = {(card.key, tag) for _, card in _all_cards() for tag in card.tags if tag not in TAGS}
    assert not untagged
    assert not unknown


def test_every_card_of_a_source_deck_names_its_own_source_document() -> None:
    wrong = []
    for _, source, card in _source_cards():
        match = SOURCE_REF.match(card.source)
        if match is None or match["file"] != source:
            wrong.append((card.key, card.source))
    assert not wrong


def test_every_further_topics_card_cites_the_published_work_it_rests_on() -> None:
    """Authors, year and title, for each work ("; " between works); never a file of data/."""
    cards = _further().cards
    assert cards
    for card in cards:
        assert card.key and card.key.startswith("ft-"), card.key
        works = card.source.split("; ")
        assert all(CITATION.match(work) for work in works), (card.key, card.source)
        assert ".txt" not in card.source, (card.key, card.source)


def test_the_further_topics_deck_says_it_is_not_drawn_from_the_source_documents() -> None:
    description = _normalise(_further().description)
    assert "not drawn from the source documents in data/" in description


def test_every_further_topics_card_links_the_demo_it_was_written_for() -> None:
    assert all(card.demo is not None for card in _further().cards)


def test_every_demo_of_the_catalogue_is_linked_by_a_card() -> None:
    """A learner meets every demo from a card whose point it shows."""
    linked = {card.demo.id for _, card in _all_cards() if card.demo is not None}
    assert not set(demo_ids()) - linked, sorted(set(demo_ids()) - linked)


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


def test_the_readme_records_each_changed_demo_link_as_the_card_now_has_it() -> None:
    """The "Demo links" table of the README's audit: card, link before, link now, why."""
    cards = {card.key: card for _, card in _all_cards()}
    rows = _readme_table("### Demo links")
    assert rows, "the Demo links table is empty"
    for card_id, before, now, why in rows:
        assert card_id in cards, card_id
        assert now.strip("`") == _link(cards[card_id]), (card_id, now, _link(cards[card_id]))
        assert before != now, card_id
        assert why.endswith("."), card_id
    changed = [row[0] for row in rows]
    assert len(changed) == len(set(changed)), changed


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
    for _, source_file, card in _source_cards():
        source = _source_text(source_file)
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
    everything = " ".join(_source_text(name) for _, name, _ in SOURCE_DECKS.values())
    for _, source, card in _source_cards():
        if card.key not in FILLED:
            continue
        assert _normalise(card.front) in _source_text(source)
        assert not _lines_not_in(card.back, everything), card.key
        others = [name for _, name, _ in SOURCE_DECKS.values() if name != source]
        assert any(f"{name} card" in card.source for name in others), card.key
