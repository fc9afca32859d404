"""Access: invitations, unknown people, groups, language — through the local Telegram."""

from __future__ import annotations

from data import catalog, people
from data.models import Role

from .conftest import BotHarness


def _invite(bot: BotHarness, role: Role, division: str | None = None, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with bot.db.transaction() as session:
        row = catalog.division_by_code(session, division) if division else None
        return people.create_invitation(
            session, role, division=row, now=bot.clock(), **kwargs
        ).token


async def test_unknown_person_is_told_how_to_get_access_and_sees_no_data(bot: BotHarness) -> None:
    user = bot.user(1001)
    await user.start()
    assert "kutsulinkki" in user.last.text
    await user.send("/tila")
    assert "käyttöoikeutta" in user.last.text
    assert "KUVA" not in " ".join(user.texts())


async def test_invitation_registers_the_contact_with_role_and_division(bot: BotHarness) -> None:
    token = _invite(bot, Role.CONTACT, "KUVA")
    user = bot.user(1002, "Aino")
    await user.start(token)
    assert "Tervetuloa, Aino" in user.last.text
    assert "Kulttuurin ja vapaa-ajan toimiala" in user.last.text
    assert "/raportoi" in user.last.text
    with bot.db.session() as session:
        person = people.active_person(session, 1002)
        assert person is not None and person.role_set == {Role.CONTACT}


async def test_used_expired_and_revoked_links_are_refused_clearly(bot: BotHarness) -> None:
    token = _invite(bot, Role.CONTACT, "SOTE")
    await bot.user(1003).start(token)
    second = bot.user(1004)
    await second.start(token)
    assert "on jo käytetty" in second.last.text
    expired = _invite(bot, Role.STAFF, days=1)
    bot.clock.advance(days=2)
    await second.start(expired)
    assert "vanhentunut" in second.last.text
    with bot.db.transaction() as session:
        inv = people.create_invitation(session, Role.COORDINATOR, now=bot.clock())
        people.revoke_invitation(session, inv.id, actor_id=None)
        revoked = inv.token
    await second.start(revoked)
    assert "peruttu" in second.last.text
    await second.start("not-a-real-token")
    assert "ei kelpaa" in second.last.text
    with bot.db.session() as session:
        assert people.active_person(session, 1004) is None


async def test_in_a_group_the_bot_only_says_it_works_privately(bot: BotHarness) -> None:
    user = bot.user(1005)
    bot.register(1005, Role.COORDINATOR)
    group = bot.api.group(-100200, "Strategiaryhmä")
    await user.send_in(group, "/tilanne")
    assert len(group.messages) == 1
    assert "yksityiskeskusteluissa" in group.messages[0].text


async def test_language_follows_telegram_and_can_be_switched(bot: BotHarness) -> None:
    swede = bot.user(1006, "Sven", language="sv-SE")
    await swede.start()
    assert "Du har ännu inte tillgång" in swede.last.text
    english = bot.user(1007, "Ann", language="en")
    bot.register(1007, Role.STAFF, name="Ann")
    await english.send("/kieli")
    await english.press("Suomi")
    assert english.last.text == "Kieli: Suomi"
    await english.send("/ohje")
    assert "Voit käyttää näitä komentoja" in english.last.text
    unknown_lang = bot.user(1008, "Mia", language="de")
    await unknown_lang.start()
    assert "Sinulla ei ole vielä käyttöoikeutta" in unknown_lang.last.text
