"""The floor for start-up: a bare Textual app that paints one line of text.

With a PostgreSQL URL as its argument it first reads the first due card's front from that
server with the bare driver, as the least any app showing a card from a server must do.
"""

import sys

from textual.app import App, ComposeResult
from textual.widgets import Static

FIRST_DUE = "SELECT front FROM cards WHERE due IS NOT NULL ORDER BY due, position, id LIMIT 1"


class Bare(App[None]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.text, markup=False)


def first_front(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute(FIRST_DUE).fetchone()
    return str(row[0]) if row else "no card"


if __name__ == "__main__":
    Bare(first_front(sys.argv[1]) if len(sys.argv) > 1 else "Question ready").run()
