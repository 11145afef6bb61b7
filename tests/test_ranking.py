from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index import EmbeddingCache, Searcher, SearchSettings, build_index, load_index
from index.accents import restore_diacritics
from index.ranker import FITTED_FILE, RankingModel, load_ranking_model, spread_articles
from index.stores.bm25 import Bm25Store
from index.text import accent_variants
from tests.conftest import FakeEmbedder

NEWS = {
    "gao-hau-giang.md": """title: Xuất khẩu gạo của Hậu Giang tăng mạnh
date: 2024-05-02
source: Báo Hậu Giang

Năm nay xuất khẩu gạo của tỉnh Hậu Giang đạt 1,2 triệu tấn, tăng 121,5% so với cùng kỳ.

Nông dân Hậu Giang chuyển sang giống lúa chất lượng cao.
""",
    "gao-ca-nuoc.md": """title: Xuất khẩu gạo cả nước
date: 2024-05-03
source: VnExpress

Xuất khẩu gạo cả nước năm nay đạt 8 triệu tấn, giá gạo xuất khẩu tăng cao.

Giá lúa gạo trong nước ổn định, nông dân có lãi.
""",
    "lu-mien-trung.md": """title: Lũ ở miền Trung
date: 2024-10-10
source: Tuổi Trẻ

Mưa lớn kéo dài khiến nhiều xã ở Quảng Bình bị ngập sâu, người dân phải sơ tán.
""",
}


def shipped_model() -> RankingModel:
    """The fitted weights shipped for the bundled model (features do not depend on it)."""
    [key, *_] = json.loads(FITTED_FILE.read_text(encoding="utf-8"))["models"]
    model = load_ranking_model(key)
    assert model is not None
    return model


@pytest.fixture
def news_searcher(tmp_path: Path) -> Searcher:
    data = tmp_path / "data"
    data.mkdir()
    for name, text in NEWS.items():
        (data / name).write_text(text, encoding="utf-8")
    embedder = FakeEmbedder()
    build_index(data, tmp_path / "index", embedder, EmbeddingCache(tmp_path / "c.sqlite"))
    return load_index(tmp_path / "index", embedder, SearchSettings(ranking=shipped_model()))


def test_the_paragraph_with_the_rare_name_is_preferred(news_searcher: Searcher) -> None:
    [best, *_] = news_searcher.search("Xuất khẩu gạo của Hậu Giang năm nay đạt bao nhiêu?")
    assert "Hậu Giang đạt 1,2 triệu tấn" in best.chunk.text


def test_a_question_whose_names_appear_nowhere_is_not_answered(news_searcher: Searcher) -> None:
    assert news_searcher.search("Giá vé máy bay từ Hà Nội đi Paris tháng này bao nhiêu?") == []


def test_a_figure_with_the_other_decimal_mark_finds_its_paragraph(
    news_searcher: Searcher,
) -> None:
    [best, *_] = news_searcher.search("gạo tăng 121.5%")
    assert "121,5%" in best.chunk.text
    assert any(best.chunk.text[a:b] == "121,5" for a, b in best.highlights)


def test_a_question_without_diacritics_ranks_like_the_accented_one(
    news_searcher: Searcher,
) -> None:
    accented = news_searcher.rank("Xuất khẩu gạo của Hậu Giang năm nay đạt bao nhiêu?", 1)
    plain = news_searcher.rank("xuat khau gao cua hau giang nam nay dat bao nhieu", 1)
    assert plain[0].chunk.chunk_id == accented[0].chunk.chunk_id


def test_confidence_is_a_probability_and_hits_are_best_first(news_searcher: Searcher) -> None:
    hits = news_searcher.rank("xuất khẩu gạo", 5)
    assert all(0.0 <= h.confidence <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_close_paragraph_of_another_article_passes_a_second_one_of_the_same() -> None:
    scores = np.array([1.0, 0.5, 0.49, 0.0])
    spread = spread_articles(scores, ["lũ", "lũ", "gạo", "giá"])
    assert list(np.argsort(-spread)) == [0, 2, 1, 3]
    # Each article's best paragraph keeps its score: the order of articles is unchanged.
    assert spread[[0, 2, 3]].tolist() == scores[[0, 2, 3]].tolist()


def test_a_clear_winner_from_the_same_article_keeps_its_place() -> None:
    scores = np.array([1.0, 0.9, 0.1, 0.0])
    spread = spread_articles(scores, ["lũ", "lũ", "gạo", "giá"])
    assert list(np.argsort(-spread)) == [0, 1, 2, 3]


def test_diacritics_are_put_back_from_the_archive_spelling() -> None:
    texts = [
        "Giá trị xuất khẩu của Phổ Yên đạt 25,872 tỷ USD.",
        "Giá trị sản xuất công nghiệp tăng; xuất khẩu tăng.",
        "Gia đình ông Yên ở Phổ Yên.",
    ]
    lexical = Bm25Store.build(np.arange(len(texts)), texts)
    restored = restore_diacritics("gia tri xuat khau Pho Yen 25,872", lexical.document_frequencies)
    assert restored == "giá trị xuất khẩu phổ yên 25,872"


def test_a_word_the_archive_never_spells_is_left_as_typed() -> None:
    lexical = Bm25Store.build(np.arange(1), ["Giá trị xuất khẩu."])
    assert restore_diacritics("covid gia", lexical.document_frequencies) == "covid giá"


def test_accent_variants_cover_the_spellings_of_a_folded_syllable() -> None:
    assert {"người", "ngươi", "nguội"} <= set(accent_variants("nguoi"))
    assert {"được", "đuốc"} <= set(accent_variants("duoc"))
    # Syllables ending in a stop consonant take only the sắc and nặng tones.
    assert set(accent_variants("xuat")) >= {"xuất", "xuật"}
    assert not any(v.endswith(("ầt", "ẩt", "ẫt")) for v in accent_variants("xuat"))
    assert accent_variants("2023") == accent_variants("covid") == ()
