"""/tilanne: every division at a glance as text and chart; coordinators reopen reports."""

from __future__ import annotations

import io
import os
import re

from PIL import Image

from data.models import ReportState, Role

from .conftest import BotHarness
from .test_admin_support import (
    YEAR,
    coordinator,
    division_id,
    report_division,
    report_entity,
    staff,
    submit,
)

CHART_COPY = os.environ.get("ADMIN_CHART_COPY")  # set to a path to look at the chart


def _png_size(content: bytes) -> tuple[int, int]:
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(content)) as image:
        return image.size


async def test_coordinator_sees_each_division_the_next_deadline_and_a_chart(
    bot: BotHarness,
) -> None:
    bot.contact(4001, "KUVA", "Aino")
    report_entity(bot, 4001, "KUVA_KIRJASTO", levels_with_methods=(1, 2))
    report_entity(bot, 4001, "KUVA_LIIKUNTA", satisfaction=False, levels_with_methods=(1,))
    kaisa = coordinator(bot, 4002)
    await kaisa.send("/tilanne")

    photo, text = kaisa.messages[-2], kaisa.messages[-1]
    assert photo.photo is not None and photo.text == "Tilanne 2.11.2026"
    width, height = _png_size(photo.photo.content)
    assert width >= 1200 and height >= 500
    if CHART_COPY:
        with open(CHART_COPY, "wb") as handle:
            handle.write(photo.photo.content)
    assert "upload_photo" in {a.action for a in bot.api.chat_actions if a.chat_id == 4002}

    body = text.text
    assert body.startswith("Tilanne 2026")
    kuva = body[body.index("KUVA Kulttuurin ja vapaa-ajan toimiala") :].split("\n\n")[0]
    assert "KUVA Kulttuurin ja vapaa-ajan toimiala – kesken" in kuva
    assert "Palvelukokonaisuuksia raportoitu: 2/5" in kuva
    assert "Tasot, joilla tapoja: 1, 2" in kuva
    assert "Tyytyväisyyden mittaus kartoitettu: 1/5" in kuva
    assert re.search(r"Viimeisin muutos: \d{1,2}\.\d{1,2}\.\d{4} \d{1,2}\.\d{2}", kuva)
    kymp = body[body.index("KYMP") :].split("\n\n")[0]
    assert "Palvelukokonaisuuksia raportoitu: 0/4" in kymp
    assert "Tasot, joilla tapoja: –" in kymp
    assert "Viimeisin muutos: ei vielä ilmoituksia" in kymp
    assert "Seuraava määräaika: 20.11.2026 (18 päivän päästä)" in body
    assert "Listatekstit ja Excel toimitettava" in body
    assert "Vielä keskeneräiset: KYMP, KASKO, SOTE, KUVA" in body
    assert "/muistuta" in body
    assert text.buttons == []  # nothing is submitted, so nothing to reopen


async def test_complete_and_submitted_divisions_are_not_called_incomplete(
    bot: BotHarness,
) -> None:
    bot.contact(4011, "KUVA", "Aino")
    bot.contact(4012, "SOTE", "Saara")
    report_division(bot, 4011, "KUVA")
    submit(bot, 4011, "KUVA")
    report_division(bot, 4012, "SOTE")
    kaisa = coordinator(bot, 4013)
    await kaisa.send("/tilanne")
    body = kaisa.last.text
    assert "KUVA Kulttuurin ja vapaa-ajan toimiala – lähetetty" in body
    assert "Vielä keskeneräiset: KYMP, KASKO" in body
    assert "Valmiit, mutta ei lähetetty: SOTE" in body
    assert kaisa.last.buttons == [["Avaa uudelleen: KUVA"]]


async def test_staff_see_the_overview_but_cannot_reopen(bot: BotHarness) -> None:
    bot.contact(4021, "KUVA", "Aino")
    report_division(bot, 4021, "KUVA")
    submit(bot, 4021, "KUVA")
    sanna = staff(bot, 4022)
    await sanna.send("/tilanne")
    assert "Tilanne 2026" in sanna.last.text
    assert sanna.last.buttons == []
    assert len(sanna.photos) == 1
    answer = await sanna.press_data(f"tilanne:reopen:{division_id(bot, 'KUVA')}:{YEAR}")
    assert answer.show_alert and answer.text == "Sinulla ei ole oikeutta tähän."
    with bot.db.session() as session:
        from data.progress import find_round, report_state

        rnd = find_round(session, YEAR)
        assert rnd is not None
        assert report_state(session, rnd.id, division_id(bot, "KUVA")) is ReportState.SUBMITTED


async def test_reopening_tells_the_contacts_and_the_other_coordinators(bot: BotHarness) -> None:
    aino = bot.contact(4031, "KUVA", "Aino")
    await aino.start()
    other_contact = bot.contact(4032, "KYMP", "Kalle")
    await other_contact.start()
    report_division(bot, 4031, "KUVA")
    submit(bot, 4031, "KUVA")
    kaisa = coordinator(bot, 4033, "Kaisa")
    olli = coordinator(bot, 4034, "Olli")
    await olli.start()
    await kaisa.send("/tilanne")
    overview = kaisa.last
    await kaisa.press("Avaa uudelleen: KUVA")
    answer = await kaisa.press("Kyllä, avaa uudelleen")
    assert answer.text == "Avattu uudelleen."
    assert "KUVA Kulttuurin ja vapaa-ajan toimiala – avattu uudelleen" in overview.text
    assert overview.buttons == []
    assert "Toimialan KUVA raportti on avattu uudelleen" in kaisa.last.text
    assert "yhteyshenkilöille (1)" in kaisa.last.text
    assert "Koordinaattori Kaisa avasi toimialasi raportin (KUVA) uudelleen." in aino.last.text
    assert "Kaisa avasi toimialan KUVA – Kulttuurin ja vapaa-ajan toimiala raportin" in (
        olli.last.text
    )
    assert "avasi" not in " ".join(other_contact.texts())
    # The contact can change the answers again.
    report_entity(bot, 4031, "KUVA_KIRJASTO", levels_with_methods=(1,))


async def test_an_old_reopen_button_changes_nothing(bot: BotHarness) -> None:
    bot.contact(4041, "KUVA", "Aino")
    report_division(bot, 4041, "KUVA")
    submit(bot, 4041, "KUVA")
    kaisa = coordinator(bot, 4042)
    await kaisa.send("/tilanne")
    data = kaisa.last.find_button("Avaa uudelleen: KUVA")
    assert data is not None
    await kaisa.press("Avaa uudelleen: KUVA")
    confirm = kaisa.last.find_button("Kyllä, avaa uudelleen")
    assert confirm is not None
    await kaisa.press("Kyllä, avaa uudelleen")
    answer = await kaisa.press_data(str(data["callback_data"]))
    assert answer.show_alert
    assert answer.text == "Toimialan KUVA raporttia ei ole lähetetty, joten avattavaa ei ole."
    answer = await kaisa.press_data(str(confirm["callback_data"]))
    assert answer.show_alert
    assert answer.text == "Toimialan KUVA raporttia ei ole lähetetty, joten avattavaa ei ole."


async def test_a_contact_cannot_reopen_even_their_own_division(bot: BotHarness) -> None:
    aino = bot.contact(4051, "KUVA", "Aino")
    report_division(bot, 4051, "KUVA")
    submit(bot, 4051, "KUVA")
    await aino.send("/tilanne")
    assert aino.last.text == "Sinulla ei ole oikeutta tähän."
    answer = await aino.press_data(f"tilanne:reopen:{division_id(bot, 'KUVA')}:{YEAR}")
    assert answer.text == "Sinulla ei ole oikeutta tähän."
    with bot.db.session() as session:
        from data.progress import find_round, report_state

        rnd = find_round(session, YEAR)
        assert rnd is not None
        assert report_state(session, rnd.id, division_id(bot, "KUVA")) is ReportState.SUBMITTED


async def test_overview_in_swedish(bot: BotHarness) -> None:
    bot.register(4061, Role.COORDINATOR, name="Sven", language="sv")
    sven = bot.user(4061, "Sven", language="sv")
    await sven.send("/tilanne")
    assert sven.photos and sven.messages[-2].text == "Läget 2.11.2026"
    assert "Läget 2026" in sven.last.text
    assert "Nästa tidsfrist: 20.11.2026 (om 18 dagar)" in sven.last.text


async def test_reopening_asks_to_confirm_and_cancel_keeps_the_report_submitted(
    bot: BotHarness,
) -> None:
    bot.contact(4071, "KUVA", "Aino")
    report_division(bot, 4071, "KUVA")
    submit(bot, 4071, "KUVA")
    kaisa = coordinator(bot, 4072)
    await kaisa.send("/tilanne")
    await kaisa.press("Avaa uudelleen: KUVA")
    question = kaisa.last
    assert question.text == (
        "Avataanko toimialan KUVA lähetetty raportti uudelleen? Sen yhteyshenkilöt voivat "
        "sitten muuttaa vastauksia, ja raportti on lähetettävä uudelleen komennolla /valmis."
    )
    assert question.buttons == [["Kyllä, avaa uudelleen", "Pidä lähetettynä"]]
    assert _state(bot, "KUVA") is ReportState.SUBMITTED  # one tap reopens nothing
    await kaisa.press("Pidä lähetettynä")
    assert question.text == "Raporttia ei avattu uudelleen; se pysyy lähetettynä."
    assert question.buttons == []
    assert _state(bot, "KUVA") is ReportState.SUBMITTED


async def test_reopening_a_division_without_contacts_says_so_plainly(bot: BotHarness) -> None:
    bot.contact(4081, "KUVA", "Aino")
    report_division(bot, 4081, "KUVA")
    submit(bot, 4081, "KUVA")
    with bot.db.transaction() as session:
        from data import people

        contact = people.person_by_telegram_id(session, 4081)
        assert contact is not None
        people.deactivate(session, contact, actor_id=None, reason="test")
    kaisa = coordinator(bot, 4082)
    await kaisa.send("/tilanne")
    await kaisa.press("Avaa uudelleen: KUVA")
    await kaisa.press("Kyllä, avaa uudelleen")
    assert _state(bot, "KUVA") is ReportState.REOPENED
    assert kaisa.last.text == (
        "Toimialan KUVA raportti on avattu uudelleen. Toimialalla ei ole vielä "
        "yhteyshenkilöä, joten kenellekään ei kerrottu. Strategiayksikkö voi kutsua "
        "yhteyshenkilön komennolla /kutsu."
    )
    assert "(0)" not in " ".join(kaisa.texts())


def _state(bot: BotHarness, code: str) -> ReportState:
    from data.progress import find_round, report_state

    with bot.db.session() as session:
        rnd = find_round(session, YEAR)
        assert rnd is not None
        return report_state(session, rnd.id, division_id(bot, code))
