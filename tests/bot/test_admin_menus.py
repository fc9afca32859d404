"""The "/" command menu: each person sees their own commands, in their language."""

from __future__ import annotations

import re

from data.models import Role

from .conftest import BotHarness
from .test_admin_support import staff

CONTACT_COMMANDS = ["raportoi", "tyytyvaisyys", "tila", "muokkaa", "valmis"]
COMMON = ["start", "ohje", "kieli", "peru", "omat_tiedot"]


def _commands(menu: list[tuple[str, str]]) -> list[str]:
    return [command for command, _ in menu]


async def test_people_the_bot_does_not_know_see_only_start_help_and_language(
    bot: BotHarness,
) -> None:
    stranger = bot.user(7001, "Ville", language="fi")
    assert stranger.command_menu() == [
        ("start", "Aloita ja näytä, mitä voit tehdä"),
        ("ohje", "Ohje nykyiseen vaiheeseen ja komentosi"),
        ("kieli", "Vaihda kieli (suomi, svenska, English)"),
    ]
    swede = bot.user(7002, "Sven", language="sv")
    assert _commands(swede.command_menu()) == ["start", "ohje", "kieli"]
    assert swede.command_menu()[0][1] != "Aloita ja näytä, mitä voit tehdä"
    assert _commands(bot.api.commands_for(None, "")) == ["start", "ohje", "kieli"]


async def test_a_new_contact_gets_the_contact_menu_when_registering(bot: BotHarness) -> None:
    sanna = staff(bot, 7011)
    await sanna.send("/kutsu")
    await sanna.press("Toimialan yhteyshenkilö")
    await sanna.press("SOTE – Sosiaali- ja terveystoimiala")
    link = re.search(r"https://t\.me/\S+", sanna.last.text)
    assert link
    aino = bot.user(7012, "Aino", language="fi")
    await aino.open_link(link.group(0))
    menu = aino.command_menu()
    assert _commands(menu) == CONTACT_COMMANDS + COMMON
    assert ("tila", "Toimialasi tilanne ja mitä puuttuu") in menu
    # Another chat is not affected.
    assert _commands(bot.user(7013).command_menu()) == ["start", "ohje", "kieli"]


async def test_the_menu_follows_the_app_language_until_one_is_chosen(bot: BotHarness) -> None:
    bot.register(7021, Role.COORDINATOR, name="Sven")
    sven = bot.user(7021, "Sven", language="sv")
    await bot.restart()  # start-up installs every registered person's menu
    swedish = dict(sven.command_menu())
    assert set(swedish) == {"tilanne", "muistuta", "aikataulu", *COMMON}
    assert swedish["tilanne"] == "Alla sektorers läge i en överblick"
    await sven.send("/kieli")
    await sven.press("English")
    assert dict(sven.command_menu())["tilanne"] == "Every division at a glance"
    await sven.send("/kieli")
    await sven.press("Suomi")
    finnish = "Kaikkien toimialojen tilanne yhdellä silmäyksellä"
    assert dict(sven.command_menu())["tilanne"] == finnish


async def test_people_with_several_roles_see_each_command_once(bot: BotHarness) -> None:
    bot.register(7031, Role.COORDINATOR, Role.STAFF, name="Kaisa", language="fi")
    kaisa = bot.user(7031, "Kaisa")
    await bot.restart()
    commands = _commands(kaisa.command_menu())
    assert commands.count("aikataulu") == 1
    assert {"tilanne", "muistuta", "luonnos", "kutsu", "henkilot"} <= set(commands)
    assert "raportoi" not in commands
