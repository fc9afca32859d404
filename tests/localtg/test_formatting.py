"""parse_mode handling: plain text and UTF-16 entities, and Telegram's parse errors."""

from __future__ import annotations

import pytest

from localtg.errors import ApiError
from localtg.formatting import parse_text


def test_html_entities_nesting_and_utf16_offsets() -> None:
    text, entities = parse_text(
        '😀 <b>Hei <i>sinä</i></b> <a href="https://x.fi/?a=1&amp;b=2">linkki</a>', "HTML"
    )
    assert text == "😀 Hei sinä linkki"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 7, "length": 4},
        {"type": "text_link", "offset": 12, "length": 6, "url": "https://x.fi/?a=1&b=2"},
    ]


def test_html_pre_with_language_and_escapes() -> None:
    text, entities = parse_text(
        '<pre><code class="language-python">x &lt; 1</code></pre> &#228;', "HTML"
    )
    assert text == "x < 1 ä"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("1 < 2", "unsupported start tag at byte offset 2"),
        ("<br>rivi", 'unsupported start tag "br"'),
        ("<b>auki", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "unexpected end tag"),
    ],
)
def test_html_errors(markup: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_text(markup, "HTML")
    assert caught.value.status == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert error in caught.value.description


def test_markdown_v2() -> None:
    text, entities = parse_text(
        r"*lihava* _kursiivi_ __alle__ ||piilo|| [linkki](https://x.fi) 4\.2", "MarkdownV2"
    )
    assert text == "lihava kursiivi alle piilo linkki 4.2"
    assert [e["type"] for e in entities] == ["bold", "italic", "underline", "spoiler", "text_link"]
    assert parse_text("`a_b`", "MarkdownV2") == (
        "a_b",
        [{"type": "code", "offset": 0, "length": 3}],
    )


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("Arvo 4.2", "character '.' is reserved"),
        ("*auki", "can't find end of Bold entity at byte offset 0"),
        ("a - b", "character '-' is reserved"),
    ],
)
def test_markdown_v2_errors(markup: str, error: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities") as caught:
        parse_text(markup, "MarkdownV2")
    assert error in caught.value.description


def test_legacy_markdown() -> None:
    assert parse_text("*a* _b_ 4.2", "Markdown") == (
        "a b 4.2",
        [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 2, "length": 1}],
    )
    with pytest.raises(ApiError, match="can't find end of the entity starting at byte offset 0"):
        parse_text("*auki", "Markdown")


def test_no_parse_mode_is_verbatim() -> None:
    assert parse_text("<b>ei muotoilua</b> 4.2", None) == ("<b>ei muotoilua</b> 4.2", [])
