"""The words every screen of the bot shares, defined once.

The stale-button answer, Back, Close and the role names appear on the guided flows, the
administration menus, /kieli, the Excel confirmation and the reminders' buttons; each is
written here once (and translated once), so no screen says it differently. The 64-byte limit
of button data is `core.codec.MAX_BYTES`, checked by the codec that builds every button.
"""

from __future__ import annotations

from collections.abc import Callable
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


async def answer_stale(
    query: CallbackQuery, translate: Callable[[str], str], **kwargs: Any
) -> None:
    """Answer a stale or forged button with the one message (``translate`` is ``who._`` or
    a gettext function); nothing else happens."""
    from bot.callbacks import answer_quietly

    kwargs.setdefault("show_alert", True)
    await answer_quietly(query, translate(MSG_STALE), **kwargs)
