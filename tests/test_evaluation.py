from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from index.errors import RetrievalError
from index.evaluation import Quoted, decide, evaluate, score, strip_diacritics
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
    report = evaluate(tmp_path / "qa", FakeEmbedder())
    assert report.metrics.n == 2 and report.metrics.r1 == 1.0
    assert report.lines() == [report.metrics.line()]  # no unanswerable.jsonl: the line as before
    stripped = evaluate(tmp_path / "qa", FakeEmbedder(), strip=True)
    assert stripped.metrics.r1 == 1.0


def test_eval_with_unanswerable_questions_reports_the_decision(tmp_path: Path) -> None:
    write_eval(tmp_path / "qa")
    unanswerable = [{"id": "u1", "question": "Giá vé máy bay đi Paris tháng này bao nhiêu?"}]
    (tmp_path / "qa" / "unanswerable.jsonl").write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in unanswerable), encoding="utf-8"
    )
    report = evaluate(tmp_path / "qa", FakeEmbedder())
    *table, last = report.lines()
    assert re.fullmatch(
        r"MRR@10=\d\.\d{3} R@1=\d\.\d{3} R@5=\d\.\d{3} R@10=\d\.\d{3} n=2 "
        r"answered=\d\.\d{3} gold_first=\d\.\d{3} false_quotes=\d\.\d{3} n_unanswerable=1",
        last,
    )
    assert table[0].split() == ["threshold", "answered", "gold_first", "false_quotes"]
    # The loosest threshold answers at least as much as the strictest, for both kinds.
    loose, strict = report.tradeoff[0], report.tradeoff[-1]
    assert loose.answered >= strict.answered and loose.false_quotes >= strict.false_quotes
    # The question about Paris shares no content word with the corpus: not quoted.
    assert report.decision is not None and report.decision.false_quotes == 0.0


def test_decision_counts_answered_gold_first_and_false_quotes() -> None:
    answerable = [
        Quoted((0.9, 0.8), (False, True)),  # answered, but a sibling is quoted first
        Quoted((0.7,), (True,)),  # answered, gold first
        Quoted((0.2,), (True,)),  # below the threshold: "không tìm thấy"
    ]
    unanswerable = [Quoted((0.6,), (False,)), Quoted((0.1,), (False,))]
    decision = decide(answerable, unanswerable, 0.5)
    assert decision.answered == pytest.approx(2 / 3)
    assert decision.gold_first == pytest.approx(1 / 3)
    assert decision.false_quotes == pytest.approx(1 / 2)
    assert decide(answerable, unanswerable, 0.65).false_quotes == 0.0


def test_eval_of_a_folder_without_questions_explains_the_layout(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError, match=r"questions\.jsonl"):
        evaluate(tmp_path, FakeEmbedder())
