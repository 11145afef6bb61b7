"""Fitting the second stage and its honest (cross-validated) figures, on synthetic pools."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from index.__main__ import main
from index.crossval import cross_domain, cross_validate, figures, fold_of
from index.fitting import Example, fit_decision, fit_ranker
from index.ranking import FEATURES
from tests.conftest import FakeEmbedder
from tests.test_evaluation import write_eval

COVERAGE = FEATURES.index("coverage")
DENSE = FEATURES.index("dense")
RARE = FEATURES.index("rare_coverage")


def pool(
    qid: str,
    rng: np.random.Generator,
    answerable: bool = True,
    size: int = 12,
    cross: bool = False,
) -> Example:
    """A pool where the positive paragraph (row 3) holds the question's rare words and the
    others only some of its common ones; an unanswerable question's pool has no such row."""
    features = rng.normal(0.0, 0.3, (size, len(FEATURES)))
    features[:, COVERAGE] = rng.uniform(0.1, 0.5, size)
    features[:, RARE] = 0.0
    labels = np.zeros(size)
    if answerable:
        features[3, COVERAGE], features[3, RARE], labels[3] = 0.9, 1.0, 1.0
    articles = tuple(f"{qid}-article-{i}" for i in range(size))
    return Example(qid, False, answerable, features, labels, articles, cross)


def test_the_fitted_ranker_puts_the_paragraph_with_the_rare_words_first() -> None:
    rng = np.random.default_rng(1)
    rank = fit_ranker([pool(f"q{i}", rng) for i in range(40)])
    fresh = pool("new", rng)
    assert int(np.argmax(fresh.features @ rank)) == 3
    assert rank[RARE] > 0


def test_the_fitted_decision_quotes_answers_and_not_questions_the_archive_lacks() -> None:
    rng = np.random.default_rng(2)
    train = [pool(f"a{i}", rng) for i in range(40)] + [
        pool(f"u{i}", rng, answerable=False) for i in range(40)
    ]
    rank = fit_ranker(train)
    decided = figures(
        [pool(f"b{i}", rng) for i in range(20)]
        + [pool(f"v{i}", rng, answerable=False) for i in range(20)],
        rank,
        fit_decision(train, rank),
        0.5,
    )
    assert decided.mrr == 1.0 and decided.recall5 == 1.0
    assert decided.answered is not None and decided.answered >= 0.9
    assert decided.quoted is not None and decided.quoted <= 0.1


def test_a_weak_ranker_is_measured_as_weak() -> None:
    rng = np.random.default_rng(3)
    found = [pool(f"q{i}", rng) for i in range(30)]
    backwards = np.zeros(len(FEATURES))
    backwards[COVERAGE] = -1.0
    weak = figures(found, backwards, None, 0.5)
    assert weak.recall5 == 0.0
    assert weak.answered is None and weak.quoted is None
    assert "answered" not in weak.line("x") and weak.line("x").startswith("x: MRR@10=0.")


def test_questions_about_one_article_share_a_fold() -> None:
    rng = np.random.default_rng(4)
    first, second = pool("q1", rng), pool("q2", rng)
    same = Example("q2", False, True, second.features, second.labels, first.articles)
    assert fold_of(first, 4) == fold_of(same, 4)
    assert {fold_of(pool(f"q{i}", rng), 4) for i in range(40)} == {0, 1, 2, 3}


def test_cross_validation_and_cross_domain_measure_every_set_and_skip_foreign_pools() -> None:
    rng = np.random.default_rng(5)
    sets = {
        "news": [pool(f"n{i}", rng) for i in range(24)]
        + [pool(f"m{i}", rng, answerable=False) for i in range(8)],
        "wiki": [pool(f"w{i}", rng) for i in range(16)]
        + [pool(f"x{i}", rng, answerable=False, cross=True) for i in range(8)],
    }
    held = {(kind, name): f for kind, name, f in cross_validate(sets, 4, 0.5)}
    assert set(held) == {("accented", "news"), ("accented", "wiki")}  # no plain questions here
    assert held["accented", "news"].questions == 24 and held["accented", "wiki"].questions == 16
    assert held["accented", "news"].recall5 == 1.0
    assert held["accented", "news"].quoted is not None  # its own 8 unanswerable questions
    assert held["accented", "wiki"].quoted is None  # its 8 foreign pools are not its own
    pairs = {(source, target) for _, source, target, _ in cross_domain(sets, 0.5)}
    assert pairs == {("news", "wiki"), ("wiki", "news")}


def test_fit_prints_held_out_figures_and_writes_the_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("news", "wiki", "other"):
        write_eval(tmp_path / name)
    out = tmp_path / "ranking.json"
    argv = ["fit", str(tmp_path / "news"), str(tmp_path / "wiki"), "--cross"]
    argv += [str(tmp_path / "other"), "--output", str(out), "--cache", str(tmp_path / "c.sqlite")]
    assert main([*argv, "--folds", "2"], embedder=FakeEmbedder()) == 0
    printed = capsys.readouterr().out.splitlines()
    assert any(line.startswith("2-fold by article, accented, news: MRR@10=") for line in printed)
    assert any(line.startswith("fitted on wiki only, plain, news: MRR@10=") for line in printed)
    entry = json.loads(out.read_text(encoding="utf-8"))["models"]["fake-embedder-v1"]
    assert len(entry["accented"]["rank"]) == len(FEATURES)
    assert main([*argv, "--folds", "0"], embedder=FakeEmbedder()) == 0
    assert "fold" not in capsys.readouterr().out
