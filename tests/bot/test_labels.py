"""Labels and terminology as people see them in the chat: one Back label in the admin
menus, "Your roles" before several roles, English "Status" and "agenda item text"."""

from __future__ import annotations

from data.models import Role

from .conftest import BotHarness
from .test_admin_support import staff


def _labels(user_buttons: list[list[str]]) -> list[str]:
    return [label for row in user_buttons for label in row]


async def test_admin_menus_use_the_one_back_label(bot: BotHarness) -> None:
    sanna = staff(bot, 6001, "Sanna")
    bot.contact(6002, "KUVA", "Aino")
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    card = _labels(sanna.last.buttons)
    assert "‹ Takaisin" in card
    await sanna.press("Poista käyttöoikeus")
    assert "‹ Takaisin" in _labels(sanna.last.buttons)
    await sanna.press("‹ Takaisin")
    await sanna.press("Vaihda toimiala")
    assert "‹ Takaisin" in _labels(sanna.last.buttons)
    shown = [label for message in sanna.messages for label in _labels(message.buttons)]
    assert not [label for label in shown if "«" in label or "←" in label]


async def test_several_roles_are_introduced_in_the_plural(bot: BotHarness) -> None:
    bot.register(6011, Role.COORDINATOR, Role.STAFF, name="Sven", language="sv")
    sven = bot.user(6011, "Sven", language="sv")
    await sven.send("/ohje")
    assert sven.last.text.startswith("Dina roller: koordinator, ")
    bot.register(6012, Role.COORDINATOR, name="Ann", language="en")
    ann = bot.user(6012, "Ann", language="en")
    await ann.send("/ohje")
    assert ann.last.text.startswith("Your role: coordinator.")
    bot.register(6013, Role.COORDINATOR, Role.STAFF, name="Bo", language="en")
    bo = bot.user(6013, "Bo", language="en")
    await bo.send("/ohje")
    assert bo.last.text.startswith("Your roles: coordinator, ")
    assert "agenda item text" in bo.last.text and "list text" not in bo.last.text


async def test_english_overview_is_called_status(bot: BotHarness) -> None:
    bot.register(6021, Role.COORDINATOR, name="Ann", language="en")
    ann = bot.user(6021, "Ann", language="en")
    await ann.send("/tilanne")
    assert ann.messages[-2].text == "Status 2 Nov 2026"
    assert ann.last.text.startswith("Status 2026")
    assert "Situation" not in " ".join(ann.texts())
