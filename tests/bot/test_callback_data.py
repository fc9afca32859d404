"""Forged or mangled button data is answered as a stale button, never as an error; an edit
that Telegram refuses falls back to a new message or is skipped."""

from __future__ import annotations

import logging

import pytest

from data.models import Role

from .conftest import BotHarness
from .test_admin_support import staff

STALE = "Tämä painike ei ole enää voimassa."
# Superscript two (passes str.isdigit(), int() fails), Arabic-Indic three (int() gives 3),
# full-width one, and ids beyond PostgreSQL's integer.
FORGED = [
    "henk:show:²",
    "henk:show:٣",
    "henk:show:１",
    "henk:show:99999999999",
    "henk:page:99999999999",
    "henk:role:99999999999:staff:1",
    "henk:divs:٣",
    "henk:div:1:99999999999",
    "henk:rm:2147483648",
    "henk:rmok:99999999999",
    "kutsu:div:99999999999",
    "kutsu:div:٣",
    "kutsu:revoke:99999999999:l",
    "tilanne:reopen:99999999999:2026",
    "tilanne:reopen:1:٢٠٢٦",
    "muistuta:div:99999999999",
    "muistuta:div:²",
    "rem:snooze:99999999999",
    "rem:snooze:²",
    "rem:snooze:٣",
]


@pytest.mark.parametrize("data", FORGED)
async def test_forged_numbers_in_buttons_get_the_stale_answer_and_no_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    sanna = staff(bot, 5001)
    bot.register(5001, Role.COORDINATOR, Role.CONTACT, division="KUVA", name="Sanna")
    await sanna.send("/henkilot")
    before = [(m.message_id, m.text) for m in sanna.messages]
    with caplog.at_level(logging.WARNING):
        record = await sanna.press_data(data)
    assert record.answered
    assert record.text is not None and record.text.startswith(STALE)
    assert [(m.message_id, m.text) for m in sanna.messages] == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bot.errors() == []


async def test_double_tapping_a_language_button_changes_the_language_once_quietly(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.register(5101, Role.STAFF, name="Ann")
    ann = bot.user(5101, "Ann", language="en")
    await ann.send("/kieli")
    chooser = ann.message_with_button("Suomi")
    with caplog.at_level(logging.WARNING):
        first = await ann.press("Suomi", message=chooser)
        second = await ann.press_data("lang:fi", message=chooser)
    assert first.answered and second.answered
    assert ann.texts()[-1] == "Kieli: Suomi"
    assert len(ann.messages) == 1  # the chooser became "Kieli: Suomi"; nothing new
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_message_that_cannot_be_edited_gets_the_answer_as_a_new_message(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    bot.register(5201, Role.STAFF, name="Ann")
    ann = bot.user(5201, "Ann")
    await ann.send("/kieli")
    bot.api.fail_next("editMessageText", "400", description="Bad Request: message can't be edited")
    with caplog.at_level(logging.WARNING):
        record = await ann.press("Svenska")
    assert record.answered
    assert ann.texts()[-2:] == ["Valitse kieli:", "Språk: Svenska"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
