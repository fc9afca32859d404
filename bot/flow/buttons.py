"""callback_data of the guided conversations: short, id-based, and tagged against staleness.

Format: ``<flow prefix>:<prompt number>:<step tag>:<action>[:<argument>]``, for example
``rp:17:L:m:5`` = "reporting, prompt 17, level step, pick method 5". Telegram allows 1–64
*bytes*, so buttons carry database ids and one-letter tags, never names (ä is two bytes).

The prompt number grows with every question the bot asks in the conversation and is kept in
the draft: only the newest question's buttons are valid, so a button pressed on an older
message (or forged) is recognised and refused without changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import parse_id

MAX_BYTES = 64
SEP = ":"


@dataclass(frozen=True)
class Press:
    """A decoded button press."""

    prefix: str
    seq: int
    tag: str
    action: str
    arg: str | None = None

    def int_arg(self) -> int | None:
        """The argument as an id, or None when it is missing or not a number."""
        return parse_id(self.arg)


def encode(prefix: str, seq: int, tag: str, action: str, arg: object | None = None) -> str:
    """The callback_data string; raises ValueError if Telegram would refuse it."""
    parts = [prefix, str(seq), tag, action]
    if arg is not None:
        parts.append(str(arg))
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback_data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None, prefix: str) -> Press | None:
    """The press, or None when the data is not a well-formed button of this flow."""
    if not data:
        return None
    parts = data.split(SEP)
    seq = parse_id(parts[1]) if len(parts) in (4, 5) and parts[0] == prefix else None
    if seq is None:
        return None
    return Press(parts[0], seq, parts[2], parts[3], parts[4] if len(parts) == 5 else None)


def pattern(prefix: str, tag: str | None = None) -> str:
    """Regex for a CallbackQueryHandler: the flow's buttons (of one step tag, if given)."""
    if tag is None:
        return rf"^{prefix}{SEP}"
    return rf"^{prefix}{SEP}\d+{SEP}{tag}{SEP}"
