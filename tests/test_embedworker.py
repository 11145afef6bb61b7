"""Slow: passages embedded in a child process, as the bot does, with the real model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index import ChildProcessEmbedder, SentenceTransformerEmbedder

REPO = Path(__file__).resolve().parent.parent
PASSAGES = ["Giá xăng dầu tăng mạnh trong tuần.", "Mưa lớn kéo dài ở Huế, sông Hương dâng cao."]
pytestmark = pytest.mark.slow


def test_a_child_process_embeds_passages_exactly_as_this_process_would() -> None:
    child = ChildProcessEmbedder(cache_dir=REPO / "var" / "models", engine_passages=0)
    local = SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models", engine_queries=False)
    assert child.fingerprint == local.fingerprint
    assert np.allclose(child.embed_chunks(PASSAGES), local.embed_chunks(PASSAGES), atol=1e-5)
    assert child.child_peak_mb > 0


def test_serving_with_the_engine_does_not_import_pytorch() -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from index import SentenceTransformerEmbedder as E; "
        "e = E(cache_dir=Path(sys.argv[1])); e.embed_query('giá xăng'); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "var" / "models")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_a_small_update_is_embedded_by_the_engine_without_pytorch_or_a_child() -> None:
    code = (
        "import sys, json; from pathlib import Path; "
        "from index import ChildProcessEmbedder as C; "
        "c = C(cache_dir=Path(sys.argv[1])); v = c.embed_chunks(json.loads(sys.argv[2])); "
        "print(json.dumps([v.tolist(), 'torch' in sys.modules, c.child_peak_mb]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "var" / "models"), json.dumps(PASSAGES)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    vectors, imported_torch, child_peak = json.loads(out.stdout.strip().splitlines()[-1])
    reference = SentenceTransformerEmbedder(cache_dir=REPO / "var" / "models")
    cosines = np.sum(np.array(vectors) * reference.embed_chunks(PASSAGES), axis=1)
    assert cosines.min() > 0.999
    assert not imported_torch and child_peak == 0
