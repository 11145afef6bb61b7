"""The README is the user's manual: it must name every setting and every command."""

from __future__ import annotations

import re
from pathlib import Path

from bot import messages

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIG = "\n".join(
    (ROOT / path).read_text(encoding="utf-8") for path in ("bot/config.py", "index/settings.py")
)


def test_every_environment_variable_is_in_the_configuration_table() -> None:
    variables = set(re.findall(r'reader\.\w+\(\s*"([A-Z_]+)"', CONFIG))
    assert len(variables) >= 15
    missing = [v for v in sorted(variables) if f"| `{v}` |" not in README]
    assert missing == []


def test_every_bot_command_is_documented() -> None:
    for command, _ in messages.COMMANDS + messages.ADMIN_COMMANDS:
        assert f"/{command}" in README


def test_readme_starts_with_the_two_commands_and_ci_runs_them() -> None:
    first_screen = README[:1500]
    assert "bash scripts/setup.sh && .venv/bin/python -m bot" in first_screen
    assert "bash scripts/test.sh" in first_screen
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/setup.sh" in ci
    assert "bash scripts/test.sh" in ci
