"""Run ``python -m index`` with FakeEmbedder instead of the model, for the fast CLI tests.

Usage: ``python -m tests.launch_index fetch URL --data-dir ... --index-dir ...``.
"""

from __future__ import annotations

import sys

from index.__main__ import main
from tests.conftest import FakeEmbedder

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], FakeEmbedder()))
