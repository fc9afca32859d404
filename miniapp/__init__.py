"""The Telegram Mini App: a division's whole form on one page, inside the chat.

`routes` gives the Starlette routes (``/app/`` page and static files, ``/app/api/…`` JSON)
that the bot's HTTP server mounts in webhook and in polling mode. The page is plain
HTML/CSS/JavaScript under ``static/`` (no build step); the API checks Telegram's signed init
data, the person's role and division as the chat does, and saves through ``data.reports``
like the chat and the Excel import (audited with the source "miniapp").
"""

from __future__ import annotations

from miniapp.api import routes

__all__ = ["routes"]
