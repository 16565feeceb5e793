"""CSV and TSV: header or not, RFC 4180 quoting, Anki's text headers, encodings, round trips."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from studyapp.formats import FormatError, detect
from studyapp.formats.base import ExportCard, ExportDeck, ParseResult
from studyapp.formats.delimited import export_csv, export_tsv, parse_csv, parse_tsv
from studyapp.scheduling import SM2State


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def pairs(result: ParseResult) -> list[tuple[str, str]]:
    return [(c.front, c.back) for c in result.cards]


def test_without_a_header_the_first_columns_are_front_and_back(tmp_path: Path) -> None:
    path = write(
        tmp_path, "plain.csv", 'What is Adam?,"m and v, bias-corrected"\nReLU?,max(0, x)\n'
    )
    result = parse_csv(path)
    assert pairs(result) == [("What is Adam?", "m and v, bias-corrected"), ("ReLU?", "max(0")]
    assert result.warnings == [
        "column 3 (line 2) was left out: it is not front, back, tags, deck, id or source"
    ]


def test_a_header_row_names_the_columns_in_any_order(tmp_path: Path) -> None:
    text = 'Tags,Answer,Question,Deck\nopt adam,"line one\nline two ""quoted""",Q1,Optimizers\n'
    result = parse_csv(write(tmp_path, "named.csv", text))
    (card,) = result.cards
    assert (card.front, card.back) == ("Q1", 'line one\nline two "quoted"')
    assert card.tags == ("opt", "adam") and card.deck == "Optimizers"
    assert card.where == "line 2"
    assert result.carries == frozenset({"tags"})


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        # a spreadsheet's tags are split at commas and spaces, as people write them
        ('front,back,tags\nq,a,"opt, adam,sgd"\n', ("opt", "adam", "sgd")),
        # our export's tags are separated by spaces; a tag never holds one, may hold a comma
        ('front,back,tags,deck,id,source\nq,a,"a,b c",D,k1,\n', ("a,b", "c")),
        ("front\tback\ttags\tdeck\tid\tsource\nq\ta\ta,b\tD\tk1\t\n", ("a,b",)),
        # so are Anki's, in a text export with a #tags column
        ("#separator:tab\n#tags column:3\nQ1\tA1\ta,b c\n", ("a,b", "c")),
    ],
)
def test_tags_are_split_as_the_file_writes_them(
    tmp_path: Path, text: str, tags: tuple[str, ...]
) -> None:
    (card,) = parse_csv(write(tmp_path, "tags.csv", text)).cards
    assert card.tags == tags


def test_a_cloze_note_of_our_export_keeps_a_tag_with_a_comma(tmp_path: Path) -> None:
    text = 'front,back,tags,deck,id,source\n"{{c1::x}} y",,"a,b",D,k1,\n'
    (card,) = parse_csv(write(tmp_path, "cloze.csv", text)).cards
    assert card.tags == ("a,b",)


def test_anki_text_export_headers(tmp_path: Path) -> None:
    text = (
        "#separator:Semicolon\n#html:true\n#notetype column:1\n#deck column:2\n"
        "#guid column:3\n#tags column:6\n#tags:shared\n"
        'Basic;Deck::Sub;g1;<b>Bold</b> front;"a<br>b &amp; c<ul><li>x</li></ul>";t1 t2\n'
    )
    result = parse_csv(write(tmp_path, "anki.txt", text))
    (card,) = result.cards
    assert card.front == "Bold front"
    assert card.back == "a\nb & c\n- x"
    assert card.deck == "Deck::Sub" and card.key == "g1"
    assert card.tags == ("shared", "t1", "t2")


def test_named_columns_header_and_pipe_separator(tmp_path: Path) -> None:
    text = "#separator:Pipe\n#columns:Back|Front|Extra\nb1|f1|e1\n"
    result = parse_tsv(write(tmp_path, "cols.txt", text))
    assert pairs(result) == [("f1", "b1")]


def test_the_separator_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "semi.csv", "front;back\nq1;a, with comma\nq2;a2\n")
    assert pairs(parse_csv(path)) == [("q1", "a, with comma"), ("q2", "a2")]
    tabbed = write(tmp_path, "tabbed.txt", "q1\ta1\nq2\ta2\n")
    assert detect(tabbed).name == "tsv"


def test_rows_without_a_front_are_reported_and_blank_rows_ignored(tmp_path: Path) -> None:
    text = "q1,a1\n\n,\n,only a back\nq4,\n"
    result = parse_csv(write(tmp_path, "gaps.csv", text))
    assert pairs(result) == [("q1", "a1"), ("q4", "")]
    assert [(s.where, s.reason) for s in result.skipped] == [
        ("line 4", "row has a back but no front"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (codecs.BOM_UTF8 + "front,back\nθ,∞\n".encode(), [("θ", "∞")]),
        (codecs.BOM_UTF16_LE + "front\tback\r\nθ\t∞\r\n".encode("utf-16-le"), [("θ", "∞")]),
        (codecs.BOM_UTF16_BE + "front,back\nθ,∞\n".encode("utf-16-be"), [("θ", "∞")]),
    ],
)
def test_utf8_and_utf16_with_a_bom_are_read(tmp_path: Path, data: bytes, expected: list) -> None:
    assert pairs(parse_csv(write(tmp_path, "enc.csv", data))) == expected


def test_other_encodings_are_refused_at_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deck.csv", b"front,back\nq,a\n" + "café,x\n".encode("latin-1"))
    with pytest.raises(FormatError) as caught:
        parse_csv(path)
    assert str(caught.value) == (
        f"{path}, line 3: not UTF-8 text (byte 0xe9 at column 4); "
        "save the file as UTF-8 and import it again"
    )


@pytest.mark.parametrize("name", ["vocab.csv", "vocab.txt", "vocab.md", "vocab"])
def test_a_file_dense_with_latin1_letters_is_refused_as_not_utf8(tmp_path: Path, name: str) -> None:
    """A vocabulary list saved by a European spreadsheet is mostly accents: it is still told
    apart from a file of unknown format, and named by its line and byte."""
    words = "Wort;Bedeutung\nÄrger;Ärgernis\nÖl;Öllampe\nÜbung;Übungen\nStraße;Straßen\n"
    path = write(tmp_path, name, words.encode("cp1252"))
    with pytest.raises(FormatError) as caught:
        detect(path)
    assert str(caught.value) == (
        f"{path}, line 2: not UTF-8 text (byte 0xc4 at column 1); "
        "save the file as UTF-8 and import it again"
    )


def test_a_binary_file_is_still_of_unknown_format(tmp_path: Path) -> None:
    path = write(
        tmp_path, "picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    )
    with pytest.raises(FormatError, match="cannot tell what format this file is"):
        detect(path)


def test_an_unclosed_quote_names_the_line_where_the_field_started(tmp_path: Path) -> None:
    path = write(tmp_path, "open.csv", 'q1,a1\nq2,"starts here\nand goes on\nq3,a3\n')
    with pytest.raises(FormatError) as caught:
        parse_csv(path)
    assert str(caught.value) == f"{path}, line 2: a quoted field starts here and is never closed"


def test_text_after_a_closing_quote_stays_in_the_field_and_lines_stay_right(
    tmp_path: Path,
) -> None:
    # Spreadsheets write `"Adam" optimizer` as is; the field keeps the trailing text, and
    # records after it still report their own line numbers.
    path = write(
        tmp_path,
        "excel.csv",
        'q1,"multi\nline"\nq2,"Adam" optimizer\nq3,a3\n,a5\n',
    )
    result = parse_csv(path)
    assert pairs(result) == [("q1", "multi\nline"), ("q2", "Adam optimizer"), ("q3", "a3")]
    assert [c.where for c in result.cards] == ["line 1", "line 3", "line 4"]
    assert [s.where for s in result.skipped] == ["line 5"]


TRICKY = (
    "w[i] <- w[i] - lr",
    "[bold] and [/]",
    'say "hi", then\nnew line\tand tab',
    "θ ∞ 🙂",
    "{{c1::x}} y",  # a card's text, not a cloze note: our export has no note types
    "{{c1::Adam}} keeps {{c2::two moments}}",
)


@pytest.mark.parametrize(("export", "parse"), [(export_csv, parse_csv), (export_tsv, parse_tsv)])
@pytest.mark.parametrize("texts", [TRICKY, TRICKY[-2:]])  # the second: one line a card
def test_export_reads_back_into_the_same_cards(tmp_path: Path, export, parse, texts) -> None:  # type: ignore[no-untyped-def]

    cards = tuple(
        ExportCard(
            uid=f"id-{i}",
            front=text,
            back=text[::-1],
            tags=("t1", "t2") if i else (),
            source=f"s{i}",
            demo=None,
            state=SM2State.new(),
            reviews=(),
            suspended=False,
            position=i,
        )
        for i, text in enumerate(texts)
    )
    data = export([ExportDeck("Deck, with comma", cards)])
    assert data.startswith(
        b"front,back,tags,deck,id,source\r\n" if export is export_csv else b"front\t"
    )
    result = parse(write(tmp_path, "out.csv", data))
    assert [(c.front, c.back, c.tags, c.deck, c.key, c.source) for c in result.cards] == [
        (c.front, c.back, c.tags, "Deck, with comma", c.uid, c.source) for c in cards
    ]
    assert result.skipped == [] and result.warnings == []


def test_quoting_does_not_change_what_a_file_holds(tmp_path: Path) -> None:
    # Unquoted files are split line by line; quoted ones go through the CSV reader, and one
    # with a line break inside a field is read record by record. All give the same cards.
    rows = [("What is Adam?", "an optimizer", "opt fast"), ("ReLU?", "", "act"), ("", "x", "")]
    plain = "front,back,tags\n" + "".join(",".join(row) + "\n" for row in rows) + "\nlast,one,\n"
    quoted = "front,back,tags\n" + "".join(
        ",".join(f'"{cell}"' for cell in row) + "\n" for row in rows
    )
    quoted += '\n"last","one",""\n'
    for text in (plain, quoted):
        result = parse_csv(write(tmp_path, "deck.csv", text))
        assert [(c.front, c.back, c.tags, c.where) for c in result.cards] == [
            ("What is Adam?", "an optimizer", ("opt", "fast"), "line 2"),
            ("ReLU?", "", ("act",), "line 3"),
            ("last", "one", (), "line 6"),
        ]
        assert [s.where for s in result.skipped] == ["line 4"]
    spanning = quoted.replace('"an optimizer"', '"an\noptimizer"')
    result = parse_csv(write(tmp_path, "deck.csv", spanning))
    assert result.cards[0].back == "an\noptimizer"
    assert [c.where for c in result.cards] == ["line 2", "line 4", "line 7"]


@pytest.mark.parametrize(
    ("header", "separator"),
    [
        ("Vorderseite;Rückseite;Schlagwörter", ";"),
        ("Pregunta,Respuesta,Etiquetas", ","),
        ("Recto\tVerso\tÉtiquettes", "\t"),
        ("Domanda;Risposta;Etichette", ";"),
        ("Вопрос;Ответ;Теги", ";"),
        ("質問,答え,タグ", ","),
        ("问题\t答案\t标签", "\t"),
        ("질문,답변,태그", ","),
        ("Text,Extra,Tags", ","),  # the fields of Anki's Cloze note type
    ],
)
def test_a_header_row_in_another_language_names_the_columns(
    tmp_path: Path, header: str, separator: str
) -> None:
    rows = [header, separator.join(["Hund", "dog", "tiere"])]
    result = parse_csv(write(tmp_path, "vokabeln.csv", "\r\n".join(rows) + "\r\n"))
    assert [(c.front, c.back, c.tags) for c in result.cards] == [("Hund", "dog", ("tiere",))]
    assert result.warnings == []


@pytest.mark.parametrize("first", ["表,裏", "問,答", "高,低", "слово,значение", "답,뜻"])
def test_a_first_card_of_short_words_is_a_card_not_a_header(tmp_path: Path, first: str) -> None:
    """A vocabulary file without a header may start with any pair of words."""
    result = parse_csv(write(tmp_path, "words.csv", f"{first}\n大,小\n"))
    assert pairs(result) == [tuple(first.split(",")), ("大", "小")]


def test_a_hand_made_header_like_ours_still_splits_tags_at_commas(tmp_path: Path) -> None:
    """Only our export's own header (lower case, as it writes it) means tags split at spaces:
    a sheet typed with the same names in title case is a person's, `a, b` two tags."""
    text = 'Front,Back,Tags,Deck,Id,Source\nq1,a1,"a, b",D,,\n'
    result = parse_csv(write(tmp_path, "mine.csv", text))
    assert [card.tags for card in result.cards] == [("a", "b")]


def test_excel_sep_line_names_the_separator_and_is_no_card(tmp_path: Path) -> None:
    path = write(tmp_path, "excel.csv", "sep=;\r\nFront;Back\r\nq1;a1, with a comma\r\nq2;a2\r\n")
    result = parse_csv(path)
    assert pairs(result) == [("q1", "a1, with a comma"), ("q2", "a2")]
    assert [c.where for c in result.cards] == ["line 3", "line 4"]


def test_a_file_of_one_column_says_every_back_is_empty(tmp_path: Path) -> None:
    result = parse_csv(write(tmp_path, "words.csv", "apple\nbanana\n"))
    assert pairs(result) == [("apple", ""), ("banana", "")]
    assert result.warnings == ["every card has an empty back: no row has text in column 2"]


def test_neighbouring_columns_left_out_are_reported_once(tmp_path: Path) -> None:
    rows = [",".join(f"r{row}c{column}" for column in range(20)) for row in range(3)]
    result = parse_csv(write(tmp_path, "wide.csv", "\n".join(rows) + "\n"))
    assert len(result.cards) == 3
    assert result.warnings == [
        "columns 3 to 20 (3 rows from line 1) were left out: "
        "they are not front, back, tags, deck, id or source"
    ]


ANKI_NOTES = (
    "#separator:tab\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n"
    "#tags column:6\n"
    "g1\tBasic\tGeo\tCapital of <b>France</b>?\tParis\tgeo\n"
    "g2\tCloze\tGeo\t{{c1::Paris}} is the capital of {{c2::France::country}}\tin Europe\tgeo\n"
    "g3\tImage Occlusion\tGeo\t{{c1::image-occlusion:rect:left=.1:top=.1}}\t"
    '<img src="map.png">\tgeo\n'
    "g4\tBasic\tGeo\tWrite {{c1::x}} literally\tas typed\tgeo\n"
)


def test_anki_notes_in_plain_text_give_one_card_per_cloze_deletion(tmp_path: Path) -> None:
    """The cloze notes of Anki's text export become the cards Anki shows, the deletion
    hidden on the front; image occlusions are reported, not shown as markup."""
    result = parse_tsv(write(tmp_path, "Geo.txt", ANKI_NOTES))
    assert [(c.front, c.back, c.key, c.deck, c.tags) for c in result.cards] == [
        ("Capital of France?", "Paris", "g1", "Geo", ("geo",)),
        (
            "[...] is the capital of France",
            "Paris is the capital of France\nin Europe",
            "g2:c1",
            "Geo",
            ("geo",),
        ),
        (
            "Paris is the capital of [country]",
            "Paris is the capital of France\nin Europe",
            "g2:c2",
            "Geo",
            ("geo",),
        ),
        ("Write {{c1::x}} literally", "as typed", "g4", "Geo", ("geo",)),
    ]
    assert [(s.where, s.reason) for s in result.skipped] == [
        ("line 9 cloze 1", "an image occlusion card is a masked image, not text")
    ]
    assert result.warnings == []


def test_reversed_notes_of_a_text_export_say_their_reverse_is_missing(tmp_path: Path) -> None:
    text = ANKI_NOTES + "g5\tBasic (and reversed card)\tSpanish\tel perro\tthe dog\t\n"
    result = parse_tsv(write(tmp_path, "notes.txt", text))
    assert ("el perro", "the dog") in pairs(result)
    assert result.warnings == [
        "1 note of type 'Basic (and reversed card)' gave only the front-to-back card: a text "
        "export holds notes, not their reversed cards; export the deck from Anki as a package "
        "(.apkg) to get both"
    ]


def test_a_cloze_front_without_a_note_type_column_is_a_cloze_note(tmp_path: Path) -> None:
    text = 'front,back\n"{{c1::Adam}} keeps two <moments>\nper weight",from Kingma\n'
    result = parse_csv(write(tmp_path, "cloze.csv", text))
    assert pairs(result) == [
        (
            "[...] keeps two <moments>\nper weight",
            "Adam keeps two <moments>\nper weight\nfrom Kingma",
        )
    ]


def test_a_spreadsheets_empty_rows_are_blank_lines_not_skipped_cards(tmp_path: Path) -> None:
    text = "Front,Back,Tags\r\nq1,a1,t\r\n,,\r\n, ,\r\nq2,a2,\r\n,,t\r\n,,\r\n"
    result = parse_csv(write(tmp_path, "sheet.csv", text))
    assert pairs(result) == [("q1", "a1"), ("q2", "a2")]
    assert [(s.where, s.reason) for s in result.skipped] == [
        ("line 6", "row has no front and no back")
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("quizlet.txt", "momentum\ta running average;lr\tthe step size;Adam\tadaptive moments;"),
        ("quizlet.csv", "momentum,a running average;lr,the step size;Adam,adaptive moments"),
    ],
)
def test_quizlets_semicolon_between_rows_gives_one_card_a_row(
    tmp_path: Path, name: str, data: str
) -> None:
    path = write(tmp_path, name, data)
    result = detect(path).parse(path)  # type: ignore[misc]
    assert pairs(result) == [
        ("momentum", "a running average"),
        ("lr", "the step size"),
        ("Adam", "adaptive moments"),
    ]
    assert [card.where for card in result.cards] == ["line 1"] * 3
    assert "read as 3 rows, split at ';'" in result.warnings[0]


@pytest.mark.parametrize(
    "data",
    [
        "What is x?\tit is y; also z\n",  # a ';' inside one card's back
        "q1\ta1;q2\ta2\nq3\ta3\n",  # more than one line: rows end at line breaks
        'q1\t"a1;b"\n',  # quoted
        "q1\ta1;q2\n",  # a part without a separator
    ],
)
def test_a_semicolon_inside_a_card_is_text(tmp_path: Path, data: str) -> None:
    path = write(tmp_path, "cards.tsv", data)
    result = parse_tsv(path)
    assert not any("split at ';'" in warning for warning in result.warnings)
    assert ";" in "".join(card.back for card in result.cards)


def test_a_semicolon_file_with_decimal_commas_splits_at_the_semicolons(tmp_path: Path) -> None:
    """A European spreadsheet's CSV: ';' between the columns, ',' in its numbers. Both split
    every row in two; a comma between two digits is a decimal comma."""
    path = write(tmp_path, "de.csv", "Was ist pi?;3,14\r\nWas ist e?;2,72\r\nWurzel 2?;1,41\r\n")
    assert pairs(parse_csv(path)) == [
        ("Was ist pi?", "3,14"),
        ("Was ist e?", "2,72"),
        ("Wurzel 2?", "1,41"),
    ]
    plain = write(tmp_path, "numbers.csv", "1,2\n3,4\n")  # nothing else splits it
    assert pairs(parse_csv(plain)) == [("1", "2"), ("3", "4")]


def test_rows_with_a_front_and_no_back_are_named(tmp_path: Path) -> None:
    """Quizlet writes a definition's line break as it is: its second line comes in as a
    card of its own with no back, and the import says so."""
    path = write(tmp_path, "quizlet.txt", "term1\tdef line a\ndef line b\nterm2\tdef2\n")
    result = parse_tsv(path)
    assert pairs(result) == [("term1", "def line a"), ("def line b", ""), ("term2", "def2")]
    assert result.warnings == [
        "1 row has a front and no back (line 2): imported so; a line break inside a field "
        "that is not quoted splits a row in two"
    ]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_its_byte_order_mark_is_named(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path, "sheet.csv", "front,back\nÄpfel,apples\n".encode(encoding))
    for read in (lambda: detect(path), lambda: parse_csv(path)):
        with pytest.raises(FormatError) as refused:
            read()
        assert str(refused.value) == (
            f"{path}: reads as UTF-16 text without its byte order mark; save it as UTF-8 (or "
            "as UTF-16 with its byte order mark) and import it again"
        )


def test_a_text_file_with_a_nul_byte_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "nul.csv", b"front,back\none,o\x00ne\n")
    with pytest.raises(FormatError) as refused:
        detect(path)
    assert str(refused.value) == f"{path}, line 2: holds NUL bytes, so it is not a text file"
