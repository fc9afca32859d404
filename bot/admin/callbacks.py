"""Callback data of the administration buttons: ``<command>:<step>[:<argument>...]``.

Telegram limits callback data to 64 *bytes*; arguments are ids and codes only, so a button
never carries a name, and :func:`button_data` refuses anything longer.
"""

from __future__ import annotations

import enum

from bot.callbacks import ID_PATTERN

MAX_CALLBACK_BYTES = 64


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
    """``prefix:step:arg…``, checked against Telegram's 64-byte limit."""
    data = ":".join([prefix, str(step), *(str(a) for a in args)])
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def pattern(prefix: str, step: enum.StrEnum, *groups: str) -> str:
    """The regular expression a CallbackQueryHandler matches for one step.

    ``groups`` are regexes of the arguments; anything else (a forged or mangled button)
    falls through to the stale-button answer.
    """
    parts = [prefix, str(step), *(f"({g})" for g in groups)]
    return "^" + ":".join(parts) + "$"


ID = ID_PATTERN
