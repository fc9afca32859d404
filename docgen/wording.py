"""Staff-editable wording of the documents (``docgen/templates/fi.yaml``).

Every sentence a reader sees lives in the YAML file, so strategy staff can change a
phrase without touching code; the program supplies only numbers and names. Placeholders
are filled leniently: an unknown ``{name}`` is left in the text as it is, because a typo in
an edited template should show up in the draft, not crash the bot on a deadline day. A
missing key, however, is a clear error naming the file and the key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_WORDING = TEMPLATES / "fi.yaml"


class WordingError(ValueError):
    """The wording file is missing, malformed or lacks a key; the message says which."""


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with ``{placeholders}`` replaced; unknown ones and stray braces stay."""
    try:
        return template.format_map(_Lenient(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


@dataclass(frozen=True)
class Wording:
    """The parsed wording file plus the values every text may use (year, date …)."""

    data: Mapping[str, Any]
    source: str
    defaults: Mapping[str, Any]

    def with_defaults(self, **values: Any) -> Wording:
        return Wording(self.data, self.source, {**self.defaults, **values})

    def raw(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise WordingError(f"{self.source}: key {key!r} is missing")
            node = node[part]
        return node

    def text(self, key: str, **values: Any) -> str:
        """One text, placeholders filled; non-text values are an error in the file."""
        node = self.raw(key)
        if isinstance(node, (int, float)):
            node = str(node)
        if not isinstance(node, str):
            raise WordingError(f"{self.source}: {key!r} must be a text")
        return fill(node.strip(), {**self.defaults, **values})

    def counted(self, key: str, number: int, **values: Any) -> str:
        """A text whose words follow a number: the key may hold ``one`` and ``other``
        forms (Finnish "1 tapa" but "0 tapaa", "3 tapaa"); a plain text serves any number."""
        if isinstance(self.raw(key), Mapping):
            return self.text(f"{key}.{'one' if number == 1 else 'other'}", **values)
        return self.text(key, **values)

    def texts(self, key: str, **values: Any) -> list[str]:
        """A list of texts (bullets, steps), each filled."""
        node = self.raw(key)
        if not isinstance(node, list):
            raise WordingError(f"{self.source}: {key!r} must be a list")
        merged = {**self.defaults, **values}
        return [fill(str(item).strip(), merged) for item in node]

    def rows(self, key: str, **values: Any) -> list[list[str]]:
        """A list of table rows (lists of texts), each cell filled."""
        node = self.raw(key)
        if not isinstance(node, list) or not all(isinstance(row, list) for row in node):
            raise WordingError(f"{self.source}: {key!r} must be a list of rows")
        merged = {**self.defaults, **values}
        return [[fill(str(cell).strip(), merged) for cell in row] for row in node]

    def mapping(self, key: str) -> dict[str, str]:
        node = self.raw(key)
        if not isinstance(node, Mapping):
            raise WordingError(f"{self.source}: {key!r} must be a mapping")
        return {str(k): str(v) for k, v in node.items()}


@functools.lru_cache(maxsize=8)
def _read(path: Path, mtime: float) -> Mapping[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WordingError(f"{path.name}: wording file not found ({path})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise WordingError(f"{path.name}: not valid YAML{where}") from None
    if not isinstance(data, Mapping):
        raise WordingError(f"{path.name}: expected a mapping at the top level")
    return data


def load_wording(path: Path | str | None = None) -> Wording:
    """Read the wording file (cached while it is unchanged on disk)."""
    path = Path(path or DEFAULT_WORDING)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise WordingError(f"{path.name}: wording file not found ({path})") from None
    return Wording(_read(path, mtime), path.name, {})
