"""Callback data of the administration buttons: feature buttons of the one codec
(``core.codec``): ``<command>:<step>[:<argument>...]``.

Telegram limits callback data to 64 *bytes*; arguments are ids and codes only, so a button
never carries a name, and the codec refuses anything longer or not ASCII.
"""

from __future__ import annotations

import enum

from bot.callbacks import ID_PATTERN
from core import codec


class InviteStep(enum.StrEnum):
    ROLE = "role"  # role chosen: create (coordinator, staff) or ask the division (contact)
    DIVISION = "div"  # a contact's division chosen: create the invitation
    OPEN = "open"  # list the open invitations
    REVOKE = "revoke"  # cancel one invitation
    CANCEL = "cancel"  # close the menu


class PeopleStep(enum.StrEnum):
    PAGE = "page"  # the list of people, one page
    SHOW = "show"  # one person with their roles
    ROLE = "role"  # give (1) or take (0) a role
    DIVISIONS = "divs"  # choose a contact's division
    DIVISION = "div"  # make the person a contact of a division
    REMOVE = "rm"  # ask to confirm removing access
    REMOVE_CONFIRMED = "rmok"  # remove access


class OverviewStep(enum.StrEnum):
    REOPEN = "reopen"  # ask to confirm reopening a division's submitted report of a year
    REOPEN_CONFIRMED = "reopenok"  # reopen it (and refresh the overview message named)
    REOPEN_CANCEL = "reopenno"  # keep it submitted


class NudgeStep(enum.StrEnum):
    ALL = "all"  # every incomplete division
    DIVISION = "div"  # one division
    CANCEL = "cancel"


class DraftStep(enum.StrEnum):
    KIND = "kind"  # generate one kind of document


INVITE = "kutsu"
PEOPLE = "henk"
OVERVIEW = "tilanne"
NUDGE = "muistuta"
DRAFT = "luonnos"

#: Every callback prefix this package answers (the authorization matrix covers each).
PREFIXES = (INVITE, PEOPLE, OVERVIEW, NUDGE, DRAFT)


def button_data(prefix: str, step: enum.StrEnum, *args: object) -> str:
    """``prefix:step:arg…`` (`core.codec.button`: short ASCII, at most 64 bytes)."""
    return codec.button(prefix, str(step), *args)


def pattern(prefix: str, step: enum.StrEnum, *groups: str) -> str:
    """The regular expression a CallbackQueryHandler matches for one step
    (`core.codec.pattern`); anything else falls through to the stale-button answer."""
    return codec.pattern(prefix, str(step), *groups)


ID = ID_PATTERN
