"""The workbook back in: cell errors, the change summary, the round trip, audit rows."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

import sheets
from data import audit, catalog, reports
from i18n import gettext_for
from sheets import changes

from ..conftest import Database
from .workbooks import YEAR, contact, edit, export, fill, ids, saved_state


def _check(db: Database, content: bytes, language: str = "fi") -> sheets.Checked:
    with db.transaction() as session:
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        return sheets.check(
            session,
            content,
            "Mittarit_KUVA_2026.xlsx",
            division=division,
            year=YEAR,
            language=language,
        )


def _errors(db: Database, content: bytes, language: str = "fi") -> list[str]:
    checked = _check(db, content, language)
    assert not checked.ok, "expected cell errors"
    return [e.text(gettext_for(language)) for e in checked.parsed.errors]


def _save_all(db: Database, content: bytes) -> int:
    with db.transaction() as session:
        division = catalog.division_by_code(session, "KUVA")
        assert division is not None
        checked = sheets.check(
            session, content, "x.xlsx", division=division, year=YEAR, language="fi"
        )
        assert checked.ok, [e.text(gettext_for("fi")) for e in checked.parsed.errors]
        assert checked.changes is not None
        return changes.apply(session, contact(session), checked.changes)


def _store_answers(db: Database, year: int = YEAR) -> None:
    """A realistic set of answers, stored the way the chat stores them."""
    with db.transaction() as session:
        person = contact(session)
        i = ids(session)
        reports.save_participation(
            session,
            person,
            year,
            i["KUVA_KIRJASTO"],
            [
                reports.ParticipationAnswer(i["L1"], method_id=i["L1_KYSELYT"], count=12),
                reports.ParticipationAnswer(
                    i["L1"], method_text="Lukupiiri", count=1200, note="=kaava ei ole"
                ),
                reports.ParticipationAnswer(i["L2"], none=True),
                reports.ParticipationAnswer(
                    i["L3"], method_id=i["L3_ASIAKASRAADIT"], count=2, note="tauolla"
                ),
            ],
        )
        reports.save_satisfaction(
            session,
            person,
            year,
            i["KUVA_KIRJASTO"],
            [
                reports.SatisfactionAnswer(
                    i["NPS"],
                    frequency="yearly",
                    promoters=50,
                    passives=30,
                    detractors=20,
                    period="2025",
                ),
                reports.SatisfactionAnswer(
                    i["SURVEY_1_5"],
                    scale="1–5",
                    frequency="monthly",
                    latest_result="4,2",
                    respondents=1200,
                ),
                reports.SatisfactionAnswer(
                    i["OTHER"], other_name="Asiakaspalaute­kortit", latest_result="82 % myönteisiä"
                ),
            ],
        )
        reports.save_satisfaction(
            session,
            person,
            year,
            i["KUVA_LIIKUNTA"],
            [reports.SatisfactionAnswer(i["NOT_MEASURED"])],
        )


def _cells(content: bytes, sheet: str, refs: list[str]) -> list[Any]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    values = [workbook[sheet][ref].value for ref in refs]
    workbook.close()
    return values


# --- round trip ------------------------------------------------------------------------------


def test_export_then_import_without_changes_changes_nothing(db: Database) -> None:
    _store_answers(db)
    before = saved_state(db)
    with db.session() as session:
        events = len(audit.events(session))
    checked = _check(db, export(db))
    assert checked.ok and checked.changes is not None and checked.changes.empty
    with db.session() as session:
        text = changes.summary(session, checked.changes, "fi")
    assert "vastaa jo tallennettuja tietoja" in text
    assert _save_all(db, export(db)) == 0
    assert saved_state(db) == before
    with db.session() as session:
        assert len(audit.events(session)) == events


def test_export_after_an_import_gives_back_the_same_values(db: Database) -> None:
    filled = fill(
        export(db),
        {
            "Kirjasto": {
                **{"B7": "Kyselyt", "D7": 12},
                **{"C8": "Lukupiiri", "D8": "1 200", "E8": "joka kk"},
            },
            "Liikunta": {"B11": "Ei tapoja tällä tasolla"},
            "Tyytyväisyys": {
                "B7": "Kysely (asteikko 1–5)",
                "E7": "Kuukausittain",
                "J7": 300,
                "K7": 4.2,
                "L7": "syksy 2025",
                "B10": "Suositteluindeksi (NPS, 0–10)",
                "G10": 50,
                "H10": 30,
                "I10": 20,
                "E10": "Kerran vuodessa",
            },
        },
    )
    assert _save_all(db, filled) == 3
    again = export(db)
    assert _cells(again, "Kirjasto", ["B7", "C7", "D7", "C8", "D8", "E8"]) == [
        "Kyselyt",
        None,
        12,
        "Lukupiiri",
        1200,
        "joka kk",
    ]
    assert _cells(again, "Liikunta", ["B11"]) == ["Ei tapoja tällä tasolla"]
    satisfaction = _cells(again, "Tyytyväisyys", ["B7", "D7", "E7", "J7", "K7", "L7"])
    assert satisfaction == [
        "Kysely (asteikko 1–5)",
        None,  # no scale given: the catalog's applies (the chat's Skip)
        "Kuukausittain",
        300,
        "4,2",
        "syksy 2025",
    ]
    assert _cells(again, "Tyytyväisyys", ["B10", "F10", "G10", "H10", "I10", "J10", "E10"]) == [
        "Suositteluindeksi (NPS, 0–10)",
        None,
        50,
        30,
        20,
        100,
        "Kerran vuodessa",
    ]
    assert _check(db, again).changes.empty  # type: ignore[union-attr]


def test_an_excel_answer_is_stored_exactly_like_the_same_chat_answer(db: Database) -> None:
    _store_answers(db)  # Kirjasto, as the chat stores it
    with db.session() as session:
        i = ids(session)
        chat_p = [
            a.to_dict() for a in reports.participation_for_year(session, YEAR, i["KUVA_KIRJASTO"])
        ]
        chat_s = [
            a.to_dict() for a in reports.satisfaction_for_year(session, YEAR, i["KUVA_KIRJASTO"])
        ]
    # The same answers typed into Nuoriso's sheet and rows.
    filled = fill(
        export(db),
        {
            "Nuoriso": {
                "B7": "Kyselyt",
                "D7": 12,
                "C8": "Lukupiiri",
                "D8": 1200,
                "E8": "=kaava ei ole",
                "B11": "Ei tapoja tällä tasolla",
                "B15": "Asiakasraadit",
                "D15": 2,
                "E15": "tauolla",
            },
        },
    )
    workbook = load_workbook(io.BytesIO(filled))
    sheet = workbook["Tyytyväisyys"]
    # Nuoriso is the 4th entity; each entity has 3 rows except Kirjasto (3 saved + 1).
    start = next(r for r in range(7, 40) if sheet.cell(r, 1).value == "Nuoriso")
    for offset, values in enumerate(
        [
            {
                2: "Suositteluindeksi (NPS, 0–10)",
                5: "Kerran vuodessa",
                7: 50,
                8: 30,
                9: 20,
                12: "2025",
            },
            {2: "Kysely (asteikko 1–5)", 4: "1–5", 5: "Kuukausittain", 11: "4,2", 10: 1200},
        ]
    ):
        for column, value in values.items():
            sheet.cell(start + offset, column).value = value
    sheet.cell(start + 2, 2).value = "Muu tapa"
    sheet.cell(start + 2, 3).value = "Asiakaspalaute­kortit"
    sheet.cell(start + 2, 11).value = "82 % myönteisiä"
    out = io.BytesIO()
    workbook.save(out)
    assert _save_all(db, out.getvalue()) == 1
    with db.session() as session:
        excel_p = [
            a.to_dict() for a in reports.participation_for_year(session, YEAR, i["KUVA_NUORISO"])
        ]
        excel_s = [
            a.to_dict() for a in reports.satisfaction_for_year(session, YEAR, i["KUVA_NUORISO"])
        ]
    assert excel_p == chat_p
    assert excel_s == chat_s


def test_an_excel_save_is_audited_per_entity_with_the_source_excel(db: Database) -> None:
    _store_answers(db)
    filled = fill(
        export(db), {"Kirjasto": {"D7": 13}, "Kulttuuri": {"B7": "Palautekanavat", "D7": 4}}
    )
    assert _save_all(db, filled) == 2
    with db.session() as session:
        events = audit.events(session)
        i = ids(session)
    chat_events = [e for e in events if e.source == "chat"]
    excel_events = [e for e in events if e.source == "excel"]
    assert {(e.entity, e.entity_id) for e in excel_events} == {
        ("participation", str(i["KUVA_KIRJASTO"])),
        ("participation", str(i["KUVA_KULTTUURI"])),
    }
    kirjasto = next(e for e in excel_events if e.entity_id == str(i["KUVA_KIRJASTO"]))
    assert kirjasto.action == "save" and kirjasto.person_id is not None
    assert [e["count"] for e in kirjasto.old["entries"]] == [12, 1200, 2]  # type: ignore[index]
    assert [e.get("count") for e in kirjasto.new["entries"]] == [13, 1200, None, 2]  # type: ignore[index]
    chat_shape = next(e for e in chat_events if e.entity == "participation")
    assert set(chat_shape.new) == set(kirjasto.new)  # type: ignore[arg-type]
    assert set(chat_shape.new["entries"][0]) == set(kirjasto.new["entries"][0])  # type: ignore[index]


# --- change summary --------------------------------------------------------------------------


def test_the_summary_counts_added_changed_and_removed_answers_per_entity(db: Database) -> None:
    _store_answers(db)
    filled = fill(
        export(db),
        {
            # Kirjasto: L1 Kyselyt 12 → 15 (changed), Lukupiiri removed, a new L4 method.
            "Kirjasto": {
                "D7": 15,
                "C8": None,
                "D8": None,
                "E8": None,
                "B19": "Osallistuvan budjetoinnin ehdotusten määrä",
                "D19": 3,
            },
            "Tyytyväisyys": {"B11": None, "E11": None, "J11": None, "K11": None, "D11": None},
        },
    )
    checked = _check(db, filled)
    assert checked.changes is not None
    with db.session() as session:
        text = changes.summary(session, checked.changes, "fi")
    assert "Tiedosto on kunnossa: Kulttuurin ja vapaa-ajan toimiala, 2026." in text
    assert "• Kirjasto: osallisuus: uusia 1, muutettuja 1, poistettuja 1" in text
    assert "tyytyväisyys: uusia 0, muutettuja 0, poistettuja 1" in text
    assert "Tallennetaanko nämä muutokset?" in text
    assert "Liikunta" not in text and "Kulttuuri:" not in text


def test_last_years_rows_are_marked_and_saved_only_once_the_mark_is_cleared(db: Database) -> None:
    _store_answers(db, year=YEAR - 1)
    content = export(db)
    assert _cells(content, "Kirjasto", ["B7", "D7", "F7", "F8"]) == [
        "Kyselyt",
        12,
        "2025 – tarkista",
        "2025 – tarkista",
    ]
    checked = _check(db, content)
    assert checked.changes is not None and checked.changes.empty
    assert checked.changes.unchecked == 4 + 3 + 1  # Kirjasto 4 + 3 satisfaction rows, Liikunta
    with db.session() as session:
        text = changes.summary(session, checked.changes, "fi")
    assert "Rivejä, joilla on yhä merkintä ”2025 – tarkista”: 8. Niitä ei tallenneta" in text
    assert _save_all(db, fill(content, {"Kirjasto": {"F7": None, "D7": 14}})) == 1
    assert [a["count"] for a in saved_state(db)["KUVA_KIRJASTO"][0]] == [14]


# --- errors by cell --------------------------------------------------------------------------


def test_cell_errors_are_listed_by_cell_in_finnish(db: Database) -> None:
    filled = fill(
        export(db),
        {
            "Kirjasto": {
                "B7": "Kyselyt",
                "D7": "kaksi",
                "B8": "Asiakasraadit",
                "D8": 1,
                "C9": "x" * 301,
                "D9": 1,
                "B10": "Palautekanavat",
                "D10": 100_001,
                "B11": "Ei tapoja tällä tasolla",
                "D11": 3,
                "B12": "Keskustelutilaisuudet",
                "C12": "oma",
                "D12": 1,
                "E13": "pelkkä huomautus",
                "B15": "Asiakasraadit",
                "D16": 2.5,
                "C16": "desimaali",
                "C17": "ei käytetty",
                "D17": 0,
            },
            "Tyytyväisyys": {
                "B7": "Suositteluindeksi (NPS, 0–10)",
                "G7": 50,
                "H7": 30,
                "I7": 20,
                "J7": 99,
                "B8": "Muu tapa",
                "K8": "hyvä",
                "B10": "Suositteluindeksi (NPS, 0–10)",
                "F10": 150,
                "B13": "Hymiöt",
                "E13": "joskus",
                "B14": "Kysely (asteikko 1–5)",
                "K14": "6",
                "B15": "Kysely (asteikko 1–5)",
                "E15": "viikoittain",
            },
        },
    )
    errors = _errors(db, filled)
    assert "Kirjasto!D7: ”kaksi” ei ole kokonaisluku väliltä 1–100\u00a0000" in errors
    assert "Kirjasto!B8: 'Asiakasraadit' ei ole tason 1 tapa" in errors
    assert "Kirjasto!C9: teksti on 301 merkkiä pitkä; enintään 300 mahtuu" in errors
    assert "Kirjasto!D10: ”100001” ei ole kokonaisluku väliltä 1–100\u00a0000" in errors
    assert "Kirjasto!D11: ”Ei tapoja tällä tasolla” ei saa tapaa, Lkm:ää eikä huomautusta" in errors
    assert "Kirjasto!C12: valitse tapa luettelosta tai kirjoita oma, ei molempia" in errors
    assert "Kirjasto!B13: tapa puuttuu (valitse luettelosta tai kirjoita oma)" in errors
    assert "Kirjasto!D13: Lkm puuttuu" in errors
    assert "Kirjasto!D15: Lkm puuttuu" in errors
    assert "Kirjasto!D16: ”2,5” ei ole kokonaisluku väliltä 1–100\u00a0000" in errors
    assert (
        "Kirjasto!D17: tapa, jota käytettiin 0 kertaa, jätetään pois (Lkm on kokonaisluku "
        "väliltä 1–100\u00a0000), tai valitse ”Ei tapoja tällä tasolla”" in errors
    )
    assert (
        "Tyytyväisyys!J7: suosittelijat + neutraalit + arvostelijat = 100, mutta vastaajia on 99"
        in errors
    )
    assert "Tyytyväisyys!C8: muun mittaustavan nimi puuttuu" in errors
    assert "Tyytyväisyys!F10: NPS 150 ei ole väliltä −100–100" in errors
    assert "Tyytyväisyys!B13: 'Hymiöt' ei ole luettelon mittaustapa" in errors
    assert "Tyytyväisyys!K14: '6' ei ole asteikolla 1–5" in errors
    assert "Tyytyväisyys!B15: tämä mittaustapa on jo annettu palvelukokonaisuudelle" not in errors
    assert saved_state(db)["KUVA_KIRJASTO"] == ([], [])


def test_cell_errors_are_in_the_senders_language(db: Database) -> None:
    filled = fill(export(db, language="sv"), {"Bibliotek": {"B7": "Enkäter", "D7": "två"}})
    assert _errors(db, filled, "sv") == ["Bibliotek!D7: ”två” är inte ett heltal 1–100\u00a0000"]
    filled = fill(export(db, language="en"), {"Library": {"B7": "Surveys", "D7": "two"}})
    assert _errors(db, filled, "en") == ["Library!D7: “two” is not a whole number 1–100,000"]


def test_at_most_20_errors_are_shown_and_the_rest_counted(db: Database) -> None:
    values = {f"D{row}": "x" for row in range(7, 23)}
    values |= {f"C{row}": "tapa" for row in range(7, 23)}
    filled = fill(export(db), {"Kirjasto": values, "Kulttuuri": dict(values)})
    checked = _check(db, filled)
    assert len(checked.parsed.errors) == 32
    text = changes.error_list(checked.parsed, "fi", limit=20)
    lines = text.splitlines()
    assert lines[0] == (
        "Virheitä tiedostossa: 32. Mitään ei tallennettu; korjaa virheet ja lähetä tiedosto "
        "uudelleen:"
    )
    assert len(lines) == 22 and lines[-1] == "… ja 12 muuta"
    assert lines[1].startswith("Kulttuuri!D7:")  # sheet order, then row
    assert changes.error_list(checked.parsed, "fi", limit=31).splitlines()[-1] == "… ja yksi muu"


def test_a_formula_in_an_answer_cell_gives_its_saved_value_or_an_error(db: Database) -> None:
    def with_formula(workbook: Any) -> None:
        workbook["Kirjasto"]["B7"] = "Kyselyt"
        workbook["Kirjasto"]["D7"] = "=2+3"  # openpyxl saves no cached value

    errors = _errors(db, edit(export(db), with_formula))
    assert errors == ["Kirjasto!D7: kaava ilman arvoa: kirjoita itse arvo"]


def test_a_formula_with_a_value_saved_by_excel_is_taken_as_that_value(db: Database) -> None:
    import re
    import zipfile

    content = fill(export(db), {"Kirjasto": {"B7": "Kyselyt", "D7": 5}})
    # Excel stores <f>2+3</f><v>5</v>: make the cell look like that.
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                data, count = re.subn(rb'(<c r="D7"[^>]*>)<v>5</v>', rb"\1<f>2+3</f><v>5</v>", data)
                assert count == 1
            target.writestr(item, data)
    checked = _check(db, out.getvalue())
    assert checked.ok and checked.changes is not None
    assert checked.changes.entities[0].participation[0]["count"] == 5  # type: ignore[index]


def test_division_and_entity_names_in_sheet_titles_are_the_persons_language(db: Database) -> None:
    workbook = load_workbook(io.BytesIO(export(db, language="sv")), read_only=True)
    assert workbook.sheetnames[:2] == ["Kultur", "Bibliotek"]
    assert workbook.sheetnames[-2:] == ["Nöjdhet", "_meta"]
    assert workbook["Bibliotek"]["A6"].value == "Nivå"
    workbook.close()


def test_chat_and_excel_answers_read_the_same_in_the_documents(db: Database) -> None:
    import dataclasses

    from data.snapshot import build_snapshot

    with db.transaction() as session:
        person = contact(session)
        i = ids(session)
        # As the chat stores them: a frequency chosen from the list as its code.
        reports.save_participation(
            session,
            person,
            YEAR,
            i["KUVA_KIRJASTO"],
            [reports.ParticipationAnswer(i["L1"], method_id=i["L1_KYSELYT"], count=12, note="n")],
        )
        reports.save_satisfaction(
            session,
            person,
            YEAR,
            i["KUVA_KIRJASTO"],
            [
                reports.SatisfactionAnswer(
                    i["SURVEY_1_5"],
                    scale="1–5",
                    frequency="monthly",
                    latest_result="4,2",
                    respondents=300,
                )
            ],
        )
    filled = fill(
        export(db),
        {
            "Nuoriso": {"B7": "Kyselyt", "D7": 12, "E7": "n"},
            "Tyytyväisyys": {
                "B17": "Kysely (asteikko 1–5)",
                "E17": "Kuukausittain",
                "K17": "4,2",
                "J17": 300,
            },
        },
    )
    assert _save_all(db, filled) == 1
    with db.session() as session:
        snapshot = build_snapshot(session, YEAR, with_previous=False)

    def by_entity(items: tuple[Any, ...], code: str) -> list[Any]:
        return [dataclasses.replace(x, entity_code="") for x in items if x.entity_code == code]

    for items in (snapshot.participation, snapshot.satisfaction):
        assert by_entity(items, "KUVA_KIRJASTO") == by_entity(items, "KUVA_NUORISO")
        assert by_entity(items, "KUVA_NUORISO")
    (item,) = by_entity(snapshot.satisfaction, "KUVA_NUORISO")
    assert item.frequency == "Kuukausittain"


def test_a_frequency_in_ones_own_words_is_kept_like_the_chat_keeps_it(db: Database) -> None:
    filled = fill(
        export(db),
        {"Tyytyväisyys": {"B10": "Hymiöpäätteet (HappyOrNot)", "E10": "joka toinen viikko"}},
    )
    assert _save_all(db, filled) == 1
    (answer,) = saved_state(db)["KUVA_KIRJASTO"][1]
    assert (answer["frequency"], answer["frequency_text"]) == ("other", "joka toinen viikko")
    again = export(db)
    assert _cells(again, "Tyytyväisyys", ["E10"]) == ["joka toinen viikko"]
    assert _check(db, again).changes.empty  # type: ignore[union-attr]
