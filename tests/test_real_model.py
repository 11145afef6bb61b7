"""Slow: the real bundled model over the shipped articles, and the CLI end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import Searcher, SentenceTransformerEmbedder, build_index, load_index

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models")


@pytest.fixture(scope="module")
def shipped(
    embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Searcher:
    index_dir = tmp_path_factory.mktemp("real") / "index"
    build_index(REPO / "data", index_dir, embedder)
    return load_index(index_dir, embedder)


def test_embeddings_are_unit_vectors_and_a_paraphrase_outranks_noise(
    embedder: SentenceTransformerEmbedder,
) -> None:
    vectors = embedder.embed_chunks(
        ["Phổ Yên xuất khẩu 25,872 tỷ USD năm 2023.", "Phở bò Hà Nội có nước dùng trong."]
    )
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_query("Kim ngạch xuất khẩu của thành phố Phổ Yên")
    assert vectors[0] @ query > vectors[1] @ query


@pytest.mark.parametrize(
    "question",
    [
        QUESTION,
        "gia tri xuat khau cua pho yen nam 2023 la bao nhieu",
        "Giá trị xuất khẩu của Phổ Yên năm 2023 là bao nhiêu?".upper(),
    ],
)
def test_export_question_quotes_the_paragraph_with_the_figure(
    shipped: Searcher, question: str
) -> None:
    best = shipped.search(question)[0]
    assert "25,872 tỷ USD" in best.chunk.text
    assert best.chunk.source == "VTC News"


def test_question_about_something_absent_gets_no_quote(shipped: Searcher) -> None:
    assert shipped.search("Giá vé máy bay Hà Nội đi Paris tháng 7 là bao nhiêu?") == []


def test_content_caption_is_searchable_but_photo_credit_is_not_quoted(shipped: Searcher) -> None:
    best = shipped.search("Khu công nghiệp Sông Công II đang được san lấp mặt bằng?")[0]
    assert "Sông Công II" in best.chunk.text
    assert "Hoài Thanh" not in best.chunk.text


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m index`` with the repo's model cache; never raises on failure."""
    command = [sys.executable, "-m", "index", *args, "--model-cache", str(REPO / "var" / "models")]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )


def test_cli_search_prints_the_quoted_paragraph(tmp_path: Path) -> None:
    result = run_cli(
        "search", QUESTION, "--index-dir", str(tmp_path / "i"), "--cache", str(tmp_path / "c")
    )
    assert result.returncode == 0, result.stderr
    assert "25,872 tỷ USD" in result.stdout


def test_cli_reports_a_missing_eval_folder_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli("eval", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "corpus.jsonl" in result.stderr
