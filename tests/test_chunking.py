from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import split_article, split_long, split_sentences, strip_photo_credit
from tests.conftest import make_article


def test_parenthesised_photo_credit_is_stripped_and_a_bare_caption_dropped() -> None:
    article = make_article(["Quang cảnh hội nghị. (Ảnh: thainguyen.gov.vn)", "Nội dung chính."])
    chunks = split_article(article)
    assert [c.text for c in chunks] == ["Nội dung chính."]
    assert chunks[0].paragraph == 2, "numbers follow the article as written"
    assert chunks[0].position == 0


def test_caption_that_carries_content_is_kept_without_its_credit() -> None:
    caption = (
        "Các đơn vị thi công khẩn trương san lấp mặt bằng, xây dựng hạ tầng Khu công "
        "nghiệp Sông Công II để thu hút đầu tư. Ảnh: Hoài Thanh"
    )
    [chunk] = split_article(make_article([caption]))
    assert chunk.text.endswith("để thu hút đầu tư.")
    assert "Hoài Thanh" not in chunk.text


def test_text_mentioning_photos_is_not_mistaken_for_a_credit() -> None:
    text = "Ảnh hưởng của bão khiến nhiều nhà bị tốc mái: 120 căn."
    assert strip_photo_credit(text) == (text, False)


def test_long_paragraph_splits_at_sentence_ends_and_keeps_neighbours() -> None:
    sentences = [f"Câu số {i} nói về xuất khẩu của TP. Phổ Yên năm 2023." for i in range(40)]
    article = make_article([" ".join(sentences), "Đoạn sau."])
    chunks = split_article(article, max_chars=300)
    assert len(chunks) > 3
    assert all(len(c.text) <= 300 for c in chunks)
    first_paragraph = [c for c in chunks if c.paragraph == 1]
    assert " ".join(c.text for c in first_paragraph) == " ".join(sentences)
    assert all(c.text.endswith(".") for c in first_paragraph)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert chunks[-1].paragraph == 2 and chunks[-1].parts == 1
    assert first_paragraph[0].parts == len(first_paragraph)


def test_abbreviation_tp_does_not_end_a_sentence() -> None:
    assert split_sentences("Ông về TP. Hồ Chí Minh. Bà ở Hà Nội.") == [
        "Ông về TP. Hồ Chí Minh.",
        "Bà ở Hà Nội.",
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="abc ĐđÁá.!?,", min_size=1, max_size=300), min_size=1, max_size=8),
    st.integers(min_value=20, max_value=200),
)
def test_chunks_keep_order_cover_the_text_and_respect_max_chars(
    words: list[str], max_chars: int
) -> None:
    text = " ".join(" ".join(w.split()) for w in words if w.split())
    if not text:
        return
    parts = split_long(text, max_chars)
    assert all(len(p) <= max_chars for p in parts)
    assert "".join(parts).replace(" ", "") == text.replace(" ", "")
