"""The scheduler decides, the bot speaks: schedules/ imports nothing from bot/ or Telegram."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SCHEDULES = Path(__file__).resolve().parents[2] / "schedules"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_schedules_imports_nothing_from_bot_or_telegram() -> None:
    offending = {
        f"{path.name}: {name}"
        for path in sorted(SCHEDULES.glob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in {"bot", "telegram"}
    }
    assert offending == set()


def test_importing_every_schedules_module_loads_no_bot_module() -> None:
    modules = [f"schedules.{p.stem}" for p in SCHEDULES.glob("*.py") if p.stem != "__main__"]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=SCHEDULES.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
