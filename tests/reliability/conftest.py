"""The reliability tests reuse the bot harness of tests/bot (the real Application on the
local Telegram) and its database fixtures."""

from __future__ import annotations

from tests.bot.conftest import bot, clock

__all__ = ["bot", "clock"]
