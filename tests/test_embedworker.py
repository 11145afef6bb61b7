"""Slow: passages embedded in a child process, as the bot does, with the real model."""

from __future__ import annotations

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
    child = ChildProcessEmbedder(cache_dir=REPO / "var" / "models")
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
