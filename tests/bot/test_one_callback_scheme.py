"""One callback scheme and one UI vocabulary (issue 16): every button's data — guided flows,
administration menus, /kieli, the Excel confirmation and the reminders — is built and read
by ``core.codec``, which checks Telegram's 64-byte limit once; the stale-button answer,
Back, Close and the role names are written once, in ``bot.ui``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from core import codec
from delivery.courier import reminder_keyboard
from schedules.notices import Action, Notice

from .conftest import BotHarness
from .test_admin_support import coordinator, staff

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "core", "delivery", "schedules", "sheets", "miniapp")


def _all_data(markup_rows: list[list[dict[str, object]]]) -> list[str]:
    return [str(b["callback_data"]) for row in markup_rows for b in row if "callback_data" in b]


def _decodes(data: str) -> bool:
    return codec.decode(data) is not None or codec.action(data) is not None


def test_the_shared_words_are_written_once() -> None:
    literal = re.compile(r"""["']This button is no longer valid\.["']""")
    places = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if literal.search(path.read_text(encoding="utf-8"))
    ]
    assert places == ["bot/ui.py"]
    back = re.compile(r"""N_\(["']‹ Back["']\)""")
    assert [
        str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py") if back.search(p.read_text())
    ] == ["bot/ui.py"]


def test_the_codec_refuses_what_telegram_or_its_reader_would_not_take() -> None:
    assert codec.button("muistuta", "div", 3) == "muistuta:div:3"
    assert codec.action("muistuta:div:3") == codec.Action("muistuta", "div", ("3",))
    for bad in (("muistuta", "div", "Kulttuuri ja vapaa-aika"), ("ä", "x"), ("a", "b", "x" * 25)):
        with pytest.raises(ValueError):
            codec.button(*bad)
    with pytest.raises(ValueError):
        codec.button("a" * 12, "b" * 12, *(["1" * 24] * 2))  # 65 bytes
    for forged in ("muistuta:div:²", "muistuta", "x:y:" + "1:" * 6, "a:b:c d"):
        action = codec.action(forged)
        assert action is None or action.id_arg() is None, forged


def test_reminder_buttons_are_codec_buttons() -> None:
    notice = Notice(
        person_id=1,
        chat_id=1,
        language="fi",
        text="",
        actions=(Action.REPORT_NOW, Action.SNOOZE),
        deadline_code="listatekstit",
        deadline_date=dt.date(2026, 11, 20),
        kind="scheduled",
        ledger_id=812,
    )
    markup = reminder_keyboard(notice)
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == ["report:now", "rem:snooze:812"]
    assert codec.action("rem:snooze:812") == codec.Action("rem", "snooze", ("812",))


async def test_every_menu_button_decodes_with_the_one_codec(bot: BotHarness) -> None:
    kaisa = coordinator(bot, 4801)
    sanna = staff(bot, 4802)
    aino = bot.contact(4803, "KUVA")
    shown: list[str] = []
    await aino.send("/kieli")
    shown += _all_data(aino.last.inline_keyboard)
    await aino.send("/raportoi")
    shown += _all_data(aino.last.inline_keyboard)
    await kaisa.send("/muistuta")
    shown += _all_data(kaisa.last.inline_keyboard)
    await sanna.send("/kutsu")
    shown += _all_data(sanna.last.inline_keyboard)
    await sanna.press("Toimialan yhteyshenkilö")
    shown += _all_data(sanna.last.inline_keyboard)
    assert len(shown) > 15
    assert all(_decodes(d) and len(d.encode()) <= codec.MAX_BYTES for d in shown), shown
    assert "lang:sv" in shown


async def test_an_older_admin_menu_is_refused_like_an_older_question(bot: BotHarness) -> None:
    """A coordinator's first /muistuta menu, after a second one was sent, changes nothing;
    the newest menu and the messages that follow it still work."""
    bot.contact(4811, "SOTE")
    kaisa = coordinator(bot, 4810)
    await kaisa.send("/muistuta")
    first = kaisa.last
    await kaisa.send("/muistuta")
    second = kaisa.last
    record = await kaisa.press("SOTE", message=first)
    assert record.text == "Tämä painike ei ole enää voimassa." and record.show_alert
    assert first.text == second.text  # nothing was sent from the old menu
    await kaisa.press("SOTE", message=second)
    assert kaisa.last.text.startswith("Muistutukset (SOTE): ")
    sanna = staff(bot, 4812)
    await sanna.send("/kutsu")
    old = sanna.last
    await sanna.send("/kutsu")
    record = await sanna.press("Koordinaattori", message=old)
    assert record.text == "Tämä painike ei ole enää voimassa."
    await sanna.press("Koordinaattori")
    assert "Kutsu luotu" in sanna.last.text
