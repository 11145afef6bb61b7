"""The storage seam: FAISS dense store and BM25 store by paragraph id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.stores import Bm25Store, DenseStore, FaissDenseStore, LexicalStore, maxscore
from index.stores import dense as dense_module


def unit_vectors(count: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("approximate", [False, True])
def test_removed_vectors_are_never_found_and_added_ones_are(
    approximate: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if approximate:
        monkeypatch.setattr(dense_module, "APPROXIMATE_ABOVE", 0)
    vectors = unit_vectors(60)
    store: DenseStore = FaissDenseStore.build(np.arange(50), vectors[:50])
    store.remove(np.array([3, 7]))
    store.add(np.arange(100, 110), vectors[50:])
    for i in (3, 7):
        assert i not in store.search(vectors[i], 10).ids
    found = store.search(vectors[55], 1)
    assert found.ids.tolist() == [105] and found.scores[0] == pytest.approx(1.0, abs=1e-5)
    assert store.count == 58
    assert store.score(np.array([105, 0]), vectors[0])[1] == pytest.approx(1.0, abs=1e-5)


def test_dense_ids_must_be_new(tmp_path: Path) -> None:
    store = FaissDenseStore.build(np.arange(5), unit_vectors(5))
    with pytest.raises(ValueError, match="new"):
        store.add(np.array([4]), unit_vectors(1))


def test_dense_store_round_trips_with_its_delta_and_tombstones(tmp_path: Path) -> None:
    vectors = unit_vectors(12)
    store = FaissDenseStore.build(np.arange(10), vectors[:10])
    store.add(np.array([10, 11]), vectors[10:])
    store.remove(np.array([2]))
    names = store.save(tmp_path, "000002")
    again = FaissDenseStore.load(tmp_path, names)
    assert again.count == 11
    assert again.search(vectors[11], 1).ids.tolist() == [11]
    assert 2 not in again.search(vectors[2], 12).ids


TEXTS = [
    "Giá trị xuất khẩu của Phổ Yên đạt 25,872 tỷ USD.",
    "Huế mưa to suốt tuần, sông Hương dâng cao.",
    "Phở bò Hà Nội nổi tiếng với nước dùng trong.",
]


def test_bm25_finds_by_terms_with_or_without_diacritics(tmp_path: Path) -> None:
    store: LexicalStore = Bm25Store.build(np.arange(3), TEXTS)
    assert store.search("xuất khẩu Phổ Yên", 5).ids[0] == 0
    assert store.search("mua to o Hue", 5).ids[0] == 1
    assert store.search("không có gì", 5).ids.tolist() == []


def test_bm25_document_frequencies_and_count_follow_removals() -> None:
    store = Bm25Store.build(np.arange(3), TEXTS)
    store.add(np.array([3]), ["Huế nắng đẹp."])
    assert store.count == 4
    assert store.document_frequencies(["hue", "=huế", "khong_co"]) == {
        "hue": 2,
        "=huế": 2,
        "khong_co": 0,
    }
    store.remove(np.array([1]))
    assert store.count == 3 and store.document_frequencies(["hue"]) == {"hue": 1}
    assert 1 not in store.search("Huế", 5).ids


def test_bm25_store_round_trips(tmp_path: Path) -> None:
    store = Bm25Store.build(np.arange(3), TEXTS)
    store.add(np.array([5]), ["Cầu Rồng phun lửa."])
    store.remove(np.array([2]))
    again = Bm25Store.load(tmp_path, store.save(tmp_path, "000002"))
    query = "Cầu Rồng Huế phở"
    assert again.search(query, 5).ids.tolist() == store.search(query, 5).ids.tolist()
    assert np.allclose(
        again.score(np.array([0, 1, 5]), query), store.score(np.array([0, 1, 5]), query)
    )


def exact_bm25(texts: list[str], query: str, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """BM25 of every text, term by term, as the module docstring defines it."""
    from collections import Counter

    from index.lexical import terms

    bags = [Counter(terms(t)) for t in texts]
    lengths = np.array([sum(bag.values()) for bag in bags], float)
    average = lengths.mean()
    scores = np.zeros(len(texts))
    for term in dict.fromkeys(terms(query)):
        df = sum(term in bag for bag in bags)
        if not df:
            continue
        idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5))
        tf = np.array([bag[term] for bag in bags], float)
        scores += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / average))
    return scores


@pytest.mark.parametrize("essential_most", [maxscore.ESSENTIAL_MOST, 1])
def test_bm25_top_k_equals_scoring_every_paragraph_even_where_common_words_are_skipped(
    essential_most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1: pruning may start after the rarest term alone (as in a corpus of millions).
    monkeypatch.setattr(maxscore, "ESSENTIAL_MOST", essential_most)
    rng = np.random.default_rng(7)
    common = [
        "của",
        "và",
        "là",
        "có",
        "được",
        "trong",
        "người",
        "năm",
        "này",
        "cho",
        "với",
        "các",
        "những",
        "một",
        "đã",
    ]
    rare = [f"Phường{i} Quận{i % 13}" for i in range(300)]
    texts = [" ".join([*rng.choice(common, 30), *rng.choice(rare, 2)]) for _ in range(2_000)]
    store = Bm25Store.build(np.arange(len(texts)), texts)
    for query in ["Phường12 của các người được", "Quận3 và là năm", "có Phường7 Phường8"]:
        expected = exact_bm25(texts, query)
        for k in (1, 5, 40):
            found = store.search(query, k)
            best = np.sort(expected)[::-1][:k]
            assert np.allclose(found.scores, best, rtol=1e-5), (query, k)
            assert np.allclose(expected[found.ids], found.scores, rtol=1e-5)
            assert np.allclose(store.score(found.ids, query), found.scores, rtol=1e-5)


def test_bm25_with_removed_paragraphs_ranks_like_an_index_of_the_rest() -> None:
    rng = np.random.default_rng(11)
    common = ["của", "và", "là", "có", "được", "trong", "người", "năm"]
    texts = [" ".join([*rng.choice(common, 20), f"Xã{i % 40}"]) for i in range(1_000)]
    store = Bm25Store.build(np.arange(len(texts)), texts)
    removed = np.arange(0, 1_000, 3)
    store.remove(removed)
    live = np.setdiff1d(np.arange(len(texts)), removed)
    for query in ["Xã7 của người", "Xã12 năm và có"]:
        expected = exact_bm25([texts[i] for i in live], query)
        found = store.search(query, 10)
        assert not np.isin(found.ids, removed).any()
        assert np.allclose(found.scores, np.sort(expected)[::-1][:10], rtol=1e-5)
        assert np.allclose(store.score(live, query), expected, rtol=1e-5)
    assert store.document_frequencies(["xa7"]) == {"xa7": len([i for i in live if i % 40 == 7])}
