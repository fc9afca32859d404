"""A failing handler is logged and the person told; the process keeps no list of errors."""

from __future__ import annotations

import logging

import pytest

from .conftest import BotHarness


async def test_a_failing_handler_is_logged_and_told_but_no_error_list_grows(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.user(3001)
    bot.fail_handling(3001, times=3)
    for _ in range(3):
        before = len(user.messages)
        with caplog.at_level(logging.ERROR, logger="bot.app"):
            await user.send("/ohje")
        assert any(t.startswith("Jokin meni vikaan") for t in user.texts()[before:])
    assert len(bot.take_errors()) == 3
    assert len([r for r in caplog.records if r.name == "bot.app"]) == 3
    assert "errors" not in bot.app.bot_data
