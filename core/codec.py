"""The one callback-data format of every button: short, strict, stale-proof.

Two shapes, one set of rules (1–64 *bytes*, ASCII tokens, ids read strictly):

* a **flow button** of a guided conversation (`Press`, `encode`, `decode`);
* a **feature button** of a command's menu, /kieli, the Excel confirmation or a reminder
  (`Action`, `button`, `action`, `pattern`): ``<feature>:<step>[:<argument>…]``, e.g.
  ``rem:snooze:812`` or ``muistuta:div:3``.

It lives in ``core`` so that ``delivery`` (the reminders' buttons) uses it without importing
the bot; ``bot.flow.codec`` is the same module for the conversations.

Flow button format: ``<flow prefix>:<prompt number>:<step tag>:<action>[:<argument>]``, for example
``rp:17:L:m:5`` = "reporting, prompt 17, level step, pick method 5". Telegram allows 1–64
*bytes*, so buttons carry database ids and one-letter tags, never names (ä is two bytes).

The prompt number grows with every question the bot asks in the conversation and is kept in
the draft: only the newest question's buttons are valid, so a button pressed on an older
message (or forged) is recognised and refused without changing anything. Decoding is strict:
ASCII digits only (``"²".isdigit()`` is true in Python) and ids within a database integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
SEP = ":"
#: The action of every step's Back button.
BACK = "b"
#: Largest id a button may carry: PostgreSQL's integer.
MAX_ID = 2**31 - 1

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,11}")
_NUMBER = re.compile(r"[0-9]{1,10}")
_ARG = re.compile(r"[A-Za-z0-9_.-]{1,24}")


@dataclass(frozen=True)
class Press:
    """A decoded button press (or, before encoding, the button without its argument)."""

    prefix: str
    seq: int
    tag: str
    action: str
    arg: str | None = None

    def int_arg(self) -> int | None:
        """The argument as an id, or None when it is missing or not a valid id."""
        return parse_id(self.arg)


def parse_id(text: str | None) -> int | None:
    """A database id from button data: ASCII digits within range, else None."""
    if text is None or not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def is_token(text: str) -> bool:
    """A flow prefix, step tag or action: short ASCII, no separator."""
    return bool(_TOKEN.fullmatch(text))


def encode(press: Press, arg: object | None = None) -> str:
    """The callback_data string; raises ValueError if Telegram would refuse it."""
    parts = [press.prefix, str(press.seq), press.tag, press.action]
    if arg is not None:
        text = str(arg)
        if not _ARG.fullmatch(text):
            raise ValueError(f"button argument {text!r} is not short ASCII")
        parts.append(text)
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback_data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Press | None:
    """The press, or None when the data is not a well-formed flow button."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(SEP)
    if len(parts) not in (4, 5):
        return None
    prefix, seq, tag, action = parts[:4]
    arg = parts[4] if len(parts) == 5 else None
    if not (is_token(prefix) and is_token(tag) and is_token(action)):
        return None
    number = parse_id(seq)
    if number is None or (arg is not None and not _ARG.fullmatch(arg)):
        return None
    return Press(prefix, number, tag, action, arg)


def prefix_of(data: str | None) -> str | None:
    """The flow prefix of button data, without validating the rest."""
    if not data or SEP not in data:
        return None
    return data.split(SEP, 1)[0]


# --- feature buttons ---------------------------------------------------------------------

#: Most arguments a feature button carries (after its feature and step).
MAX_ARGS = 4


@dataclass(frozen=True)
class Action:
    """A decoded feature button: ``<feature>:<step>[:<argument>…]``."""

    feature: str
    step: str
    args: tuple[str, ...] = ()

    def id_arg(self, index: int = 0) -> int | None:
        """An argument as a database id, or None when missing or not a valid id."""
        return parse_id(self.args[index]) if index < len(self.args) else None


def button(feature: str, step: str, *args: object) -> str:
    """A feature button's callback_data; raises ValueError if Telegram would refuse it or
    it would not decode (a name, a separator or non-ASCII in a part)."""
    if not (is_token(feature) and is_token(step)):
        raise ValueError(f"feature {feature!r} or step {step!r} is not a short ASCII token")
    if len(args) > MAX_ARGS:
        raise ValueError(f"at most {MAX_ARGS} arguments: {args!r}")
    texts = [str(a) for a in args]
    for text in texts:
        if not _ARG.fullmatch(text):
            raise ValueError(f"button argument {text!r} is not short ASCII")
    data = SEP.join([feature, step, *texts])
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise ValueError(f"callback_data longer than {MAX_BYTES} bytes: {data!r}")
    return data


def action(data: str | None) -> Action | None:
    """The feature button, or None when the data is not a well-formed one."""
    if not data or len(data.encode("utf-8")) > MAX_BYTES:
        return None
    parts = data.split(SEP)
    if not 2 <= len(parts) <= 2 + MAX_ARGS:
        return None
    feature, step, *args = parts
    if not (is_token(feature) and is_token(step)) or not all(_ARG.fullmatch(a) for a in args):
        return None
    return Action(feature, step, tuple(args))


def pattern(feature: str, step: str, *groups: str) -> str:
    """The regular expression of one feature step for a CallbackQueryHandler; ``groups``
    are the arguments' regexes (anything else falls through to the stale-button answer)."""
    parts = [re.escape(feature), re.escape(step), *(f"({g})" for g in groups)]
    return "^" + SEP.join(parts) + "$"
