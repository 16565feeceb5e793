"""Anki field HTML becomes text a learner can read, and our exported HTML reads back verbatim."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studyapp.formats.anki_export import text_to_html
from studyapp.formats.anki_html import exact_text, html_to_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("one<br>two<br/>three", "one\ntwo\nthree"),
        ("<div>first</div><div>second</div>", "first\nsecond"),
        ("<p>para one</p><p>para two</p>", "para one\npara two"),
        ("<div>line<br></div><div><br></div><div>after a blank</div>", "line\n\nafter a blank"),
        ("<ul><li>m</li><li>v</li></ul>", "- m\n- v"),
        ("<ol><li>forward</li><li>backward</li></ol>", "1. forward\n2. backward"),
        ('<ol start="3"><li>third</li></ol>', "3. third"),
        (
            "<ul><li>outer<ul><li>inner</li></ul></li><li>next</li></ul>",
            "- outer\n  - inner\n- next",
        ),
        ("<ul><li>wrapped<br>line</li></ul>", "- wrapped\n  line"),
        (
            "3 &lt; 5 &amp;&amp; a&gt;b &quot;q&quot; &#955; &#x3bb; &mdash;",
            '3 < 5 && a>b "q" λ λ —',
        ),
        ("AT&T and a & b", "AT&T and a & b"),
        ('see <img src="sigmoid.png"> here', "see [image: sigmoid.png] here"),
        ("[sound:adam.mp3]", "[sound: adam.mp3]"),
        ("[sound: adam.mp3]", "[sound: adam.mp3]"),
        (r"\(\sigma(x) = 1/(1+e^{-x})\)", r"\(\sigma(x) = 1/(1+e^{-x})\)"),
        ("<style>.card { color: red }</style><script>alert(1)</script>shown", "shown"),
        ("a<br><br><br><br>b", "a\n\nb"),
        ("  lots   of\n\n  space  ", "lots of space"),
        ("&nbsp;&nbsp;indented", "  indented"),
        ("<pre>def f():\n    return 1</pre>", "def f():\n    return 1"),
        (
            "<table><tr><th>opt</th><th>lr</th></tr><tr><td>adam</td><td>1e-3</td></tr></table>",
            "opt | lr\nadam | 1e-3",
        ),
        ("<b>bold</b> <i>and</i> <span style='x'>inline</span>", "bold and inline"),
        ("<!-- a comment -->visible", "visible"),
        ("unclosed <div>tags <b>everywhere", "unclosed\ntags everywhere"),
        ("a < b and c <d", "a < b and c <d"),
        ("if x < y && y > z: <!-- hidden", "if x < y && y > z:"),
        ("</ <a <? <! & &# &;", "</ <a <? <! & &# &;"),
    ],
)
def test_html_becomes_readable_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@given(st.text())
def test_any_text_converts_without_error_and_without_blank_runs(markup: str) -> None:
    text = html_to_text(markup)
    assert "\n\n\n" not in text
    assert text == text.strip("\n")
    assert all(line == line.rstrip() for line in text.split("\n"))


@given(
    st.lists(
        st.sampled_from(
            [
                "<div>",
                "</div>",
                "<li>",
                "<ol>",
                "</ul>",
                "<br>",
                "&amp;",
                "<pre>",
                "</pre>",
                "<img src=x>",
                "&#0;",
                "&#x110000;",
                "x",
                " ",
                "\n",
                "<td>",
                "<tr>",
                "<style>",
                "</style>",
                "&nbsp;",
            ]
        )
    )
)
def test_tag_soup_converts_without_error(pieces: list[str]) -> None:
    assert isinstance(html_to_text("".join(pieces)), str)


def _as_read(text: str) -> str:
    """What a card's text looks like after any HTML round trip: trailing blanks trimmed."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


@pytest.mark.parametrize(
    "text",
    [
        "w[i] <- w[i] - lr * grad",
        "[bold] not bold [/]",
        "<tag> & &amp; &lt;",
        "def step(w):\n    return w - lr * g\n\n\tdone",
        "a  b   c",
        "- bullet\n  - nested\n1. numbered",
        "Unicode: λ, ∇f, σ(x) = 1/(1+e⁻ˣ)",
    ],
)
def test_exported_html_reads_back_verbatim(text: str) -> None:
    assert html_to_text(text_to_html(text)) == text


_CARD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"))
    | st.sampled_from(" \t\n&<>;#[]"),
)


@given(_CARD_TEXT)
def test_any_card_text_survives_export_html(text: str) -> None:
    expected = _as_read(re.sub(r"\[sound: ?([^\]]*)\]", r"[sound: \1]", text.replace("\xa0", " ")))
    assert html_to_text(text_to_html(text)) == expected


@given(_CARD_TEXT | st.text())
def test_our_own_field_html_gives_back_the_exact_text(text: str) -> None:
    """What studyapp writes into an Anki field reads back character for character."""
    assert exact_text(text_to_html(text)) == text.replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize(
    "markup",
    ["<b>bold</b>", "a  b", "a&nbsp;b", "tab\there", "<div>x</div>", "&quot;", "x<br/>y", "[x]"],
)
def test_html_written_elsewhere_is_not_read_as_our_own(markup: str) -> None:
    assert exact_text(markup) is None
