from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.text import (
    NORMALIZER_VERSION,
    canonical_text,
    fold,
    normalize_text,
    token_spans,
    tokenize,
)

STYLE_PAIRS = [
    ("hoà", "hòa"),
    ("thuỷ", "thủy"),
    ("Thanh Hoá", "Thanh Hóa"),
    ("khoẻ", "khỏe"),
    ("loà", "lòa"),
    ("tuỳ", "tùy"),
    ("hoạ", "họa"),
    ("HOÀ", "HÒA"),
    ("Hoà Bình", "Hòa Bình"),
]

UNCHANGED_WORDS = [
    "hoàn",
    "toán",
    "quả",
    "quý",
    "của",
    "mùa",
    "người",
    "quyền",
    "quyết",
    "tuyển",
    "giường",
    "già",
    "giữ",
    "thuở",
    "gì",
    "gìn",
    "ngoài",
    "khuya",
    "khuỷu",
    "chuyện",
    "tiếng",
    "muốn",
    "hoặc",
    "huỳnh",
    "Nguyễn",
    "USD",
    "TP",
    "UBND",
    "25,872",
    "email@x.vn",
    "COVID-19",
    "café",
    "naïve",
]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_normalizer_version_is_an_int() -> None:
    assert isinstance(NORMALIZER_VERSION, int)


@pytest.mark.parametrize("text", ["Thái Nguyên", "Thanh Hoá", "Đà Nẵng", "khuỷu tay người"])
def test_nfd_input_gives_same_results_as_nfc(text: str) -> None:
    decomposed = nfd(text)
    assert decomposed != text
    assert normalize_text(decomposed) == text
    assert canonical_text(decomposed) == canonical_text(text)
    assert fold(decomposed) == fold(text)
    assert tokenize(decomposed) == tokenize(text)


def test_nfd_with_tone_on_circumflex_vowel_matches_nfc() -> None:
    assert canonical_text("Tha\u0301i Nguye\u0302\u0300n") == "Thái Nguyền"
    assert fold("Tha\u0301i Nguye\u0302\u0300n") == "thai nguyen"


@pytest.mark.parametrize(("new_style", "old_style"), STYLE_PAIRS)
def test_both_tone_placements_canonicalise_to_the_traditional_one(
    new_style: str, old_style: str
) -> None:
    assert canonical_text(new_style) == old_style
    assert canonical_text(old_style) == old_style


@pytest.mark.parametrize("word", UNCHANGED_WORDS)
def test_correct_words_and_non_vietnamese_tokens_are_left_as_they_are(word: str) -> None:
    assert canonical_text(word) == word


@pytest.mark.parametrize(("typo", "fixed"), [("gìa", "già"), ("qủa", "quả")])
def test_tone_on_the_vowel_of_gi_or_qu_moves_to_the_nucleus(typo: str, fixed: str) -> None:
    assert canonical_text(typo) == fixed


def test_canonical_text_keeps_words_with_two_tone_marks() -> None:
    assert canonical_text("hoàá") == "hoàá"


def test_canonical_text_in_a_sentence_keeps_length_and_other_words() -> None:
    text = "Ông Nguyễn Văn A, Chủ tịch UBND tỉnh Thanh Hoá, khoẻ mạnh (thuỷ lợi)."
    result = canonical_text(text)
    assert result == "Ông Nguyễn Văn A, Chủ tịch UBND tỉnh Thanh Hóa, khỏe mạnh (thủy lợi)."
    assert len(result) == len(text)


def test_fold_removes_diacritics_and_lowercases() -> None:
    assert fold("Giá trị xuất khẩu của Phổ Yên") == "gia tri xuat khau cua pho yen"
    assert fold("Giá trị xuất khẩu Phổ Yên") == "gia tri xuat khau pho yen"


@pytest.mark.parametrize("text", ["Đà Nẵng", "đà nẵng", "ĐÀ NẴNG", "\u00d0à Nẵng", "\u00f0à nẵng"])
def test_fold_maps_d_with_stroke_and_eth_lookalike_to_d(text: str) -> None:
    assert fold(text) == "da nang"


def test_fold_makes_both_tone_styles_equal() -> None:
    assert fold("Thanh Hoá") == fold("Thanh Hóa") == fold("thanh hoa")


def test_normalize_text_removes_zero_width_and_soft_hyphen() -> None:
    assert normalize_text("Thái\u200bNguyên\u200c\u200d\u2060\ufeff\u00ad") == "TháiNguyên"


def test_normalize_text_collapses_nbsp_tabs_and_newlines() -> None:
    assert normalize_text("\u00a0 Thái\u00a0\tNguyên \n\u2003 tỉnh\r\n") == "Thái Nguyên tỉnh"


def test_zero_width_between_letter_and_mark_does_not_block_composition() -> None:
    assert normalize_text("a\u200b\u0301") == "á"


def test_normalize_text_keeps_tone_placement_verbatim() -> None:
    assert normalize_text("hoà thuỷ") == "hoà thuỷ"


def test_tokenize_splits_on_non_alphanumerics() -> None:
    assert tokenize("Thái Nguyên: COVID-19, email@x.vn!") == [
        "thai",
        "nguyen",
        "covid",
        "19",
        "email",
        "x",
        "vn",
    ]


def test_tokenize_keeps_numbers_with_inner_dot_or_comma_together() -> None:
    assert tokenize("đạt 25,872 tỷ, tăng 885.972 đồng; 1.000.000 người.") == [
        "dat",
        "25.872",
        "ty",
        "tang",
        "885.972",
        "dong",
        "1.000.000",
        "nguoi",
    ]
    assert tokenize("25,872") == ["25.872"]


def test_either_decimal_mark_gives_the_same_number_token() -> None:
    assert tokenize("121,5%") == tokenize("121.5%") == ["121.5"]
    assert tokenize("25.872 tỷ") == tokenize("25,872 tỷ")


def test_tokenize_splits_dates_and_ranges() -> None:
    assert tokenize("ngày 13/12, giai đoạn 2015-2020") == [
        "ngay",
        "13",
        "12",
        "giai",
        "doan",
        "2015",
        "2020",
    ]


def test_token_spans_offsets_index_into_normalized_text() -> None:
    text = "  Giá\u00a0trị\u200b xuất khẩu 25,872 tỷ\tđồng "
    normalized = normalize_text(text)
    spans = token_spans(text)
    assert [token for token, _, _ in spans] == tokenize(text)
    for token, start, end in spans:
        assert fold(normalized[start:end]).replace(",", ".") == token
    assert [normalized[start:end] for _, start, end in spans] == [
        "Giá",
        "trị",
        "xuất",
        "khẩu",
        "25,872",
        "tỷ",
        "đồng",
    ]


def test_token_spans_include_a_trailing_mark_that_cannot_compose() -> None:
    normalized = normalize_text("ky\u0334n")
    assert token_spans("ky\u0334n") == [("kyn", 0, len(normalized))]


@given(st.text())
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(st.text())
def test_canonical_text_is_idempotent(text: str) -> None:
    once = canonical_text(text)
    assert canonical_text(once) == once


@given(st.text())
def test_canonical_text_preserves_length_of_normalized_input(text: str) -> None:
    assert len(canonical_text(text)) == len(normalize_text(text))


@given(st.text())
def test_fold_ignores_tone_placement(text: str) -> None:
    assert fold(canonical_text(text)) == fold(text)


@given(st.text())
def test_token_spans_agree_with_tokenize(text: str) -> None:
    normalized = normalize_text(text)
    spans = token_spans(text)
    assert [token for token, _, _ in spans] == tokenize(text)
    for token, start, end in spans:
        assert 0 <= start < end <= len(normalized)
        assert fold(normalized[start:end]).replace(",", ".") == token


VIETNAMESE_WORDS = st.lists(
    st.sampled_from([w for pair in STYLE_PAIRS for w in pair] + UNCHANGED_WORDS + ["Đà Nẵng"]),
    max_size=8,
).map(" ".join)


@given(VIETNAMESE_WORDS)
def test_canonical_text_of_vietnamese_is_stable_under_nfd(text: str) -> None:
    assert canonical_text(nfd(text)) == canonical_text(text)
    assert len(canonical_text(text)) == len(text)
