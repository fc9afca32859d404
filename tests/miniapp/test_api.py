"""The Mini App's API: who may read and save, and that a refused save leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select

from data import drafts, reports
from data.models import AuditEvent, ParticipationEntry, Role, SatisfactionEntry
from miniapp import auth

from .conftest import TOKEN, MiniAppHarness, replica


def _entity_and_level(mini: MiniAppHarness, telegram_id: int) -> tuple[dict[str, Any], Any]:
    body = mini.division(telegram_id).json()
    return body, body["entities"][1]


def _one_count(body: dict[str, Any], entity: dict[str, Any], count: str) -> dict[str, Any]:
    level = body["levels"][0]
    return {
        "division": body["division"]["code"],
        "entities": [
            {
                "id": entity["id"],
                "version": entity["version"],
                "participation": [
                    {
                        "row": "m1",
                        "level_id": level["id"],
                        "method_id": level["methods"][0]["id"],
                        "count": count,
                    }
                ],
                "satisfaction": [],
            }
        ],
    }


def _stored(mini: MiniAppHarness) -> tuple[int, int, int]:
    with mini.db.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(ParticipationEntry)) or 0,
            session.scalar(select(func.count()).select_from(SatisfactionEntry)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_without_or_with_bad_init_data_the_division_is_401(mini: MiniAppHarness) -> None:
    mini.contact(501)
    assert mini.client.get("/app/api/division").status_code == 401
    bad = {auth.HEADER: "user=%7B%22id%22%3A501%7D&auth_date=1&hash=00"}
    assert mini.client.get("/app/api/division", headers=bad).status_code == 401
    assert mini.client.get("/app/api/division", headers={auth.HEADER: "%%%"}).status_code == 401


def test_init_data_signed_with_another_bots_token_is_401(mini: MiniAppHarness) -> None:
    mini.contact(501)
    other = {auth.HEADER: auth.sign("999:another-token", 501, mini.clock())}
    assert mini.client.get("/app/api/division", headers=other).status_code == 401


def test_init_data_older_than_an_hour_is_401(mini: MiniAppHarness) -> None:
    mini.contact(501)
    old = mini.clock() - dt.timedelta(hours=1, seconds=1)
    fresh = mini.clock() - dt.timedelta(minutes=59)
    assert (
        mini.client.get("/app/api/division", headers=mini.headers(501, at=old)).status_code == 401
    )
    assert (
        mini.client.get("/app/api/division", headers=mini.headers(501, at=fresh)).status_code == 200
    )


def test_a_forged_user_id_breaks_the_signature_and_saves_nothing(mini: MiniAppHarness) -> None:
    mini.contact(501)
    mini.contact(502, division="KYMP")
    body, entity = _entity_and_level(mini, 501)
    fields = dict(parse_qsl(mini.init_data(502)))
    fields["user"] = json.dumps({"id": 501, "first_name": "Aino"})
    forged = {auth.HEADER: urlencode(fields)}
    assert mini.client.get("/app/api/division", headers=forged).status_code == 401
    before = _stored(mini)
    response = mini.client.post("/app/api/save", headers=forged, json=_one_count(body, entity, "5"))
    assert response.status_code == 401
    assert _stored(mini) == before


def test_another_divisions_data_is_403_to_read_and_to_save(mini: MiniAppHarness) -> None:
    mini.contact(501, division="KUVA")
    mini.contact(502, division="KYMP")
    assert mini.division(501, division="KYMP").status_code == 403
    kymp, entity = _entity_and_level(mini, 502)
    before = _stored(mini)
    # Naming KYMP, or naming KUVA with a KYMP entity: both refused.
    assert mini.save(501, _one_count(kymp, entity, "5")).status_code == 403
    mixed = _one_count(kymp, entity, "5") | {"division": "KUVA"}
    assert mini.save(501, mixed).status_code == 403
    assert _stored(mini) == before


def test_a_person_without_access_is_403(mini: MiniAppHarness) -> None:
    assert mini.division(777).status_code == 403
    mini.person(778, Role.STAFF, division=None)
    assert mini.division(778).status_code == 403  # no division of their own to show
    assert mini.division(778, division="KUVA").status_code == 200  # staff may read


def test_a_body_over_256_kb_is_413_and_saves_nothing(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    big = _one_count(body, entity, "5")
    big["entities"][0]["participation"][0]["note"] = "x" * (257 * 1024)
    before = _stored(mini)
    response = mini.save(501, big)
    assert response.status_code == 413
    assert response.json()["error"] == "Lomake on liian suuri tallennettavaksi."
    assert _stored(mini) == before


def test_the_eleventh_save_in_a_minute_is_429(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    for count in range(1, 11):
        payload = _one_count(body, entity, str(count))
        response = mini.save(501, payload)
        assert response.status_code == 200, response.text
        entity = next(e for e in response.json()["entities"] if e["id"] == entity["id"])
    response = mini.save(501, _one_count(body, entity, "99"))
    assert response.status_code == 429
    assert "Liian monta" in response.json()["error"]
    with mini.db.transaction() as session:
        assert session.scalar(select(ParticipationEntry.count)) == 10
    mini.clock.current += dt.timedelta(seconds=61)
    assert mini.save(501, _one_count(body, entity, "99")).status_code == 200


def test_a_bad_count_gets_a_finnish_message_on_its_field_and_saves_nothing(
    mini: MiniAppHarness,
) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    before = _stored(mini)
    response = mini.save(501, _one_count(body, entity, "12a"))
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {
            "entity": entity["id"],
            "row": "m1",
            "field": "count",
            "message": "”12a” ei ole kokonaisluku väliltä 1–100\xa0000",
        }
    ]
    zero = mini.save(501, _one_count(body, entity, "0")).json()["problems"][0]
    assert zero["field"] == "count" and "0 kertaa, jätetään pois" in zero["message"]
    assert _stored(mini) == before


def test_a_valid_save_goes_through_the_data_save_functions_audited_as_miniapp(
    mini: MiniAppHarness,
) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    payload = _one_count(body, entity, "12")
    nps = next(t for t in body["measurement_types"] if t["kind"] == "nps")
    payload["entities"][0]["satisfaction"] = [
        {
            "row": "s1",
            "measurement_type_id": nps["id"],
            "promoters": "50",
            "passives": "30",
            "detractors": "20",
            "frequency": "yearly",
        }
    ]
    response = mini.save(501, payload)
    assert response.status_code == 200, response.text
    saved = next(e for e in response.json()["entities"] if e["id"] == entity["id"])
    assert saved["version"] > entity["version"]
    assert saved["satisfaction"][0]["nps"] == "30"
    assert saved["satisfaction"][0]["respondents"] == "100"
    with mini.db.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "save")).all()
        assert {(e.entity, e.source) for e in events} == {
            ("participation", "miniapp"),
            ("satisfaction", "miniapp"),
        }
        assert reports.participation_for_year(session, 2026, entity["id"])[0].count == 12


def test_a_save_over_a_newer_version_is_409_and_changes_nothing(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    level = body["levels"][0]
    with mini.db.transaction() as session:  # the chat saves the entity meanwhile
        person = mini.person_row(session, 501)
        reports.save_participation(
            session,
            person,
            2026,
            entity["id"],
            [reports.ParticipationAnswer(level["id"], level["methods"][1]["id"], count=7)],
        )
    before = _stored(mini)
    response = mini.save(501, _one_count(body, entity, "12"))
    assert response.status_code == 409
    assert "muualla" in response.json()["error"]
    assert response.json()["entities"] == [entity["id"]]
    assert _stored(mini) == before
    with mini.db.transaction() as session:
        answers = reports.participation_for_year(session, 2026, entity["id"])
        assert [(a.method_id, a.count) for a in answers] == [(level["methods"][1]["id"], 7)]


def test_a_save_to_a_submitted_report_is_refused_with_the_chats_words(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    with mini.db.transaction() as session:
        person = mini.person_row(session, 501)
        reports.submit_report(session, person, 2026, person.division_id)
    before = _stored(mini)
    response = mini.save(501, _one_count(body, entity, "12"))
    assert response.status_code == 423
    assert "on lähetetty" in response.json()["error"] or "lähetetty" in response.json()["error"]
    assert _stored(mini) == before
    view = mini.division(501).json()
    assert view["editable"] is False and view["locked_text"]


def test_an_open_chat_draft_of_the_entity_is_not_clobbered(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    with mini.db.transaction() as session:
        person = mini.person_row(session, 501)
        drafts.put(
            session, person.id, "reporting", "level", {"entity": entity["id"], "x": 1}, mini.clock()
        )
    assert mini.save(501, _one_count(body, entity, "12")).status_code == 200
    with mini.db.transaction() as session:
        person = mini.person_row(session, 501)
        row = drafts.get(session, person.id, "reporting")
        assert row is not None and row.data == {"entity": entity["id"], "x": 1}


def test_two_replicas_share_versions_and_the_rate_limit(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    with replica(mini.db, mini.clock) as (other, _services, _server):
        first = mini.save(501, _one_count(body, entity, "12"))
        assert first.status_code == 200
        # The second replica gets the same stale version: refused, as on the first.
        stale = other.post(
            "/app/api/save", headers=mini.headers(501), json=_one_count(body, entity, "13")
        )
        assert stale.status_code == 409
        # Saves on both replicas count toward the same limit (2 used so far).
        entity = next(e for e in first.json()["entities"] if e["id"] == entity["id"])
        codes = []
        for n in range(9):
            client = other if n % 2 else mini.client
            response = client.post(
                "/app/api/save",
                headers=mini.headers(501),
                json=_one_count(body, entity, str(20 + n)),
            )
            codes.append(response.status_code)
            if response.status_code == 200:
                entity = next(e for e in response.json()["entities"] if e["id"] == entity["id"])
        assert codes == [200] * 8 + [429]


def test_the_page_is_served_with_its_files_and_weighs_under_150_kb(mini: MiniAppHarness) -> None:
    page = mini.client.get("/app/")
    assert page.status_code == 200 and "tgWebAppData" not in page.text
    total = len(page.content)
    for name in ("app.js", "app.css"):
        response = mini.client.get(f"/app/static/{name}")
        assert response.status_code == 200
        total += len(response.content)
    assert total <= 150 * 1024
    assert TOKEN not in page.text


def test_errors_and_texts_come_in_the_persons_language(mini: MiniAppHarness) -> None:
    mini.person(601, Role.CONTACT, division="KUVA", language="sv")
    mini.person(602, Role.CONTACT, division="KUVA", language="en")
    for telegram_id, words, title in (
        (601, "är inte ett heltal", "Formulär"),
        (602, "is not a whole number", "Report form"),
    ):
        body, entity = _entity_and_level(mini, telegram_id)
        assert body["texts"]["title"] == title
        problem = mini.save(telegram_id, _one_count(body, entity, "12a")).json()["problems"][0]
        assert words in problem["message"]


def test_refused_saves_count_toward_the_limit_too(mini: MiniAppHarness) -> None:
    mini.contact(501)
    body, entity = _entity_and_level(mini, 501)
    for _ in range(10):
        assert mini.save(501, _one_count(body, entity, "12a")).status_code == 422
    assert mini.save(501, _one_count(body, entity, "12")).status_code == 429
    assert _stored(mini)[0] == 0
