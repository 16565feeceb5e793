"""Cards are rendered from their note type's templates as Anki shows them, then made text."""

from __future__ import annotations

from studyapp.formats.anki_collection import NoteType, Template
from studyapp.formats.anki_render import render_card

BASIC_BACK = "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"


def notetype(
    *templates: tuple[str, str], fields: tuple[str, ...] = ("Front", "Back"), cloze: bool = False
) -> NoteType:
    return NoteType(
        id=1,
        name="Test",
        cloze=cloze,
        fields=tuple(fields),
        templates=tuple(Template(f"Card {i + 1}", q, a) for i, (q, a) in enumerate(templates)),
    )


CLOZE = notetype(
    ("{{cloze:Text}}", "{{cloze:Text}}<br>{{Back Extra}}"),
    fields=("Text", "Back Extra"),
    cloze=True,
)


def test_front_side_on_the_back_is_left_out_not_repeated() -> None:
    card = render_card(notetype(("{{Front}}", BASIC_BACK)), ["Adam?", "An optimizer"], 0)
    assert (card.front, card.back, card.problem) == ("Adam?", "An optimizer", None)


def test_reversed_template_swaps_the_sides() -> None:
    reversed_type = notetype(("{{Front}}", BASIC_BACK), ("{{Back}}", "{{FrontSide}}<hr>{{Front}}"))
    card = render_card(reversed_type, ["ReLU", "max(0, x)"], 1)
    assert (card.front, card.back) == ("max(0, x)", "ReLU")


def test_an_answer_that_repeats_the_front_fields_drops_the_repeat() -> None:
    typing = notetype(
        ("{{Front}}\n\n{{type:Back}}", "{{Front}}\n\n<hr id=answer>\n\n{{type:Back}}")
    )
    card = render_card(typing, ["Default Adam lr?", "0.001"], 0)
    assert (card.front, card.back) == ("Default Adam lr?", "0.001")


def test_sections_follow_whether_a_field_has_content() -> None:
    term = notetype(
        (
            "{{Term}}{{#Hint}}<br>{{hint:Hint}}{{/Hint}}",
            "{{text:Definition}}{{^Example}}<br>(no example){{/Example}}"
            "{{#Example}}<br>e.g. {{Example}}{{/Example}}",
        ),
        fields=("Term", "Definition", "Hint", "Example"),
    )
    bare = render_card(term, ["Overfitting", "Memorising noise", "", "<br>"], 0)
    assert (bare.front, bare.back) == ("Overfitting", "Memorising noise\n(no example)")
    full = render_card(term, ["Momentum", "Velocity", "physics", "a rolling ball"], 0)
    assert (full.front, full.back) == ("Momentum\nHint: physics", "Velocity\ne.g. a rolling ball")


def test_special_fields_and_unknown_fields() -> None:
    special = notetype(("{{Front}} ({{Deck}}, {{Subdeck}}, {{Tags}}) {{Missing}}", "{{Back}}"))
    card = render_card(special, ["Q", "A"], 0, tags=("t1", "t2"), deck="DL::CNN")
    assert card.front == "Q (DL::CNN, CNN, t1 t2)"
    assert card.unknown_fields == {"Missing"}


def test_each_cloze_card_hides_only_its_own_deletion() -> None:
    text = "{{c1::Dropout}} zeroes {{c2::activations::what?}} during {{c1::training}}"
    first = render_card(CLOZE, [text, "A regulariser"], 0)
    second = render_card(CLOZE, [text, ""], 1)
    assert first.front == "[...] zeroes activations during [...]"
    assert first.back == "Dropout zeroes activations during training\nA regulariser"
    assert second.front == "Dropout zeroes [what?] during training"
    assert second.back == "Dropout zeroes activations during training"


def test_nested_and_multi_ordinal_clozes() -> None:
    nested = "{{c1::outer {{c2::inner}} text}} and {{c1,3::both}}"
    assert render_card(CLOZE, [nested, ""], 0).front == "[...] and [...]"
    assert render_card(CLOZE, [nested, ""], 1).front == "outer [...] text and both"
    assert render_card(CLOZE, [nested, ""], 2).front == "outer inner text and [...]"


def test_cloze_text_that_is_not_a_deletion_stays_as_written() -> None:
    odd = "a }} b {{c1::x}} {{c2::unclosed"
    card = render_card(CLOZE, [odd, ""], 0)
    assert card.front == "a }} b [...] {{c2::unclosed"


def test_a_card_whose_deletion_is_gone_is_a_problem_not_a_blank_card() -> None:
    card = render_card(CLOZE, ["{{c1::kept}} and removed", ""], 1)
    assert card.problem == "its cloze deletion c2 is not in the note"


def test_an_empty_front_is_a_problem() -> None:
    card = render_card(notetype(("{{Front}}", BASIC_BACK)), ["<div><br></div>", "answer"], 0)
    assert card.problem is not None
    assert "front is empty" in card.problem


def test_image_occlusion_cards_are_refused_with_a_reason() -> None:
    occlusion = "{{c1::image-occlusion:rect:left=.1:top=.2:width=.3:height=.4}}"
    card = render_card(CLOZE, [occlusion, ""], 0)
    assert card.problem == "an image occlusion card is a masked image, not text"


def test_a_card_without_its_template_is_a_problem() -> None:
    card = render_card(notetype(("{{Front}}", BASIC_BACK)), ["Q", "A"], 3)
    assert card.problem is not None


def test_unbalanced_sections_do_not_break_rendering() -> None:
    sloppy = notetype(("{{/Back}}{{Front}}{{#Back}}shown", "{{^Front}}never"))
    card = render_card(sloppy, ["Q", "A"], 0)
    assert (card.front, card.back) == ("Qshown", "")


def test_a_card_of_endless_markup_is_refused_quickly() -> None:
    card = render_card(notetype(("{{Front}}", BASIC_BACK)), ["<a" * 60_000, "A"], 0)
    assert card.problem == "it holds over 50,000 HTML tags, too many to show as text"


def test_an_embedded_image_is_named_not_dumped() -> None:
    field = '<img src="data:image/png;base64,' + "A" * 10_000 + '">'
    card = render_card(notetype(("{{Front}}", BASIC_BACK)), ["Q " + field, "A"], 0)
    assert card.front == "Q [image: embedded]"


def test_hostile_templates_and_fields_are_refused_or_rendered_never_crash() -> None:
    deep_sections = notetype(("{{#Front}}" * 5000 + "{{Front}}" + "{{/Front}}" * 5000, "{{Back}}"))
    assert render_card(deep_sections, ["Q", "A"], 0).front.endswith("{{#Front}}Q")

    deep_cloze = "{{c1::" * 5000 + "x" + "}}" * 5000
    assert render_card(CLOZE, [deep_cloze, ""], 0).front.startswith("[...]")

    huge_ordinal = "{{c" + "9" * 5000 + "::x}} and {{c1::y}}"
    assert render_card(CLOZE, [huge_ordinal, ""], 0).front.endswith("and [...]")

    repeated = notetype(("{{Front}}" * 1000, "{{Back}}"))
    card = render_card(repeated, ["x" * 10_000, "A"], 0)
    assert card.problem is not None and "over 4,194,304 characters" in card.problem

    unclosed = notetype(("{{" * 50_000 + "{{Front}}", "{{Back}}"))
    assert render_card(unclosed, ["Q", "A"], 0).front.endswith("Q")
