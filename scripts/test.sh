#!/usr/bin/env bash
# Lint, type-check and run every test: the fast suite, then the slow one (real model, real bot
# process). Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PTB_TIMEDELTA=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy index bot
.venv/bin/python -m pytest -q
.venv/bin/python -m pytest -q -m slow
