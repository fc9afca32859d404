"""/omat_tiedot and invitation links: a person sees what is stored about them; links once."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from data import people, privacy
from data.models import ConversationDraft, Invitation, Role

from .conftest import BotHarness
from .test_admin_support import report_entity, staff


async def test_a_contact_sees_what_is_stored_and_gets_it_as_json(bot: BotHarness) -> None:
    aino = bot.contact(8101, "KUVA", "Aino")
    report_entity(bot, 8101, "KUVA_KIRJASTO")
    await aino.send("/omat_tiedot")
    text = "\n".join(aino.texts())
    assert "Botti on tallentanut sinusta nämä tiedot:" in text
    assert "Nimi: Aino" in text
    assert "Telegram-tunnus: 8101" in text
    assert "Kieli: ei valittu (Telegramin kielen mukaan)" in text
    assert "Roolit: toimialan yhteyshenkilö" in text
    assert "Toimiala: KUVA – Kulttuurin ja vapaa-ajan toimiala" in text
    assert re.search(r"Liittynyt: \d{1,2}\.\d{1,2}\.2026", text)
    answers = int(re.search(r"Tallentamasi vastaukset: (\d+)", text).group(1))  # type: ignore[union-attr]
    assert answers >= 3
    assert re.search(r"Muutoslokin rivit, .*: [1-9]\d*", text)
    assert "Käyttöoikeutesi on poistettu" not in text
    (document,) = aino.documents
    assert document.filename == "omat_tiedot.json"
    exported = json.loads(document.content)
    assert exported["person"]["name"] == "Aino" and exported["person"]["telegram_user_id"] == 8101
    stored = (
        len(exported["participation_answers"])
        + len(exported["none_answers"])
        + len(exported["satisfaction_answers"])
    )
    assert stored == answers


async def test_someone_whose_access_was_removed_still_sees_their_data(bot: BotHarness) -> None:
    kalle = bot.contact(8102, "KYMP", "Kalle")
    with bot.db.transaction() as session:
        person = people.person_by_telegram_id(session, 8102)
        assert person is not None
        people.deactivate(session, person, actor_id=None, reason="remove")
    await kalle.send("/omat_tiedot")
    assert "Nimi: Kalle" in "\n".join(kalle.texts())
    assert "Käyttöoikeutesi on poistettu; ilmoittamasi tiedot säilyvät." in "\n".join(kalle.texts())
    assert len(kalle.documents) == 1


async def test_a_stranger_is_told_nothing_is_stored(bot: BotHarness) -> None:
    ville = bot.user(8103, "Ville")
    await ville.send("/omat_tiedot")
    assert ville.texts()[-1] == (
        "Sinusta ei ole tallennettu tietoja: et ole liittynyt kutsulinkillä."
    )
    assert not ville.documents


async def test_the_answer_is_in_the_persons_language(bot: BotHarness) -> None:
    bot.register(8104, Role.COORDINATOR, name="Sven", language="sv")
    sven = bot.user(8104, "Sven", language="sv")
    await sven.send("/omat_tiedot")
    assert "Det här har boten sparat om dig:" in "\n".join(sven.texts())
    assert "Språk: Svenska" in "\n".join(sven.texts())
    assert "Roller: koordinator" in "\n".join(sven.texts())


async def test_every_role_has_omat_tiedot_in_its_menu(bot: BotHarness) -> None:
    for user_id, role in ((8111, Role.CONTACT), (8112, Role.COORDINATOR), (8113, Role.STAFF)):
        bot.register(user_id, role, division="KUVA" if role is Role.CONTACT else None)
    await bot.restart()  # start-up installs every registered person's menu
    for user_id in (8111, 8112, 8113):
        assert "omat_tiedot" in dict(bot.user(user_id).command_menu())
    assert "omat_tiedot" not in dict(bot.user(8114).command_menu())


async def test_an_invitation_link_is_shown_once_and_stored_only_hashed(bot: BotHarness) -> None:
    sanna = staff(bot, 8121)
    await sanna.send("/kutsu")
    await sanna.press("Koordinaattori")
    link = re.search(r"https://t\.me/\S+\?start=(\S+)", sanna.last.text)
    assert link
    token = link.group(1)
    with bot.db.session() as session:
        rows = session.execute(select(Invitation.__table__)).all()
    assert len(rows) == 1 and token not in repr(rows)
    assert rows[0].token_hash == people.hash_token(token)
    await sanna.send("/kutsu")
    await sanna.press("Avoimet kutsut (1)")
    assert token not in sanna.last.text  # the list never shows the link again
    kaisa = bot.user(8122, "Kaisa")
    await kaisa.open_link(link.group(0))
    assert "Tervetuloa, Kaisa!" in kaisa.texts()[-1]


async def test_omat_tiedot_in_the_middle_of_a_report_leaves_it_open(bot: BotHarness) -> None:
    aino = bot.contact(8131, "KUVA", "Aino")
    await aino.send("/raportoi")
    question = aino.texts()[-1]
    await aino.send("/omat_tiedot")
    assert len(aino.documents) == 1
    with bot.db.session() as session:
        (draft,) = session.scalars(select(ConversationDraft)).all()
        assert not draft.paused
    await aino.send("/ohje")  # the report's own help, then the same question again
    assert aino.texts()[-1] == question


async def test_after_erasure_the_bot_no_longer_knows_the_person(bot: BotHarness) -> None:
    aino = bot.contact(8141, "KUVA", "Aino")
    report_entity(bot, 8141, "KUVA_KIRJASTO")
    with bot.db.transaction() as session:
        assert privacy.erase_person(session, 8141, actor_id=None) is not None
    await aino.send("/omat_tiedot")
    assert aino.texts()[-1] == (
        "Sinusta ei ole tallennettu tietoja: et ole liittynyt kutsulinkillä."
    )
    await aino.send("/raportoi")
    assert "Sinulla ei ole vielä käyttöoikeutta" in aino.texts()[-1]
    assert not aino.documents
