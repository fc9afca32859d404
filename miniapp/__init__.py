"""The Telegram Mini App: a division's whole form on one page, inside the chat.

`routes` gives the Starlette routes (``/app/`` page and static files, ``/app/api/…`` JSON);
`application_routes` is the same for a running bot, which ``core.web.mount`` serves on the
bot's web server in webhook and in polling mode. The page is plain HTML/CSS/JavaScript under
``static/`` (no build step); the API checks Telegram's signed init data, the person's role
and division as the chat does, and saves through ``data.reports`` like the chat and the
Excel import (audited with the source "miniapp").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from core.services import Services

__all__ = ["application_routes", "routes"]

# The API module is imported when the routes are made, not with the package: the chat's
# buttons import miniapp.texts, and miniapp.api imports the chat's wording in turn.


def routes(services: Services, *, bot_token: str) -> list[BaseRoute]:
    """The Mini App's routes (see `miniapp.api.routes`)."""
    from miniapp import api

    return api.routes(services, bot_token=bot_token)


def application_routes(application: Any) -> list[BaseRoute]:
    """The Mini App of a running bot: its services (database, clock) and its token."""
    from core.services import services

    return routes(services(application), bot_token=application.bot.token)
