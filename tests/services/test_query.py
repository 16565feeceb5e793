"""The query language browse and `studyapp cards` share: quoting, prefixes, and what matches."""

from __future__ import annotations

from datetime import date

import pytest

from studyapp.db import Store
from studyapp.services.cards import CardService
from studyapp.services.query import MAX_TERM, CardQuery, QueryError, parse_query, split_terms
from tests.services.conftest import FakeClock, make_due

BUNDLED_NAME = "Class Thirteen: Optimizers"


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ('deck:"Class Thirteen: Optimizers" adam', ["deck:Class Thirteen: Optimizers", "adam"]),
        ('"deck:Class Thirteen: Optimizers"', ["deck:Class Thirteen: Optimizers"]),
        ('"learning rate"  decay', ["learning rate", "decay"]),
        ('deck:"half typed', ["deck:half typed"]),
        (r'"say \"hi\""', ['say "hi"']),
        ('""', [""]),
        ("  ", []),
    ],
)
def test_terms_are_split_on_spaces_outside_quotes(text: str, terms: list[str]) -> None:
    assert split_terms(text) == terms


def test_a_query_reads_words_phrases_tags_decks_and_states() -> None:
    query = parse_query(
        'Deck:"Class Thirteen: Optimizers" TAG:adam "learning rate" is:Due momentum: tag:'
    )
    assert query == CardQuery(
        words=("learning rate", "momentum:"),
        tags=("adam",),
        decks=(BUNDLED_NAME,),
        states=("due",),
    )


def test_an_unknown_state_is_named() -> None:
    with pytest.raises(QueryError, match="is:lately is not a search: use is:new, is:due"):
        parse_query("is:lately")


@pytest.fixture
def cards(store: Store, clock: FakeClock) -> CardService:
    service = CardService(store, clock)
    service.add(BUNDLED_NAME, "What is the learning rate?", "The step size.", tags=["adam"])
    service.add(BUNDLED_NAME, "Rate of learning?", "Backwards.", tags=["sgd"])
    service.add("Class Twelve", "What is a learning rate schedule?", "Decay over time.")
    return service


def fronts(service: CardService, text: str) -> list[str]:
    return [card.front for card in service.find(parse_query(text))]


def test_a_deck_with_spaces_and_a_colon_is_found_by_its_quoted_name(cards: CardService) -> None:
    assert fronts(cards, 'deck:"Class Thirteen: Optimizers"') == [
        "What is the learning rate?",
        "Rate of learning?",
    ]
    assert fronts(cards, 'deck:"class thirteen: optimizers" tag:ADAM') == [
        "What is the learning rate?"
    ]
    assert fronts(cards, "deck:Class Thirteen: Optimizers") == []  # unquoted: deck "Class"
    assert len(fronts(cards, "deck:class*")) == 3


def test_a_phrase_matches_only_the_words_together(cards: CardService) -> None:
    assert fronts(cards, '"learning rate"') == [
        "What is the learning rate?",
        "What is a learning rate schedule?",
    ]
    assert len(fronts(cards, "learning rate")) == 3


def test_states_new_due_and_suspended(cards: CardService, store: Store) -> None:
    first, second, third = cards.find(CardQuery())
    make_due(store, [first.id], date(2026, 3, 2))  # today
    make_due(store, [second.id], date(2026, 3, 9))
    cards.set_suspended(third.id, True)
    assert fronts(cards, "is:due") == [first.front]
    assert fronts(cards, "is:new") == [third.front]
    assert fronts(cards, "is:suspended") == [third.front]
    cards.set_suspended(first.id, True)
    assert fronts(cards, "is:due") == []


def test_a_term_as_long_as_a_search_takes_finds_its_card_and_a_longer_one_is_named(
    cards: CardService,
) -> None:
    """A 100 KB paste into the search box ended in SQLite's "like or glob pattern too
    complex", shown as a failure of the database."""
    longest = "%_\\𝛼" * (MAX_TERM // 4)  # four bytes a character where UTF-8 takes them
    cards.add("Long", f"x {longest} y", "back")
    assert fronts(cards, f'"{longest}"') == [f"x {longest} y"]
    assert fronts(cards, f"tag:{'t' * (MAX_TERM - 4)} deck:{'d' * (MAX_TERM - 5)}") == []
    with pytest.raises(QueryError) as refused:
        parse_query("adam " + "x" * (MAX_TERM + 1))
    assert refused.value.message == (
        "a search term is at most 5,000 characters; one of these has 5,001"
    )
