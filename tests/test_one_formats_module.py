"""Numbers, NPS scores and dates are read and written in one module, limits defined once.

``i18n.formats`` parses and formats counts, NPS, decimals, dates and times per language;
``data.limits`` holds the limits. This test fails when another module defines its own
parser or formatter, or its own copy of a limit, so the two cannot drift apart again.
``docgen`` is left out on purpose: the documents have their own Finnish number style.

There is no allow-list: every module uses ``i18n.formats`` and ``data.limits``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from data import limits

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "delivery", "schedules", "data", "core", "i18n", "sheets")
FORMATTERS = {
    "format_count",
    "parse_count",
    "parse_nps",
    "parse_score",
    "parse_decimal",
    "parse_respondents",
    "fi_date",
    "fi_time",
    "fi_datetime",
    "nps_from_counts",
}
LIMITS = {
    name: getattr(limits, name)
    for name in ("MAX_COUNT", "MAX_TEXT", "MAX_RESPONDENTS", "NPS_MIN", "NPS_MAX")
}
#: Numbers are read and written in i18n/formats, limits kept in data/limits, and the NPS
#: formula is a rule of the rule book (data/answers).
HOME = {"i18n/formats.py", "data/limits.py", "data/answers.py"}


def _definitions(path: Path) -> set[str]:
    """Top-level functions named like a formatter, and constants named like a limit of
    data.limits with the same value (schedules' MAX_TEXT = 4096 is Telegram's, not ours)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in FORMATTERS:
            found.add(node.name)
        targets: list[ast.expr] = []
        value = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id in LIMITS
                and isinstance(value, ast.Constant | ast.UnaryOp)
                and ast.literal_eval(value) == LIMITS[target.id]
            ):
                found.add(target.id)
    return found


def test_no_module_keeps_its_own_number_or_date_formatting_or_limits() -> None:
    copies = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in HOME:
                continue
            copies |= {(relative, name) for name in _definitions(path)}
    new = sorted(copies)
    assert not new, f"use i18n.formats / data.limits instead: {new}"
