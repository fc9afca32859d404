"""What every handler and job needs besides the update: settings, database, clock.

Lives in core/ (the composition root) because bot/ and schedules/ both use it and
schedules/ must not import bot/. Kept on the Application (``bot_data`` is not
persisted), so handlers get them from the context instead of from module globals, and
tests can give each Application its own database and a controlled clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from settings import Settings

KEY = "services"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = field(default=_utcnow)

    def now(self) -> dt.datetime:
        """Aware UTC now (tests replace the clock)."""
        return self.clock()

    def local_now(self) -> dt.datetime:
        return self.clock().astimezone(self.settings.tz)

    def current_year(self) -> int:
        return self.local_now().year


def attach(application: Any, services: Services) -> None:
    application.bot_data[KEY] = services


def services(context_or_application: Any) -> Services:
    """The Services of a CallbackContext or an Application."""
    holder = getattr(context_or_application, "application", context_or_application)
    return holder.bot_data[KEY]
