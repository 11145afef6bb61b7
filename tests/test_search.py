from __future__ import annotations

from index import Searcher, SearchSettings, canonical_text
from tests.conftest import FakeEmbedder


def test_question_finds_the_paragraph_with_the_answer(searcher: Searcher) -> None:
    [best, *_] = searcher.search("Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?")
    assert "25,872 tỷ USD" in best.chunk.text
    assert best.chunk.title == "Phổ Yên đạt nhiều kết quả năm 2023"
    assert best.chunk.source == "VTC News" and best.chunk.date == "2023-12-13"


def test_question_without_diacritics_finds_the_same_paragraph(searcher: Searcher) -> None:
    accented = searcher.search("Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?")[0]
    plain = searcher.search("gia tri xuat khau cua pho yen nam 2023 la bao nhieu")[0]
    assert plain.chunk.chunk_id == accented.chunk.chunk_id


def test_either_tone_mark_style_and_nfd_find_the_same_paragraph(searcher: Searcher) -> None:
    ids = {
        searcher.search(q)[0].chunk.chunk_id
        for q in ("lũ ở Thanh Hoá", "lũ ở Thanh Hóa", "lu\u0303 o\u031b\u0309 Thanh Hoa\u0301")
    }
    assert len(ids) == 1


def test_highlights_point_at_the_matched_words(searcher: Searcher) -> None:
    hit = searcher.search("xuat khau Pho Yen")[0]
    words = {hit.chunk.text[a:b] for a, b in hit.highlights}
    assert {"xuất", "khẩu", "Phổ", "Yên"} <= words
    assert "của" not in words


def test_hits_are_best_first_and_at_most_top_k(searcher: Searcher) -> None:
    hits = searcher.search("Huế mưa ngập", top_k=2)
    assert len(hits) <= 2
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].chunk.article_id == "hue-1"


def test_quotes_are_the_original_text_not_the_canonical_form(searcher: Searcher) -> None:
    hit = searcher.search("Thanh Hóa ngập sâu")[0]
    assert "Thanh Hoá" in hit.chunk.text
    assert canonical_text(hit.chunk.text) != hit.chunk.text


def test_next_paragraph_of_a_hit_is_available(searcher: Searcher) -> None:
    hit = searcher.search("Huế mưa to sông Hương")[0]
    following = searcher.neighbour(hit.chunk, 1)
    assert following is not None and following.paragraph == hit.chunk.paragraph + 1
    assert searcher.neighbour(hit.chunk, -1) is None


def test_empty_question_gives_no_hits(searcher: Searcher) -> None:
    assert searcher.search("   ") == []
    assert searcher.search("?!") == []


def test_lexical_candidates_outside_the_dense_top_get_their_cosine(
    searcher: Searcher, fake_embedder: FakeEmbedder
) -> None:
    narrow = Searcher(searcher.stored, fake_embedder, SearchSettings(candidates=1))
    queries = ["Huế mưa Phổ Yên xuất khẩu", "phở sông Hương", "ngân sách Thanh Hoá", "Mỏ Chè lũ"]
    merged = [hits for q in queries if len(hits := narrow.rank(q, 5)) == 2]
    assert merged, "no query had different dense and lexical candidates"
    assert all(-1.0 <= h.dense_score <= 1.0 for hits in merged for h in hits)
