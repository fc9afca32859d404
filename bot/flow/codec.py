"""The callback-data codec of the guided conversations: ``core.codec`` (one format for every
button; it lives in ``core`` so ``delivery`` can use it too)."""

from core.codec import (
    BACK,
    MAX_BYTES,
    MAX_ID,
    SEP,
    Action,
    Press,
    action,
    button,
    decode,
    encode,
    is_token,
    parse_id,
    pattern,
    prefix_of,
)

__all__ = [
    "BACK",
    "MAX_BYTES",
    "MAX_ID",
    "SEP",
    "Action",
    "Press",
    "action",
    "button",
    "decode",
    "encode",
    "is_token",
    "parse_id",
    "pattern",
    "prefix_of",
]
