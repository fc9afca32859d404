"""The named steps of /valmis and /muokkaa and the button data that belongs to each.

Every button's ``callback_data`` starts with ``st:<step>:`` so a button pressed in another
step than the one it was made for matches no handler of the current state and is answered
"no longer valid" by the common fallback. Buttons carry ids, never names, and stay far
below Telegram's 64-byte limit (the longest is ``st:em:f:resp:s:<id>``).
"""

from __future__ import annotations

import enum
from typing import Final

from data.overview import EntryKind

PREFIX: Final = "st"


class Step(enum.StrEnum):
    """Conversation states (stored by the persistence as these strings)."""

    CONFIRM_SUBMIT = "status.confirm_submit"
    CHOOSE_ENTRY = "status.choose_entry"
    ENTRY_MENU = "status.entry_menu"
    ASK_COUNT = "status.ask_count"
    ASK_NOTE = "status.ask_note"
    ASK_RESULT = "status.ask_result"
    ASK_RESPONDENTS = "status.ask_respondents"
    ASK_NPS = "status.ask_nps"
    CONFIRM_CHANGE = "status.confirm_change"
    CONFIRM_DELETE = "status.confirm_delete"


class Field(enum.StrEnum):
    """What can be changed in an entry; the value is the short code used in buttons."""

    COUNT = "count"
    NOTE = "note"
    RESULT = "res"
    RESPONDENTS = "resp"
    NPS = "nps"


ASK_STEP: Final[dict[Field, Step]] = {
    Field.COUNT: Step.ASK_COUNT,
    Field.NOTE: Step.ASK_NOTE,
    Field.RESULT: Step.ASK_RESULT,
    Field.RESPONDENTS: Step.ASK_RESPONDENTS,
    Field.NPS: Step.ASK_NPS,
}
ASK_STEPS: Final = tuple(ASK_STEP.values())

KIND_CODE: Final[dict[EntryKind, str]] = {"participation": "p", "satisfaction": "s"}
CODE_KIND: Final[dict[str, EntryKind]] = {v: k for k, v in KIND_CODE.items()}

# Patterns for the handlers of each step ("kind" p|s, "id" digits).
_ENTRY = r"(?P<kind>[ps]):(?P<id>\d{1,12})"
SUBMIT_YES = rf"^{PREFIX}:sc:ok:(?P<year>\d{{4}})$"
SUBMIT_NO = rf"^{PREFIX}:sc:no$"
LIST_PICK = rf"^{PREFIX}:ls:{_ENTRY}$"
LIST_PAGE = rf"^{PREFIX}:ls:pg:(?P<page>\d{{1,4}})$"
LIST_DONE = rf"^{PREFIX}:ls:done$"
MENU_FIELD = rf"^{PREFIX}:em:f:(?P<field>[a-z]{{2,5}}):{_ENTRY}$"
MENU_DELETE = rf"^{PREFIX}:em:del:{_ENTRY}$"
MENU_BACK = rf"^{PREFIX}:em:back$"
ASK_BACK = rf"^{PREFIX}:av:back$"
ASK_CLEAR = rf"^{PREFIX}:av:clear:{_ENTRY}$"
CHANGE_SAVE = rf"^{PREFIX}:cc:save:{_ENTRY}$"
CHANGE_BACK = rf"^{PREFIX}:cc:back$"
DELETE_YES = rf"^{PREFIX}:cd:yes:{_ENTRY}$"
DELETE_BACK = rf"^{PREFIX}:cd:back$"


def _entry(kind: EntryKind, entry_id: int) -> str:
    return f"{KIND_CODE[kind]}:{entry_id}"


def submit_yes(year: int) -> str:
    return f"{PREFIX}:sc:ok:{year}"


def submit_no() -> str:
    return f"{PREFIX}:sc:no"


def list_pick(kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:ls:{_entry(kind, entry_id)}"


def list_page(page: int) -> str:
    return f"{PREFIX}:ls:pg:{page}"


def list_done() -> str:
    return f"{PREFIX}:ls:done"


def menu_field(field: Field, kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:em:f:{field.value}:{_entry(kind, entry_id)}"


def menu_delete(kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:em:del:{_entry(kind, entry_id)}"


def menu_back() -> str:
    return f"{PREFIX}:em:back"


def ask_back() -> str:
    return f"{PREFIX}:av:back"


def ask_clear(kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:av:clear:{_entry(kind, entry_id)}"


def change_save(kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:cc:save:{_entry(kind, entry_id)}"


def change_back() -> str:
    return f"{PREFIX}:cc:back"


def delete_yes(kind: EntryKind, entry_id: int) -> str:
    return f"{PREFIX}:cd:yes:{_entry(kind, entry_id)}"


def delete_back() -> str:
    return f"{PREFIX}:cd:back"
