"""Where the chat offers the Mini App: the "Lomake" menu button, and under /tila and /raportoi.

Only with ``MINIAPP_URL`` set (Telegram opens Mini Apps over https only); without it the
chat offers none of them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

from bot.admin.menus import menus_installed
from bot.localchat import LOCAL_USER_ID
from localtg import DEFAULT_TOKEN
from miniapp import auth
from settings import load_settings
from tests.bot.conftest import BotHarness, Clock, bot, clock  # noqa: F401

PAGE = "https://mittari.example.fi/app/"
ROOT = Path(__file__).resolve().parent.parent.parent


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


def test_local_chat_app_prints_a_local_address_with_init_data_signed_for_the_local_person(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LOCALCHAT_DATABASE_URL": f"sqlite:///{tmp_path / 'local.sqlite3'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        cwd=ROOT,
        env=env,
        input=":rooli yhteyshenkilo KUVA\n:app\n:quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    url = next(word for word in result.stdout.split() if "#tgWebAppData=" in word)
    assert url.startswith("http://127.0.0.1:") and "/app/#" in url
    init_data = unquote(url.split("#tgWebAppData=", 1)[1])
    user = auth.verify(init_data, DEFAULT_TOKEN, dt.datetime.now(dt.UTC))
    assert user.telegram_user_id == LOCAL_USER_ID
