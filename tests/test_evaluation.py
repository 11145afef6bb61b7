from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.errors import RetrievalError
from index.evaluation import evaluate, score, strip_diacritics
from tests.conftest import FakeEmbedder


def test_metrics_count_the_first_relevant_rank() -> None:
    metrics = score(
        [
            (["a", "b"], frozenset({"a"})),
            (["x", "y", "a"], frozenset({"a"})),
            (["x"] * 10, frozenset({"a"})),
        ]
    )
    assert metrics.n == 3
    assert metrics.r1 == pytest.approx(1 / 3)
    assert metrics.r5 == pytest.approx(2 / 3)
    assert metrics.mrr10 == pytest.approx((1 + 1 / 3) / 3)
    assert metrics.line() == "MRR@10=0.444 R@1=0.333 R@5=0.667 R@10=0.667 n=3"


def test_strip_diacritics_keeps_case_and_maps_d() -> None:
    assert strip_diacritics("Đà Nẵng, Phổ Yên") == "Da Nang, Pho Yen"


def write_eval(folder: Path) -> None:
    passages = [
        {
            "id": "p1",
            "title": "Phổ Yên",
            "text": "Giá trị xuất khẩu của Phổ Yên đạt 25,872 tỷ USD.",
        },
        {"id": "p2", "title": "Huế", "text": "Huế mưa to, sông Hương dâng cao."},
        {"id": "p3", "title": "Phở", "text": "Phở bò Hà Nội có nước dùng trong."},
    ]
    questions = [
        {
            "id": "q1",
            "question": "Xuất khẩu của Phổ Yên đạt bao nhiêu?",
            "answers": ["25,872"],
            "positive_ids": ["p1"],
        },
        {
            "id": "q2",
            "question": "Sông Hương ở Huế thế nào?",
            "answers": ["dâng cao"],
            "positive_ids": ["p2"],
        },
    ]
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in passages), encoding="utf-8"
    )
    (folder / "questions.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8"
    )


def test_eval_indexes_the_folder_and_scores_each_question(tmp_path: Path) -> None:
    write_eval(tmp_path / "qa")
    metrics = evaluate(tmp_path / "qa", FakeEmbedder())
    assert metrics.n == 2 and metrics.r1 == 1.0
    stripped = evaluate(tmp_path / "qa", FakeEmbedder(), strip=True)
    assert stripped.r1 == 1.0


def test_eval_of_a_folder_without_questions_explains_the_layout(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError, match=r"questions\.jsonl"):
        evaluate(tmp_path, FakeEmbedder())
