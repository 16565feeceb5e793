"""A paste reaches the app as one piece of text, whatever it holds; Textual's own notices
read as plain words.

A terminal wraps a paste in ESC [200~ ... ESC [201~. An ESC inside it (text copied from a
coloured terminal) used to be read as the start of a key sequence: what followed it arrived
as key presses, so pasting "see ESC[0m5" on the review screen rated the card 5.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from textual import events

from studyapp.tui.paste import PASTE_END, PASTE_START, SHOWN_ESCAPE, PasteSafeParser
from tests.tui.conftest import settle


def parsed(chunks: list[str]) -> list[events.Event]:
    parser = PasteSafeParser()
    found: list[events.Event] = []
    for chunk in chunks:
        found += parser.feed(chunk)
    return found


def split(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(cut % (len(text) + 1) for cut in cuts)})
    return [text[a:b] for a, b in zip(points, points[1:], strict=False)]


def described(found: list[events.Event]) -> list[tuple[str, str]]:
    return [
        ("paste", e.text) if isinstance(e, events.Paste) else ("key", e.key)
        for e in found
        if isinstance(e, events.Paste | events.Key)
    ]


def test_a_paste_holding_an_escape_sequence_presses_no_key() -> None:
    found = parsed([f"{PASTE_START}see \x1b[0m5{PASTE_END}"])
    assert described(found) == [("paste", f"see {SHOWN_ESCAPE}[0m5")]


@given(
    pasted=st.text(alphabet="a5 \x1b[0127~m\t\n", max_size=40).filter(
        lambda text: PASTE_END not in text
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_a_paste_arrives_whole_and_in_order_however_the_input_is_split(
    pasted: str, cuts: list[int]
) -> None:
    stream = f"x{PASTE_START}{pasted}{PASTE_END}y"
    found = described(parsed(split(stream, cuts)))
    shown = pasted.replace("\x1b", SHOWN_ESCAPE)
    assert found == [("key", "x"), ("paste", shown), ("key", "y")]


def test_keys_outside_a_paste_are_not_held_back() -> None:
    parser = PasteSafeParser()
    assert described(list(parser.feed("5"))) == [("key", "5")]
    assert described(list(parser.feed("\x1b[A"))) == [("key", "up")]
    assert described(list(parser.feed("\x1b[20"))) == []  # may yet be a paste's start
    assert described(list(parser.feed("0~ok\x1b[201~"))) == [("paste", "ok")]


async def test_the_app_reads_its_terminal_through_the_paste_safe_parser(make_app) -> None:
    from textual.drivers import linux_driver

    make_app()
    assert linux_driver.XTermParser is PasteSafeParser


async def test_ctrl_c_says_in_plain_words_how_to_quit(make_app, cards) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
    assert "Press q to quit the app." in notes, notes  # not "[b]q[/b]"


async def test_the_palette_screenshot_is_saved_and_named_in_plain_words(
    make_app, cards, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        (command,) = [c for c in app.get_system_commands(app.screen) if c.title == "Screenshot"]
        command.callback()
        await pilot.pause(0.3)
        notes = [str(n.message) for n in app._notifications]
    (saved,) = tmp_path.glob("*.svg")
    assert f"Saved the screenshot to ./{saved.name}" in notes, notes
