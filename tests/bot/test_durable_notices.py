"""Every message to another person goes through the outbox (``delivery.notices``), one kind
per test: a role change, access removed, an invitation accepted, a report reopened, a
report submitted. Telegram refuses the first try to the recipient (502, known not
delivered); the message still arrives, exactly once, and its outbox row is *sent* — on main
these handlers called Telegram after their commit and a failed call was only logged.

The kill test is ``test_durable_notices_process.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from data import outbox as data_outbox
from data.models import OutboxMessage, Person, Role
from delivery import capture, ingress, notices
from delivery.outbox import OWNER_KEY
from delivery.outbox import sender as outbox_sender
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


async def test_a_notice_rolled_back_with_its_change_is_not_handed_to_the_update(
    bot: BotHarness,
) -> None:
    """A notice written in a transaction that rolls back (a lock wait and a retry, a
    handler failing after ``notify``) does not exist: the update does not deliver it. On
    main it was handed over at once, and on SQLite the next row written took its id — the
    stale copy would have claimed that row and sent the rolled-back text in its place."""
    aino = bot.contact(8151, "KUVA", "Aino")
    await aino.start()
    sanna = bot.register(8152, Role.STAFF, name="Sanna")
    sender = outbox_sender(bot.app)
    assert sender is not None
    update = Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 8152, "type": "private"},
                "from": {"id": 8152, "is_bot": False, "first_name": "Sanna"},
                "text": "x",
            },
        },
        bot.app.bot,
    )
    with capture.capturing(update, sender=sender) as pending:
        assert pending is not None
        with pytest.raises(RuntimeError), bot.db.transaction() as session:
            person = session.get_one(Person, sanna.id)
            notices.notify(session, [(_person(session, aino.id), "peruttu")])
            person.name = "Sanna S."
            raise RuntimeError("the change failed after the notice was written")
        assert pending.notices == []
        with bot.db.transaction() as session:
            notices.notify(session, [(_person(session, aino.id), "voimassa")])
        assert [row.params["text"] for row in pending.notices] == ["voimassa"]
        told = list(pending.notices)
    await notices.deliver(bot.app, told)
    assert "voimassa" in aino.texts() and "peruttu" not in aino.texts()


def _person(session: Any, telegram_user_id: int) -> Person:
    found = session.scalar(select(Person).where(Person.telegram_user_id == telegram_user_id))
    assert found is not None
    return found  # type: ignore[no-any-return]


async def test_a_notice_goes_out_at_once_when_the_updates_inbox_mark_fails(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change and its notice are committed before the inbox mark is written: when the
    mark fails (the update is handled again later), the notice still goes out right after
    it, delivered by the update itself, not left to the outbox loop after its lease."""
    sanna = staff(bot, 8161)
    aino = bot.contact(8162, "KUVA", "Aino")
    await aino.start()
    await sanna.send("/henkilot")
    await sanna.press("Aino", exact=False)
    real = ingress.inbox.mark_handled
    failed: list[int] = []

    def mark_fails_once(session: Any, update_id: int, **kwargs: Any) -> Any:
        if not failed:
            failed.append(update_id)
            raise RuntimeError("the inbox mark failed (provoked by the test)")
        return real(session, update_id, **kwargs)

    monkeypatch.setattr(ingress.inbox, "mark_handled", mark_fails_once)
    claim_due = data_outbox.claim_due
    by_the_loop: list[str] = []

    def recorded_claim(*args: Any, **kwargs: Any) -> Any:
        rows = claim_due(*args, **kwargs)
        by_the_loop.extend(str(row.params.get("text")) for row in rows)
        return rows

    monkeypatch.setattr(data_outbox, "claim_due", recorded_claim)
    await sanna.press("Koordinaattori")
    assert failed
    _told_once(bot, aino, "Roolisi muuttuivat: toimialan yhteyshenkilö, koordinaattori.")
    assert not any("Roolisi" in text for text in by_the_loop)
