"""The words every screen of the bot shares, defined once.

The stale-button answer, Back, Close and the role names appear on the guided flows, the
administration menus, /kieli, the Excel confirmation and the reminders' buttons; each is
written here once (and translated once), so no screen says it differently. The 64-byte limit
of button data is `core.codec.MAX_BYTES`, checked by the codec that builds every button.

A button label built from a name (a catalog method, a service entity, a method or a result
typed by a person, a person's Telegram name) is shortened by `short_label` alone: at a word
boundary, never mid-word, and keeping the part that tells it from the buttons beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, Final

from telegram import CallbackQuery

from data.models import Role
from i18n import N_

#: The answer to a button that is not (or no longer) for the current question or menu.
MSG_STALE: Final = N_("This button is no longer valid.")
#: The one Back label of every question and menu.
MSG_BACK: Final = N_("‹ Back")
#: Closes a menu.
MSG_CLOSE: Final = N_("Close")
#: Each role's name as people read it.
ROLE_NAMES: Final[dict[Role, str]] = {
    Role.CONTACT: N_("division contact"),
    Role.COORDINATOR: N_("coordinator"),
    Role.STAFF: N_("strategy staff"),
}


#: How much of a name a button shows where two buttons share a row (✎ and 🗑 of one answer,
#: the neighbours' page buttons) — what a phone shows of half a row.
NAME_IN_PAIR: Final = 28
#: How much of a name a button of its own row shows (a Keep button's value, an answer's
#: button on /muokkaa): a phone's full row, catalog names (at most 46 characters) whole.
NAME_IN_ROW: Final = 48
ELLIPSIS: Final = "…"

_SPACES = re.compile(r"\s+")
_LOOSE_END = " ,;:–—(/"  # what a cut leaves dangling before "…"; a hyphen stays ("Sairaala-…")


def short_label(text: str, limit: int = NAME_IN_ROW, others: Iterable[str] = ()) -> str:
    """``text`` as a button shows it: whole if it fits in ``limit`` characters, else cut at
    a word boundary with "…". ``others`` are the names on the buttons beside it; where two
    would be cut alike ("Kaupunginosaraatien kokoukset, kevät / syksy"), the words that tell
    them apart are kept after the first one ("Kaupunginosaraatien … syksy").

    A single word longer than the whole limit (a typed run of letters) is the only thing
    cut inside a word; nothing else can fit."""
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    short = _cut(text, limit)
    words = text.split(" ")
    alike = [
        other.split(" ")
        for other in {_SPACES.sub(" ", o).strip() for o in others}
        if other != text and len(other) > limit and _cut(other, limit) == short
    ]
    if not alike:
        return short
    same = max(_common_words(words, other) for other in alike)
    if same == 0:
        return short
    head = words[0].rstrip(_LOOSE_END)
    tail = " ".join(words[max(same, 1) :])
    room = limit - len(head) - 3  # "head … tail"
    if room < 1:
        return short
    return f"{head} {ELLIPSIS} {tail if len(tail) <= room else _cut(tail, room)}"


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    # The last break at most ``room`` characters in: a space, or just after a hyphen
    # ("participatory-…", "Sairaala-, kuntoutus-…").
    breaks = [i for i in range(1, room + 1) if text[i] == " " or text[i - 1] == "-"]
    kept = text[: breaks[-1]] if breaks else text[:room]  # one word longer than the limit
    words = kept.rstrip().split(" ")
    while len(words) > 1 and not any(c.isalnum() for c in words[-1]):
        words.pop()  # a dangling "–" or "/"
    return " ".join(words).rstrip(_LOOSE_END) + ELLIPSIS


def _common_words(words: list[str], other: list[str]) -> int:
    same = 0
    for mine, theirs in zip(words, other, strict=False):
        if mine != theirs:
            break
        same += 1
    return same


async def answer_stale(
    query: CallbackQuery, translate: Callable[[str], str], **kwargs: Any
) -> None:
    """Answer a stale or forged button with the one message (``translate`` is ``who._`` or
    a gettext function); nothing else happens."""
    from bot.callbacks import answer_quietly

    kwargs.setdefault("show_alert", True)
    await answer_quietly(query, translate(MSG_STALE), **kwargs)
