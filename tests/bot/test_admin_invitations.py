"""/kutsu: staff invite people in the chat; links work once, expire and can be cancelled."""

from __future__ import annotations

import re

from data import people
from data.models import Invitation, Role

from .conftest import BotHarness
from .test_admin_support import person, staff

LINK = re.compile(r"https://t\.me/mittaribotti_bot\?start=([A-Za-z0-9_-]+)")


def _link(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match.group(0)


async def test_staff_invites_a_contact_who_registers_with_role_and_division(
    bot: BotHarness,
) -> None:
    sanna = staff(bot, 2001)
    await sanna.send("/kutsu")
    assert "Kenet kutsut?" in sanna.last.text
    await sanna.press("Toimialan yhteyshenkilö")
    assert "Minkä toimialan puolesta" in sanna.last.text
    await sanna.press("KUVA – Kulttuurin ja vapaa-ajan toimiala")
    text = sanna.last.text
    assert "Kutsu luotu: toimialan yhteyshenkilö, KUVA" in text
    assert "9.11.2026 10.00" in text  # seven days from 2.11.2026 10.00 Helsinki time
    url = _link(text)
    token = LINK.search(url).group(1)  # type: ignore[union-attr]
    assert len(token) <= 64

    aino = bot.user(2002, "Aino")
    await aino.open_link(url)
    assert "Tervetuloa, Aino" in aino.last.text
    registered = person(bot, 2002)
    assert registered is not None and registered.role_set == {Role.CONTACT}
    assert "Aino hyväksyi kutsusi (toimialan yhteyshenkilö)." in sanna.last.text


async def test_a_coordinator_invitation_needs_no_division(bot: BotHarness) -> None:
    sanna = staff(bot, 2011)
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    url = _link(sanna.last.text)
    kaisa = bot.user(2012, "Kaisa")
    await kaisa.open_link(url)
    registered = person(bot, 2012)
    assert registered is not None and registered.role_set == {Role.COORDINATOR}
    assert registered.division_id is None


async def test_a_link_works_once_and_not_after_it_expires(bot: BotHarness) -> None:
    sanna = staff(bot, 2021)
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    url = _link(sanna.last.text)
    await bot.user(2022, "Kaisa").open_link(url)
    reuser = bot.user(2023, "Ville")
    await reuser.open_link(url)
    assert "on jo käytetty" in reuser.last.text
    assert person(bot, 2023) is None

    await sanna.send("/kutsu")
    await sanna.press("Strategiayksikön asiantuntija")
    late = _link(sanna.last.text)
    bot.clock.advance(days=7, minutes=1)
    await reuser.open_link(late)
    assert "vanhentunut" in reuser.last.text
    assert person(bot, 2023) is None


async def test_cancelling_an_invitation_from_its_message_stops_the_link(bot: BotHarness) -> None:
    sanna = staff(bot, 2031)
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    url = _link(sanna.last.text)
    await sanna.press("Peru tämä kutsu")
    assert "linkki ei enää toimi" in sanna.last.text
    outsider = bot.user(2032, "Ville")
    await outsider.open_link(url)
    assert "peruttu" in outsider.last.text
    assert person(bot, 2032) is None


async def test_open_invitations_are_listed_and_can_be_cancelled_from_the_list(
    bot: BotHarness,
) -> None:
    sanna = staff(bot, 2041)
    with bot.db.transaction() as session:
        people.create_invitation(session, Role.STAFF, now=bot.clock())  # from the command line
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    await sanna.send("/kutsu")
    await sanna.press("Avoimet kutsut (2)")
    listing = sanna.last.text
    assert (
        "1. strategiayksikön asiantuntija – voimassa 9.11.2026 10.00 asti – luonut komentorivi"
        in (listing)
    )
    assert "2. koordinaattori – voimassa 9.11.2026 10.00 asti – luonut Sanna" in listing
    await sanna.press("Peru kutsu 1")
    assert "Avoimet kutsut (1):" in sanna.last.text
    assert "komentorivi" not in sanna.last.text
    with bot.db.session() as session:
        revoked = [i for i in session.query(Invitation) if i.revoked_at is not None]
        assert [i.role for i in revoked] == [Role.STAFF]


async def test_a_used_invitation_cannot_be_cancelled_afterwards(bot: BotHarness) -> None:
    sanna = staff(bot, 2051)
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    url = _link(sanna.last.text)
    await bot.user(2052, "Kaisa").open_link(url)
    answer = await sanna.press("Peru tämä kutsu")
    assert answer.show_alert and "ei voi enää perua" in (answer.text or "")
    registered = person(bot, 2052)
    assert registered is not None and registered.active


async def test_closing_the_menu_creates_nothing(bot: BotHarness) -> None:
    sanna = staff(bot, 2061)
    await sanna.send("/kutsu")
    await sanna.press("Sulje")
    assert sanna.last.text == "Suljettu."
    assert sanna.last.buttons == []
    with bot.db.session() as session:
        assert session.query(Invitation).count() == 0
