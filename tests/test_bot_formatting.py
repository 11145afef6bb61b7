"""Answer formatting: HTML quotes with metadata, escaping, bold terms, splitting under 4096."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import messages
from bot.formatting import (
    ELLIPSIS,
    MAX_MESSAGE_UTF16,
    format_answer,
    format_not_found,
    format_plain,
    truncation_note,
    utf16_len,
)
from index import Chunk, Hit
from tests.fake_telegram import parse_html


def make_hit(
    text: str,
    title: str = "Phổ Yên đạt nhiều kết quả",
    highlights: tuple[tuple[int, int], ...] = (),
    **fields: object,
) -> Hit:
    chunk = Chunk(
        chunk_id=f"a#{fields.get('paragraph', 1)}",
        article_id="a",
        title=title,
        text=text,
        **{"paragraph": 1, "date": "2023-12-13", "source": "VTC News", "url": "", **fields},  # type: ignore[arg-type]
    )
    return Hit(chunk=chunk, score=0.9, highlights=highlights)


def utf16_slice(text: str, offset: int, length: int) -> str:
    units = text.encode("utf-16-le")
    return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")


def quotes(html_text: str) -> list[str]:
    visible, entities = parse_html(html_text)
    return [
        utf16_slice(visible, e["offset"], e["length"])
        for e in entities
        if e["type"] in ("blockquote", "expandable_blockquote")
    ]


def test_one_hit_gives_title_date_source_link_paragraph_and_a_quote() -> None:
    text = "Năm 2023, giá trị xuất khẩu đạt 25,872 tỷ USD."
    hit = make_hit(text, highlights=((10, 17), (18, 27)), url="https://vtc.vn/a?x=1&y=2")
    [part] = format_answer([hit])
    assert part == (
        "<b>1. Phổ Yên đạt nhiều kết quả</b>\n"
        '13/12/2023 · <a href="https://vtc.vn/a?x=1&amp;y=2">VTC News</a> · đoạn 1\n'
        "<blockquote>Năm 2023, <b>giá trị xuất khẩu</b> đạt 25,872 tỷ USD.</blockquote>"
    )
    assert quotes(part) == [text]


def test_metadata_variants_month_dates_missing_source_and_split_paragraphs() -> None:
    [part] = format_answer(
        [
            make_hit(
                "x", date="2023-12", source="", url="https://a.vn", paragraph=4, parts=3, part=2
            )
        ]
    )
    assert '12/2023 · <a href="https://a.vn">nguồn</a> · đoạn 4, phần 2/3' in part
    [part] = format_answer([make_hit("x", date="", source="", url="javascript:alert(1)")])
    assert part.split("\n")[1] == "đoạn 1"


def test_passage_title_and_source_are_escaped() -> None:
    hit = make_hit("a < b & c > d", title='<Tin> & "nóng"', source="A&B", highlights=((0, 1),))
    [part] = format_answer([hit])
    assert '<b>1. &lt;Tin&gt; &amp; "nóng"</b>' in part
    assert "A&amp;B" in part
    assert "<blockquote><b>a</b> &lt; b &amp; c &gt; d</blockquote>" in part
    parse_html(part)


def test_long_paragraphs_are_expandable_quotes_and_short_ones_plain() -> None:
    short, long = make_hit("ngắn " * 100), make_hit("dài " * 200)  # 500 and 800 characters
    [part] = format_answer([short, long])
    _, entities = parse_html(part)
    assert [e["type"] for e in entities if "blockquote" in e["type"]] == [
        "blockquote",
        "expandable_blockquote",
    ]
    assert quotes(part) == [short.chunk.text, long.chunk.text]


def test_hits_are_numbered_from_first_number_or_not_at_all() -> None:
    hits = [make_hit("một", title="A"), make_hit("hai", title="B")]
    assert re.findall(r"<b>(\d+)\. ", format_answer(hits, first_number=4)[0]) == ["4", "5"]
    assert "<b>A</b>" in format_answer(hits, first_number=None)[0]


def test_note_comes_first_in_italics() -> None:
    note = truncation_note(True, 500)
    [part] = format_answer([make_hit("x")], note=note)
    assert part.startswith(f"<i>{note}</i>\n\n<b>1. ")
    assert truncation_note(False, 500) == ""


def test_oversized_passage_is_cut_on_whitespace_before_escaping_with_an_ellipsis() -> None:
    words = [f"từ{i}&" for i in range(2000)]
    text = " ".join(words)
    [part] = format_answer([make_hit(text, highlights=((0, 3), (len(text) - 5, len(text))))])
    assert utf16_len(part) <= MAX_MESSAGE_UTF16
    [quote] = quotes(part)
    assert quote.endswith(ELLIPSIS)
    kept = quote.removesuffix(ELLIPSIS)
    assert text.startswith(kept)
    assert text[len(kept)] == " "
    assert len(kept) > 2400  # "&" takes 5 characters escaped; the rest of the room is used
    assert utf16_len(part) > MAX_MESSAGE_UTF16 - 20


def test_oversized_word_without_spaces_is_cut_hard() -> None:
    [part] = format_answer([make_hit("đ" * 9000)])
    [quote] = quotes(part)
    assert utf16_len(part) <= MAX_MESSAGE_UTF16
    assert quote.endswith("đ" + ELLIPSIS)


def test_parts_are_split_between_quotes() -> None:
    hits = [make_hit("chữ " * 400, title=f"Bài {n}") for n in range(5)]
    parts = format_answer(hits)
    assert len(parts) == 3  # 2 + 2 + 1 quotes of ~1650 characters
    for part in parts:
        assert part.startswith("<b>")
        assert part.endswith("</blockquote>")
        assert utf16_len(part) <= MAX_MESSAGE_UTF16


def test_plain_text_has_the_same_passages_and_metadata() -> None:
    hit = make_hit("Giá trị < 25,872 tỷ USD.", url="https://vtc.vn/a", paragraph=12)
    plain = format_plain([hit], note="Ghi chú")
    assert plain == (
        "Ghi chú\n\n1. Phổ Yên đạt nhiều kết quả\n"
        "13/12/2023 · VTC News (https://vtc.vn/a) · đoạn 12\n> Giá trị < 25,872 tỷ USD."
    )


def test_not_found_text_with_and_without_note() -> None:
    assert format_not_found() == messages.NOT_FOUND
    assert format_not_found("Ghi chú") == f"Ghi chú\n\n{messages.NOT_FOUND}"


_TEXT = st.text(
    alphabet=st.sampled_from(list("aăâđêôơưáàảãạ ABC<>&\"'\n😀\U0001d518xyz0123456789.,")),
    max_size=6000,
)


@st.composite
def hits_strategy(draw: st.DrawFn) -> list[Hit]:
    hits = []
    for n in range(draw(st.integers(1, 6))):
        text = draw(_TEXT.filter(lambda t: t.strip()))
        cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=10)))
        spans = tuple(zip(cuts[::2], cuts[1::2], strict=False))
        title = f"T{n} " + draw(st.text(max_size=400).filter(lambda t: "\n" not in t))
        source = draw(st.sampled_from(["", "VnExpress", "A&B <c>"]))
        url = draw(st.sampled_from(["", 'https://vnexpress.net/x?a=1&b="2"', "ftp://x"]))
        hits.append(make_hit(text, title, spans, source=source, url=url, paragraph=n + 1))
    return hits


@settings(max_examples=60, deadline=None)
@given(hits=hits_strategy(), first=st.integers(1, 100))
def test_every_part_fits_parses_and_all_hits_are_quoted_in_order(
    hits: list[Hit], first: int
) -> None:
    parts = format_answer(hits, first_number=first)
    all_quotes = []
    for part in parts:
        assert utf16_len(part) <= MAX_MESSAGE_UTF16
        visible, _ = parse_html(part)  # raises on invalid HTML, like Telegram
        assert utf16_len(visible) <= MAX_MESSAGE_UTF16
        all_quotes += quotes(part)
    assert len(all_quotes) == len(hits)
    numbers = [int(n) for n in re.findall(r"^<b>(\d+)\. T", "\n".join(parts), re.MULTILINE)]
    assert numbers == list(range(first, first + len(hits)))
    for hit, quote in zip(hits, all_quotes, strict=True):
        kept = quote.removesuffix(ELLIPSIS) if quote != hit.chunk.text else quote
        assert hit.chunk.text.startswith(kept)
