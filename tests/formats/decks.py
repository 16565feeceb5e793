"""Test helpers for deck files: a parsed file as the deck an exporter would be given."""

from __future__ import annotations

from studyapp.formats.base import ExportCard, ExportDeck, ParseResult
from studyapp.scheduling import SM2State


def as_deck(result: ParseResult) -> ExportDeck:
    cards = tuple(
        ExportCard(
            uid=c.key or "",
            front=c.front,
            back=c.back,
            tags=c.tags,
            source=c.source,
            demo=c.demo,
            state=SM2State.new(),
            reviews=(),
            suspended=c.suspended,
            position=i,
        )
        for i, c in enumerate(result.cards)
    )
    return ExportDeck(result.deck_name or "", cards, result.description or "")
