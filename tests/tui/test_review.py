"""The review screen as a learner uses it: reveal, rate, undo, suspend, bury, edit, summary."""

from __future__ import annotations

import json
from datetime import date

from textual.widgets import Input, TextArea

from studyapp.scheduling import SM2State
from studyapp.services.cards import CardService
from studyapp.tui.screens.card_editor import CardEditor
from studyapp.tui.screens.confirm import ConfirmScreen
from studyapp.tui.screens.home import HomeScreen
from studyapp.tui.screens.review import ReviewScreen
from tests.tui.conftest import (
    LITERAL_BACK,
    LITERAL_FRONT,
    fixed_clock,
    review_count,
    settle,
    text_of,
)


async def open_editor(pilot) -> CardEditor:  # type: ignore[no-untyped-def]
    """Press `e` on the card shown: the editor it opens."""
    await pilot.press("e")
    editor = pilot.app.screen
    assert isinstance(editor, CardEditor)
    return editor


async def test_a_rating_counts_only_after_the_reveal(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert text_of(app, "#card-front") == cards[0].front
        assert not screen.query_one("#card-back").display

        await pilot.press("4")
        assert review_count(store) == 0
        assert screen.session.current.id == cards[0].id

        await pilot.press("space")
        assert screen.revealed
        assert screen.query_one("#card-back").display
        assert text_of(app, "#card-back") == cards[0].back

        await pilot.press("4")
        assert review_count(store) == 1
        assert screen.session.current.id == cards[1].id
        assert not screen.revealed
        state = CardService(store, fixed_clock).detail(cards[0].id).card.state
        assert state.due == date(2025, 3, 11)


async def test_enter_also_reveals(make_app, cards):
    app = make_app(start="review", deck="Basics")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert app.screen.revealed


async def test_undo_brings_the_card_back_with_its_old_state(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        for undo_key in ("u", "ctrl+z"):
            await pilot.press("space", "5")
            assert review_count(store) == 1
            await pilot.press(undo_key)
            assert review_count(store) == 0
            assert screen.session.current.id == cards[0].id
            assert text_of(app, "#card-front") == cards[0].front
            card = CardService(store, fixed_clock).detail(cards[0].id).card
            assert card.state == SM2State.new()


async def test_a_notification_leaves_the_rating_keys_in_sight(make_app, store, cards):
    from textual.widgets._toast import Toast

    from studyapp.tui.widgets.rating_bar import RatingBar

    app = make_app(start="review", deck="Optimizers")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s", "space")  # "Suspended; u undoes it." while the next card shows
        for _ in range(100):  # the toast is mounted a refresh or two later
            if app.screen.query(Toast):
                break
            await pilot.pause(0.05)
        (toast,) = app.screen.query(Toast)
        keys = app.screen.query_one(RatingBar).region
        assert toast.region.height > 0 and keys.height > 0
        assert toast.region.bottom <= keys.y


async def test_suspend_and_bury_take_the_card_out_and_undo_puts_it_back(make_app, store, cards):
    service = CardService(store, fixed_clock)
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("s")
        assert service.detail(cards[0].id).card.suspended
        assert screen.session.current.id == cards[1].id

        await pilot.press("b")
        assert service.detail(cards[1].id).card.buried_until == date(2025, 3, 11)
        assert screen.session.current.id == cards[2].id

        await pilot.press("u")
        assert service.detail(cards[1].id).card.buried_until is None
        await pilot.press("u")
        assert not service.detail(cards[0].id).card.suspended
        assert screen.session.current.id == cards[0].id


async def test_the_end_of_a_session_shows_a_summary(make_app, store, cards):
    app = make_app(start="review", deck="Basics")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "4", "space", "5")
        assert review_count(store) == 2
        summary = text_of(app, "#review-summary")
        assert "Session complete." in summary
        assert "Cards     2" in summary
        assert "4 Mostly x1" in summary and "5 Perfectly x1" in summary
        assert "2025-03-11 (tomorrow)" in summary
        assert not app.screen.query_one("#review-card").display


async def test_card_text_is_shown_literally(make_app, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("space", "4", "space")
        assert text_of(app, "#card-front") == LITERAL_FRONT
        assert text_of(app, "#card-back") == LITERAL_BACK


async def test_editing_a_card_saves_it_and_shows_it(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("#editor-front", TextArea).text = "What does [Adam] add?"
        editor.query_one("#editor-tags", Input).value = "optimizers  adam second-moment"
        editor.query_one("#editor-demo", Input).value = "adam_vs_sgd steps=300"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ReviewScreen)
        card = CardService(store, fixed_clock).detail(cards[0].id).card
        assert card.front == "What does [Adam] add?"
        assert card.tags == ("optimizers", "adam", "second-moment")
        assert card.demo is not None and dict(card.demo.params) == {"steps": 300}
        assert text_of(app, "#card-front") == "What does [Adam] add?"


async def test_the_editor_refuses_a_bad_demo_link_and_an_empty_front(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("e")
        editor = app.screen
        editor.query_one("#editor-demo", Input).value = "no_such_demo"
        await pilot.press("ctrl+s")
        assert app.screen is editor
        assert "no_such_demo" in text_of(app, "#editor-error")

        editor.query_one("#editor-demo", Input).value = "adam_vs_sgd steps=999999"
        await pilot.press("ctrl+s")
        assert "between 20 and 2000" in text_of(app, "#editor-error")

        editor.query_one("#editor-demo", Input).value = "adam_vs_sgd steps=200"
        editor.query_one("#editor-front", TextArea).text = "   "
        await pilot.press("ctrl+s")
        assert "needs a front" in text_of(app, "#editor-error")

        await pilot.press("escape", "y")  # what was typed is thrown away once asked
        assert isinstance(app.screen, ReviewScreen)
        assert CardService(store, fixed_clock).detail(cards[0].id).card.front == cards[0].front


async def test_escape_asks_before_the_editor_throws_typed_text_away(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        await pilot.press("escape")  # nothing typed: it closes at once
        assert isinstance(app.screen, ReviewScreen)

        editor = await open_editor(pilot)
        await pilot.press("end", *"IMPORTANT NOTE")
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep typing
        assert app.screen is editor
        assert editor.query_one("#editor-front", TextArea).text.endswith("IMPORTANT NOTE")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        saved = CardService(store, fixed_clock).detail(cards[0].id).card
        assert saved.front == cards[0].front + "IMPORTANT NOTE"


async def test_the_editor_names_the_demo_meant_and_shows_the_error_at_80x24(make_app, store):
    """A mistyped id gets the nearest ids, not a command to run elsewhere; with the note about
    control characters the editor is taller than 24 rows, and scrolls to what is focused."""
    CardService(store, fixed_clock).add("Deck", "Colour \x1b[31m", "back", demo=None)
    app = make_app(start="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("#editor-demo", Input).value = "adam_vs_sdg steps=200"
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = editor.query_one("#editor-error")
        assert text_of(app, "#editor-error") == (
            "there is no demo 'adam_vs_sdg'; did you mean adam_vs_sgd?"
        )
        assert error.region.height == 1  # in view
        assert editor.query_one("#editor-box").show_vertical_scrollbar  # says there is more
        save = editor.query_one("#editor-save")
        while app.focused is not save:
            await pilot.press("tab")
        await pilot.pause()
        assert save.region.height == 1  # scrolled to, not cut off under the error


async def test_q_goes_home_and_escape_alone_stays_in_the_review(make_app, cards):
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, ReviewScreen)
        assert app.screen.deck is None
        await pilot.press("escape")  # nothing to step back from: the session stays
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("q")
        assert isinstance(app.screen, HomeScreen)


async def test_saving_an_edit_keeps_what_an_import_changed_in_the_other_fields(
    make_app, store, cards, tmp_path
):
    """The editor is open on the front; meanwhile an import changes the card's back. Saving
    the front keeps the imported back; an edit of the back itself is refused, saying why."""
    from studyapp.services.library import LibraryService

    card = cards[0]
    edited = tmp_path / "edited.json"
    document = json.loads(LibraryService(store, fixed_clock).export("json", deck="Optimizers"))
    document["decks"][0]["cards"][0]["back"] = "changed by an import"
    edited.write_text(json.dumps(document), encoding="utf-8")

    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("#editor-front", TextArea).text = "Front edited in the app"
        LibraryService(store, fixed_clock).import_files([edited])
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = CardService(store, fixed_clock).detail(card.id).card
        assert (saved.front, saved.back) == ("Front edited in the app", "changed by an import")

        editor = await open_editor(pilot)
        editor.query_one("#editor-back", TextArea).text = "my own back"
        editor.query_one("#editor-tags", Input).value = "mine"
        CardService(store, fixed_clock).update(
            card.id, front="front changed elsewhere", back="back changed elsewhere"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Refused, saying why; the editor stays with the typed text, and the front (left
        # alone) now shows the change.
        assert app.screen is editor
        assert "back changed since you opened it" in text_of(app, "#editor-error")
        assert editor.query_one("#editor-back", TextArea).text == "my own back"
        assert editor.query_one("#editor-tags", Input).value == "mine"
        assert editor.query_one("#editor-front", TextArea).text == "front changed elsewhere"
        stored = CardService(store, fixed_clock).detail(card.id).card
        assert (stored.back, stored.tags) == ("back changed elsewhere", card.tags)

        await pilot.press("ctrl+s")  # saves the typed text over the change, as it said
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        stored = CardService(store, fixed_clock).detail(card.id).card
        assert (stored.front, stored.back, stored.tags) == (
            "front changed elsewhere",
            "my own back",
            ("mine",),
        )


async def test_an_edit_of_a_card_deleted_meanwhile_keeps_the_editor_open(make_app, store, cards):
    app = make_app(start="review", deck="Optimizers")
    async with app.run_test() as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("#editor-back", TextArea).text = "worth keeping"
        CardService(store, fixed_clock).delete([cards[0].id])
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is editor
        assert "deleted since it was opened" in text_of(app, "#editor-error")
        assert editor.query_one("#editor-back", TextArea).text == "worth keeping"


async def test_a_line_separator_in_a_side_left_alone_is_not_an_edit(make_app, store):
    """A text area shows U+2028 as a line break: the front left alone keeps it."""
    front = "first line\u2028second line"
    CardService(store, fixed_clock).add("Separators", front, "back")
    app = make_app(start="review", deck="Separators")
    async with app.run_test() as pilot:
        await settle(pilot)
        editor = await open_editor(pilot)
        editor.query_one("#editor-tags", Input).value = "lines"
        await pilot.press("ctrl+s")
        await settle(pilot)
    (card,) = CardService(store, fixed_clock).search(deck="Separators")
    assert (card.front, card.tags) == (front, ("lines",))


async def test_the_card_page_takes_in_a_change_that_refused_an_edit(make_app, store, cards):
    """Another window changes the back while the card's page is open: an edit of the back
    is refused, saying why, and the page then shows the change, so the next edit saves."""
    from studyapp.tui.screens.card_detail import CardScreen

    card = cards[0]
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        page = CardScreen(app.services, card.id)
        await app.push_screen(page)
        await settle(pilot)
        CardService(store, fixed_clock).update(card.id, back="changed in another window")
        editor = await open_editor(pilot)
        editor.query_one("#editor-back", TextArea).text = "first try"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "back changed since you opened it" in text_of(app, "#editor-error")
        await pilot.press("escape", "y")
        await settle(pilot)
        assert app.screen is page
        assert "changed in another window" in text_of(app, "#card-back")
        editor = await open_editor(pilot)
        editor.query_one("#editor-back", TextArea).text = "second try"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is page
    assert CardService(store, fixed_clock).detail(card.id).card.back == "second try"
