"""Every message to another person goes through the outbox (``delivery.notices``), one kind
per test: a role change, access removed, an invitation accepted, a report reopened, a
report submitted. Telegram refuses the first try to the recipient (502, known not
delivered); the message still arrives, exactly once, and its outbox row is *sent* — on main
these handlers called Telegram after their commit and a failed call was only logged.

The kill test is ``test_durable_notices_process.py``.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from data.models import OutboxMessage, Role
from delivery.outbox import OWNER_KEY
from localtg import LocalUser

from .conftest import BotHarness
from .test_admin_support import coordinator, report_division, staff, submit
from .test_submit import SUBMIT, SUBMIT_EMPTY

LINK = re.compile(r"https://t\.me/mittaribotti_bot\?start=[A-Za-z0-9_-]+")


def _refuse_once(bot: BotHarness, *users: LocalUser) -> None:
    for user in users:
        bot.api.fail_next("sendMessage", "502", chat_id=user.id)


def _told_once(bot: BotHarness, user: LocalUser, words: str) -> None:
    """``user`` got exactly one message with ``words``, and it was an outbox notice, sent."""
    assert sum(words in text for text in user.texts()) == 1, user.texts()
    with bot.db.session() as session:
        rows = [
            row
            for row in session.scalars(
                select(OutboxMessage).where(OutboxMessage.chat_id == user.id)
            )
            if words in str(row.params.get("text", ""))
        ]
    assert [(row.status, row.params[OWNER_KEY][0], row.paced) for row in rows] == [
        ("sent", "notice", True)
    ]


async def test_a_person_whose_roles_change_is_told_through_the_outbox(bot: BotHarness) -> None:
    sanna = staff(bot, 8101)
    aino = bot.contact(8102, "KUVA", "Aino")
    await aino.start()
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    _refuse_once(bot, aino)
    await sanna.press("Koordinaattori")
    _told_once(bot, aino, "Roolisi muuttuivat: toimialan yhteyshenkilö, koordinaattori.")


async def test_a_person_whose_access_is_removed_is_told_through_the_outbox(
    bot: BotHarness,
) -> None:
    sanna = staff(bot, 8111)
    aino = bot.contact(8112, "KUVA", "Aino")
    await aino.start()
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    await sanna.press("Poista käyttöoikeus")
    _refuse_once(bot, aino)
    await sanna.press("Kyllä, poista käyttöoikeus")
    _told_once(bot, aino, "Käyttöoikeutesi tähän bottiin on poistettu.")


async def test_the_inviter_is_told_of_an_accepted_invitation_through_the_outbox(
    bot: BotHarness,
) -> None:
    sanna = staff(bot, 8121)
    await sanna.send("/kutsu")
    await sanna.press("Toimialan yhteyshenkilö")
    await sanna.press("KUVA – Kulttuurin ja vapaa-ajan toimiala")
    link = LINK.search(sanna.last.text)
    assert link is not None
    aino = bot.user(8122, "Aino")
    _refuse_once(bot, sanna)
    await aino.open_link(link.group(0))
    assert "Tervetuloa, Aino" in aino.last.text
    _told_once(bot, sanna, "Aino hyväksyi kutsusi (toimialan yhteyshenkilö).")


async def test_contacts_and_coordinators_are_told_of_a_reopened_report_through_the_outbox(
    bot: BotHarness,
) -> None:
    aino = bot.contact(8131, "KUVA", "Aino")
    await aino.start()
    report_division(bot, 8131, "KUVA")
    submit(bot, 8131, "KUVA")
    kaisa = coordinator(bot, 8132, "Kaisa")
    olli = coordinator(bot, 8133, "Olli")
    await olli.start()
    await kaisa.send("/tilanne")
    await kaisa.press("Avaa uudelleen: KUVA")
    _refuse_once(bot, aino, olli)
    await kaisa.press("Kyllä, avaa uudelleen")
    _told_once(bot, aino, "Koordinaattori Kaisa avasi toimialasi raportin (KUVA) uudelleen.")
    _told_once(bot, olli, "Kaisa avasi toimialan KUVA – Kulttuurin ja vapaa-ajan toimiala")


async def test_coordinators_are_told_of_a_submitted_report_through_the_outbox(
    bot: BotHarness,
) -> None:
    aino = bot.contact(8141, "KUVA", "Aino")
    bot.register(8142, Role.COORDINATOR, name="Kaisa")
    kaisa = bot.user(8142, "Kaisa", has_started=True)
    await aino.send("/valmis")
    await aino.press(SUBMIT)
    _refuse_once(bot, kaisa)
    await aino.press(SUBMIT_EMPTY)
    _told_once(bot, kaisa, "Kulttuurin ja vapaa-ajan toimiala lähetti vuoden 2026 raporttinsa.")
