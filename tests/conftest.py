from __future__ import annotations

import socket
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from index import Article, EmbeddingCache, Searcher, build_index, load_index
from index.text import tokenize

REPO = Path(__file__).resolve().parent.parent
SHARED_EVAL = REPO.parent / "shared" / "eval"
ProgressFn = Callable[[int], None]


class FakeEmbedder:
    """Bag-of-words vectors hashed with crc32: shared words give similar vectors, no model."""

    name = "fake-embedder"
    fingerprint = "fake-embedder-v1"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        for token in tokenize(text):
            vector[zlib.crc32(token.encode()) % self.dim] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed_query(self, text: str) -> np.ndarray:
        self.calls += 1
        return self._vector(text)

    def embed_chunks(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        self.embedded += len(texts)
        vectors = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim))
        if progress:
            progress(len(texts))
        return vectors.astype(np.float32)


class IsolatedFakeEmbedder(FakeEmbedder):
    """A FakeEmbedder whose updates run in a child process, as the bot's real embedder's do."""

    def passage_embedder(self) -> FakeEmbedder:
        return FakeEmbedder(self.dim)


TINY_ARTICLES = {
    "pho-yen.md": """title: Phổ Yên đạt nhiều kết quả năm 2023
date: 2023-12-13
source: VTC News
url: https://vtc.vn/pho-yen

Năm 2023, giá trị xuất khẩu của TP Phổ Yên đạt 25,872 tỷ USD,
chiếm 95,5% giá trị xuất khẩu toàn tỉnh.

Thu ngân sách trên địa bàn đạt gần 7.000 tỷ đồng, vượt kế hoạch tỉnh giao.

Quang cảnh hội nghị. (Ảnh: thainguyen.gov.vn)
""",
    "song-cong.md": """title: Sông Công hoàn thành xây dựng nông thôn mới
date: 2020-01-10
source: Báo Thái Nguyên

Thành phố Sông Công đã hoàn thành nhiệm vụ xây dựng nông thôn mới;
tỷ lệ hộ nghèo giảm xuống còn dưới 2%.

Đảng bộ phường Mỏ Chè chuẩn bị đại hội điểm cấp xã của toàn tỉnh.
""",
    "thanh-hoa.md": """title: Lũ lớn ở Thanh Hoá
date: 2024-09-10
source: Tuổi Trẻ

Mưa lớn kéo dài khiến nhiều xã ở Thanh Hoá bị ngập sâu, người dân phải sơ tán.
""",
    "pho-ha-noi.md": """title: Phở Hà Nội
date: 2024-03-01
source: VnExpress

Phở bò Hà Nội nổi tiếng với nước dùng trong, ngọt thanh từ xương bò hầm nhiều giờ.
""",
    "bulk.jsonl": '{"id": "hue-1", "title": "Thời tiết Huế", "date": "2024-10-01", '
    '"source": "Báo Thừa Thiên Huế", "url": "", "text": "Huế mưa to suốt tuần, sông Hương dâng '
    'cao.\\nNhiều tuyến phố ở Huế ngập nước."}\n',
}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every socket connection except to loopback; keep Hugging Face offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and self.family in (socket.AF_INET, socket.AF_INET6)
        ):
            raise ConnectionRefusedError(f"tests must not touch the network ({host})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name, text in TINY_ARTICLES.items():
        (data / name).write_text(text, encoding="utf-8")
    return data


@pytest.fixture
def built_index(tiny_data: Path, tmp_path: Path, fake_embedder: FakeEmbedder) -> Path:
    index_dir = tmp_path / "index"
    build_index(tiny_data, index_dir, fake_embedder, EmbeddingCache(tmp_path / "cache.sqlite"))
    return index_dir


@pytest.fixture
def searcher(built_index: Path, fake_embedder: FakeEmbedder) -> Searcher:
    return load_index(built_index, fake_embedder)


def make_article(paragraphs: Sequence[str], **fields: str) -> Article:
    return Article(
        article_id=fields.pop("article_id", "a1"),
        title=fields.pop("title", "Tin"),
        paragraphs=tuple(paragraphs),
        **fields,
    )
