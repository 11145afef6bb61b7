from __future__ import annotations

import dataclasses

from index import Searcher, SearchSettings, canonical_text
from index.stores.base import LexicalStore, Scored
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


class _DenseOnly:
    """The index's BM25 with an empty candidate list: every pooled paragraph is the dense leg's."""

    def __init__(self, lexical: LexicalStore) -> None:
        self._lexical = lexical

    def search(self, query: str, k: int) -> Scored:
        return Scored.empty()

    def __getattr__(self, name: str) -> object:
        return getattr(self._lexical, name)


def test_question_words_held_do_not_depend_on_which_leg_found_the_paragraph(
    searcher: Searcher, fake_embedder: FakeEmbedder
) -> None:
    # Lexical candidates' words are looked up while the question is encoded, the dense
    # leg's after: the same paragraph must be credited with the same words either way.
    lexical = Searcher(searcher.stored, fake_embedder, SearchSettings(candidates=1000))
    stored = dataclasses.replace(searcher.stored, lexical=_DenseOnly(searcher.stored.lexical))
    dense = Searcher(stored, fake_embedder, SearchSettings(candidates=1000))
    for question in ["Huế mưa Phổ Yên xuất khẩu", "ngân sách Thanh Hoá", "xuat khau pho yen"]:
        early, late = lexical.pool(question), dense.pool(question)
        assert early is not None and late is not None
        held = {c.chunk_id: tuple(r) for c, r in zip(early.chunks, early.presence, strict=True)}
        assert late.presence.any(), "no paragraph holds the question's words"
        for chunk, row in zip(late.chunks, late.presence, strict=True):
            assert tuple(row) == held.get(chunk.chunk_id, (False,) * len(row))
