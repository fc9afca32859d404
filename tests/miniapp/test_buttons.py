"""Where the chat offers the Mini App: the "Lomake" menu button, and under /tila and /raportoi.

Only with ``MINIAPP_URL`` set (Telegram opens Mini Apps over https only); without it the
chat offers none of them.
"""

from __future__ import annotations

import json

from bot.admin.menus import menus_installed
from settings import load_settings
from tests.bot.conftest import BotHarness, Clock, bot, clock  # noqa: F401

PAGE = "https://mittari.example.fi/app/"


def _web_apps(message: object) -> list[tuple[str, str]]:
    return [
        (str(button["text"]), str(button["web_app"]["url"]))  # type: ignore[index]
        for row in message.inline_keyboard  # type: ignore[attr-defined]
        for button in row
        if "web_app" in button
    ]


def _menu_buttons(harness: BotHarness, chat_id: int) -> list[dict[str, object]]:
    found = []
    for call in harness.api.calls_to("setChatMenuButton"):
        if int(call.params.get("chat_id", 0)) == chat_id:  # type: ignore[arg-type]
            button = call.params.get("menu_button")
            found.append(json.loads(button) if isinstance(button, str) else button)
    return found


async def test_with_miniapp_url_contacts_get_the_form_button_under_tila_and_raportoi(
    bot: BotHarness,  # noqa: F811
) -> None:
    aino = bot.contact(4201, "KUVA")
    bot.settings = load_settings(env={"MINIAPP_URL": "https://mittari.example.fi/"})
    await bot.restart()
    await menus_installed(bot.app)
    assert _menu_buttons(bot, 4201) == [
        {"type": "web_app", "text": "Lomake", "web_app": {"url": PAGE}}
    ]
    await aino.send("/tila")
    assert _web_apps(aino.last) == [("Avaa lomake", PAGE)]
    await aino.send("/raportoi")
    assert ("Avaa lomake", PAGE) in _web_apps(aino.last)
    # A restart with nothing changed sets no button again.
    await bot.restart()
    await menus_installed(bot.app)
    assert len(_menu_buttons(bot, 4201)) == 1


async def test_without_miniapp_url_no_form_button_is_offered(bot: BotHarness) -> None:  # noqa: F811
    aino = bot.contact(4202, "KUVA")
    await bot.restart()
    await menus_installed(bot.app)
    assert _menu_buttons(bot, 4202) == []
    await aino.send("/tila")
    assert _web_apps(aino.last) == []
    await aino.send("/raportoi")
    assert _web_apps(aino.last) == []
