"""Typed access to Bot API parameters, whichever transport delivered them.

Over HTTP every value arrives as a string (PTB sends ``RequestData.json_parameters``: strings
verbatim, everything else JSON-encoded); a JSON body carries native values. Telegram accepts
both, so the emulation coerces per parameter instead of trusting the transport.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from localtg.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request: (filename, content, mime type)."""

    filename: str
    content: bytes
    mime_type: str


class Params:
    """Read-only view over one request's parameters with Telegram-style validation errors."""

    def __init__(self, raw: Mapping[str, object], files: Mapping[str, Upload] | None = None):
        self.raw = dict(raw)
        self.files = dict(files or {})

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str, default: float) -> float:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(str(value)) if not isinstance(value, int | float) else float(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> object:
        """A JSON-typed parameter (reply_markup, commands, scope, ...), decoded if needed."""
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self) -> int | str:
        """``chat_id`` as int, or the ``@username`` string form."""
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value)
        try:
            return int(text)
        except ValueError:
            return text
