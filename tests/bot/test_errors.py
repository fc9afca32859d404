"""A failing handler is logged and the person told; the process keeps no list of errors."""

from __future__ import annotations

import logging

import pytest

from .conftest import BotHarness


async def test_a_failed_reply_is_logged_and_told_but_no_error_list_grows(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.user(3001)
    for _ in range(3):
        bot.api.fail_next("sendMessage", "500", chat_id=3001)
        with caplog.at_level(logging.ERROR, logger="bot.app"):
            await user.send("/ohje")
        assert user.last.text.startswith("Jokin meni vikaan")
    assert len(bot.take_errors()) == 3
    assert len([r for r in caplog.records if r.name == "bot.app"]) == 3
    assert "errors" not in bot.app.bot_data
