"""The card query language of browse and `studyapp cards`: one parser for both.

    adam momentum          cards holding both words (front, back or source; any case)
    "learning rate"        the words together, as typed
    tag:optimizers         cards with that tag (any case)
    deck:"Class Thirteen: Optimizers"   the cards of that deck (any case; * is any text)
    is:new  is:due  is:suspended        cards never studied, due today, suspended

Terms combine with AND. A double quote opens a part that runs to the next one (or to the end,
so a query half typed still reads), and may quote a whole term or just its value:
`deck:"two words"` and `"deck:two words"` are the same. `\\"` inside quotes is a quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from studyapp.errors import UserError

STATES = ("new", "due", "suspended")
PREFIXES = ("tag", "deck", "is")
# Characters of one term: a search runs as SQL LIKE, whose pattern SQLite caps at 50,000 bytes
# (4 bytes a character at most, and the `%` around it).
MAX_TERM = 5_000


class QueryError(UserError):
    """A query term that cannot be read (an unknown `is:` value)."""


@dataclass(frozen=True)
class CardQuery:
    """A parsed query: every part must hold for a card to match."""

    words: tuple[str, ...] = ()  # each a word or a quoted phrase
    tags: tuple[str, ...] = ()
    decks: tuple[str, ...] = ()  # deck name patterns: `*` is any text
    states: tuple[str, ...] = ()  # of STATES

    @property
    def text(self) -> str:
        """The words and phrases as one search text (for a person)."""
        return " ".join(self.words)


def split_terms(text: str) -> list[str]:
    """The query's terms, quotes taken off: `deck:"a b" c` -> ["deck:a b", "c"]."""
    terms: list[str] = []
    current: list[str] = []
    started = False
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if quoted and char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            current.append(text[i + 1])
            i += 2
            continue
        if char == '"':
            quoted = not quoted
            started = True
        elif char.isspace() and not quoted:
            if started:
                terms.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
            started = True
        i += 1
    if started:
        terms.append("".join(current))
    return terms


def parse_query(text: str) -> CardQuery:
    """Read a query; raises QueryError for an `is:` value it does not know.

    A prefix with nothing after it (`tag:` while it is being typed) is left out.
    """
    words: list[str] = []
    tags: list[str] = []
    decks: list[str] = []
    states: list[str] = []
    for term in split_terms(text):
        if len(term) > MAX_TERM:
            raise QueryError(
                f"a search term is at most {MAX_TERM:,} characters; one of these has {len(term):,}"
            )
        prefix, colon, value = term.partition(":")
        key = prefix.lower()
        if not colon or key not in PREFIXES:
            if term.strip():
                words.append(term)
            continue
        value = value.strip()
        if not value:
            continue
        if key == "tag":
            tags.append(value)
        elif key == "deck":
            decks.append(value)
        else:
            state = value.lower()
            if state not in STATES:
                raise QueryError(f"is:{value} is not a search: use is:{', is:'.join(STATES)}")
            states.append(state)
    return CardQuery(tuple(words), tuple(tags), tuple(decks), tuple(states))
