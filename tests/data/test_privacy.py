"""Personal data: the export holds what is stored; erasure leaves a pseudonym and the answers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from data import catalog, inbox, menus, outbox, people, privacy, reports
from data.cli import main
from data.models import (
    AuditEvent,
    CommandMenu,
    ConversationDraft,
    InboxUpdate,
    Invitation,
    OutboxMessage,
    ParticipationEntry,
    Person,
    Role,
    SatisfactionEntry,
)
from data.reports import ParticipationAnswer, SatisfactionAnswer

from ..conftest import Database

YEAR = 2026
AINO = 5501


def _aino_reports(db: Database) -> int:
    """Aino, KUVA's contact, saves answers and has a draft; returns her id."""
    with db.transaction() as session:
        staff = people.ensure_person(session, 5500, name="Sanna", roles={Role.STAFF})
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        invitation = people.create_invitation(
            session, Role.CONTACT, division=division, created_by=staff
        )
        redeemed = people.redeem_invitation(
            session, str(invitation.token), AINO, name="Aino Virtanen", language="sv"
        )
        assert isinstance(redeemed, people.Redeemed)
        aino = redeemed.person
        entity = catalog.service_entities(session, division.id)[0]
        level1, level2 = catalog.levels(session)[:2]
        reports.save_participation(
            session,
            aino,
            YEAR,
            entity.id,
            [
                ParticipationAnswer(level1.id, method_text="Asukasraati", count=3),
                ParticipationAnswer(level2.id, none=True),
            ],
            level_ids=[level1.id, level2.id],
        )
        nps = next(m for m in catalog.measurement_types(session) if m.kind == "nps")
        reports.save_satisfaction(
            session, aino, YEAR, entity.id, [SatisfactionAnswer(nps.id, nps=40, respondents=80)]
        )
        session.add(ConversationDraft(person_id=aino.id, flow="report", step="s1", data={"x": 1}))
        return aino.id


def test_export_lists_the_person_and_everything_that_refers_to_them(db: Database) -> None:
    aino_id = _aino_reports(db)
    with db.transaction() as session:
        exported = privacy.export_person(session, AINO)
        assert exported is not None
        facts = privacy.summary(session, session.get(Person, aino_id))  # type: ignore[arg-type]
    assert exported["person"]["name"] == "Aino Virtanen"
    assert exported["person"]["telegram_user_id"] == AINO
    assert exported["person"]["roles"] == ["contact"]
    assert exported["person"]["division"]["code"] == "KUVA"
    assert [a["method_text"] for a in exported["participation_answers"]] == ["Asukasraati"]
    assert len(exported["none_answers"]) == 1
    assert exported["satisfaction_answers"][0]["nps"] == 40
    assert exported["unsaved_drafts"][0]["flow"] == "report"
    assert exported["invitations"][0]["used_by_self"] is True
    assert facts.answers == 3 and facts.audit_rows == len(exported["audit_log"]) >= 3
    assert json.loads(json.dumps(exported)) == exported  # JSON as it is
    with db.transaction() as session:
        assert privacy.export_person(session, 999) is None


def test_erase_keeps_the_answers_under_a_pseudonym_and_forgets_the_person(
    db: Database,
) -> None:
    aino_id = _aino_reports(db)
    with db.transaction() as session:
        result = privacy.erase_person(session, AINO, actor_id=None)
    assert result is not None
    assert (result["id"], result["name"]) == (aino_id, f"Poistettu käyttäjä #{aino_id}")
    with db.session() as session:
        aino = session.get(Person, aino_id)
        assert aino is not None
        assert aino.name == f"Poistettu käyttäjä #{aino_id}"
        assert aino.telegram_user_id is None and aino.language is None
        assert not aino.active and not aino.roles
        assert people.person_by_telegram_id(session, AINO) is None
        assert people.active_person(session, AINO) is None
        # The city's record stays, attributed to the pseudonym.
        authors = session.scalars(select(ParticipationEntry.reported_by_id)).all()
        assert authors == [aino_id]
        assert session.scalar(select(SatisfactionEntry.reported_by_id)) == aino_id
        # Nothing of her name is left anywhere in the audit log.
        audit = session.scalars(select(AuditEvent)).all()
        assert "Aino" not in repr([(a.old, a.new) for a in audit])
        erased = [a for a in audit if a.action == "erase"]
        assert len(erased) == 1 and erased[0].entity_id == str(aino_id)
        assert session.scalar(select(func.count()).select_from(ConversationDraft)) == 0
        assert session.scalar(select(func.count()).select_from(Invitation)) == 1


def test_cli_exports_and_erases_by_telegram_id(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aino_id = _aino_reports(db)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert main(["person", "export", "--telegram-id", str(AINO)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["person"]["name"] == "Aino Virtanen"
    assert main(["person", "export", "--telegram-id", str(AINO), "--out", str(tmp_path / "a")]) == 0
    assert json.loads((tmp_path / "a").read_text(encoding="utf-8"))["person"]["id"] == aino_id
    assert main(["person", "erase", "--telegram-id", str(AINO)]) == 0
    assert f"Poistettu käyttäjä #{aino_id}" in capsys.readouterr().out
    assert main(["person", "erase", "--telegram-id", str(AINO)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"no person with Telegram id {AINO}" in error


def _updates_about_aino(db: Database) -> None:
    """Aino's private chat (her phone number typed in it), a group where she spoke, and
    somebody else's chat, as the inbox holds them; and her command menu record."""
    sender = {"id": AINO, "is_bot": False, "first_name": "Aino", "username": "ainov"}
    other = {"id": 5555, "is_bot": False, "first_name": "Eero"}

    def message(update_id: int, chat: dict[str, object], who: dict[str, object]) -> dict:
        text_ = "puh 040 123 4567" if who is sender else "hei"
        return {
            "update_id": update_id,
            "message": {"message_id": 1, "date": 0, "chat": chat, "from": who, "text": text_},
        }

    with db.transaction() as session:
        inbox.record(
            session,
            [
                message(701, {"id": AINO, "type": "private"}, sender),
                message(702, {"id": -100, "type": "group", "title": "Ryhmä"}, sender),
                message(703, {"id": 5555, "type": "private"}, other),
            ],
        )
        menus.remember(session, menus.chat_scope(AINO), "digest")
        menus.remember(session, menus.chat_scope(5555), "digest")
        outbox.add(
            session,
            [
                (AINO, "sendMessage", {"chat_id": AINO, "text": "Hei Aino!"}),
                (5555, "sendMessage", {"chat_id": 5555, "text": "Hei Eero!"}),
            ],
            update_id=701,
            claimer="test",
            now=dt.datetime.now(dt.UTC),
            lease=dt.timedelta(minutes=1),
        )


def test_the_export_includes_the_raw_updates_the_inbox_holds_about_the_person(
    db: Database,
) -> None:
    _aino_reports(db)
    _updates_about_aino(db)
    with db.transaction() as session:
        exported = privacy.export_person(session, AINO)
    assert exported is not None
    held = exported["telegram_updates"]
    assert [u["update_id"] for u in held] == [701, 702]
    assert held[0]["update"]["message"]["text"] == "puh 040 123 4567"
    assert [m["request"]["text"] for m in exported["messages_to_them"]] == ["Hei Aino!"]


def test_erase_purges_the_person_s_inbox_rows_and_menu_record_and_says_so(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _aino_reports(db)
    _updates_about_aino(db)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert main(["person", "erase", "--telegram-id", str(AINO)]) == 0
    out = capsys.readouterr().out
    assert "removed 2 Telegram update(s) from the inbox, 1 command menu record(s)" in out
    assert "1 message(s) to them from the outbox" in out
    with db.session() as session:
        left = session.scalars(select(InboxUpdate.update_id)).all()
        assert left == [703]
        assert "040 123" not in repr(session.scalars(select(InboxUpdate.payload)).all())
        scopes = session.scalars(select(CommandMenu.scope)).all()
        assert scopes == [menus.chat_scope(5555)]
        assert session.scalars(select(OutboxMessage.chat_id)).all() == [5555]
