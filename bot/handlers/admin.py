"""Administration features: invitations, people, the overview, nudges, drafts, menus.

The handlers live in the ``bot.admin`` package, one module per command; this module is the
feature entry point ``bot.app`` imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.admin import drafts, invitations, menus, nudge, overview, people
from bot.admin.callbacks import PREFIXES
from bot.admin.shared import install_menu_guard
from bot.callbacks import install_guard

if TYPE_CHECKING:
    from bot.app import BotApplication


def register(application: BotApplication) -> None:
    """Every administration command, its buttons, and the command-menu hooks."""
    menus.register(application)
    install_guard(application, PREFIXES)
    install_menu_guard(application, PREFIXES)
    for feature in (invitations, people, overview, nudge, drafts):
        feature.register(application)
