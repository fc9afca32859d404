"""/muokkaa: change or delete saved answers, with confirmation — through the local Telegram."""

from __future__ import annotations

from sqlalchemy import select

from data import catalog, people, reports
from data.models import ParticipationEntry, Role, SatisfactionEntry
from data.reports import ParticipationAnswer, SatisfactionAnswer

from .conftest import BotHarness
from .test_status_support import (
    YEAR,
    audit_count,
    audit_rows,
    full_participation,
    ids,
    nbsp,
    participation_entries,
    satisfaction_entries,
    save_participation,
    save_satisfaction,
)

INVALID = "Tämä painike ei ole enää voimassa."
COUNT_QUESTION = "Kirjoita uusi Lkm kokonaislukuna väliltä 1–100\xa0000, esimerkiksi 12."


def _entry(bot: BotHarness, entry_id: int) -> ParticipationEntry | None:
    with bot.db.session() as session:
        return session.get(ParticipationEntry, entry_id)


def _satisfaction(bot: BotHarness, entry_id: int) -> SatisfactionEntry | None:
    with bot.db.session() as session:
        return session.get(SatisfactionEntry, entry_id)


def _library_with_two_methods(bot: BotHarness, user_id: int = 2001) -> list[int]:
    i = ids(bot)
    save_participation(
        bot,
        user_id,
        "KUVA_KIRJASTO",
        [
            ParticipationAnswer(i.levels[1], method_id=i.first_method[1], count=12),
            ParticipationAnswer(i.levels[2], method_text="Kirjastoraati", count=3, note="kk"),
        ],
    )
    return [e.id for e in participation_entries(bot, "KUVA")]


async def test_changing_a_count_asks_again_for_bad_counts_and_saves_a_finnish_number(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    assert aino.last.text.startswith("Vaihe 1/4\n\nTallennetut vastaukset 2026: Kirjasto")
    assert aino.last.buttons[:2] == [
        ["Taso 1 · Tiedotustilaisuudet: 12"],
        ["Taso 2 · Kirjastoraati: 3"],
    ]
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    assert aino.last.text.startswith("Vaihe 2/4")
    assert "Kirjasto · Taso 1: Viestintä ja kuuleminen\nTapa: Tiedotustilaisuudet" in aino.last.text
    assert aino.last.buttons == [
        ["Muuta Lkm:ää"],
        ["Muuta huomautusta"],
        ["Poista"],
        ["‹ Takaisin"],
    ]
    await aino.press("Muuta Lkm:ää")
    assert aino.last.text.startswith("Vaihe 3/4")
    assert "Lkm: 12" in aino.last.text
    problems = {
        "abc": f"Kirjoita Lkm kokonaislukuna väliltä 1–{nbsp('100 000')}, esimerkiksi 12 tai "
        f"{nbsp('1 200')}.",
        "-1": f"Lkm:n on oltava kokonaisluku väliltä 1–{nbsp('100 000')}.",
        "12,5": f"Kirjoita Lkm kokonaislukuna väliltä 1–{nbsp('100 000')}, esimerkiksi "
        f"12 tai {nbsp('1 200')}.",
        "100001": f"Lkm:n on oltava kokonaisluku väliltä 1–{nbsp('100 000')}.",
    }
    for typed, problem in problems.items():
        await aino.send(typed)
        assert aino.last.text.startswith("⚠️ " + problem + "\n\nVaihe 3/4")
        assert aino.last.text.endswith(COUNT_QUESTION)
        assert aino.last.buttons == [["Pidä ennallaan (12)"], ["‹ Takaisin"]]
    events = audit_count(bot)
    await aino.send("1 200")
    assert aino.last.text.startswith("Vaihe 4/4\n\n")
    assert f"Lkm: 12 → {nbsp('1 200')}" in aino.last.text
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]  # not before Save
    await aino.press("Tallenna")
    assert aino.last.text.startswith("✓ Tallennettu.\n\nVaihe 1/4\n\nTallennetut vastaukset")
    assert [f"Taso 1 · Tiedotustilaisuudet: {nbsp('1 200')}"] in aino.last.buttons
    assert _entry(bot, first).count == 1200  # type: ignore[union-attr]
    [event] = audit_rows(bot)[events:]
    assert (event.action, event.entity, event.entity_id) == (
        "update",
        "participation_entry",
        str(first),
    )
    assert event.old["count"] == 12 and event.new["count"] == 1200  # type: ignore[index]
    with bot.db.session() as session:
        contact = people.person_by_telegram_id(session, 2001)
        assert contact is not None and event.person_id == contact.id


async def test_deleting_asks_for_confirmation_back_keeps_and_yes_deletes(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 2 · Kirjastoraati: 3")
    await aino.press("Poista")
    assert aino.last.text.startswith("Vaihe 3/4\n\nPoistetaanko tämä vastaus?")
    assert "Tapa: Kirjastoraati\nLkm: 3\nHuomautus: kk" in aino.last.text
    await aino.press("‹ Takaisin")
    assert aino.last.text.startswith("Vaihe 2/4")
    assert _entry(bot, second) is not None
    events = audit_count(bot)
    await aino.press("Poista")
    await aino.press("Kyllä, poista")
    assert aino.last.text.startswith("✓ Poistettu.\n\nVaihe 1/4\n\nTallennetut vastaukset")
    assert "Kirjastoraati" not in str(aino.last.buttons)
    assert _entry(bot, second) is None and _entry(bot, first) is not None
    [event] = audit_rows(bot)[events:]
    assert (event.action, event.entity, event.entity_id) == (
        "delete",
        "participation_entry",
        str(second),
    )
    assert event.old["method_text"] == "Kirjastoraati" and event.new is None  # type: ignore[index]
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Poista")
    await aino.press("Kyllä, poista")
    assert aino.last.text == (
        "✓ Poistettu.\n\nVuodelle 2026 ei ole tallennettuja vastauksia. Raportoi komennoilla "
        "/raportoi ja /tyytyvaisyys."
    )
    assert participation_entries(bot) == []


async def test_cancelling_a_change_or_going_back_stores_nothing(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    events = audit_count(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("99")
    await aino.press("‹ Takaisin")  # from the confirmation back to the question
    assert aino.last.text.startswith("Vaihe 3/4") and "Lkm: 12" in aino.last.text
    await aino.send("98")
    confirmation = aino.last
    await aino.send("/peru")
    assert aino.last.text == "Peruttu. Mitään ei muutettu."
    record = await aino.press("Tallenna", message=confirmation)
    assert record.text == INVALID
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]
    assert audit_count(bot) == events


async def test_forged_buttons_with_another_divisions_entry_change_nothing(
    bot: BotHarness,
) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.contact(2002, "SOTE")
    i = ids(bot)
    save_participation(bot, 2002, "SOTE_HALLINTO", full_participation(i, {1: 41}))
    save_satisfaction(
        bot, 2002, "SOTE_HALLINTO", [SatisfactionAnswer(i.measurement["NPS"], nps=10)]
    )
    [theirs] = participation_entries(bot, "SOTE")
    [their_sat] = satisfaction_entries(bot)
    mine, _second = _library_with_two_methods(bot)
    events = audit_count(bot)

    await aino.send("/muokkaa")
    for forged in (f"st:ls:p:{theirs.id}", f"st:ls:s:{their_sat.id}", "st:ls:p:999999"):
        record = await aino.press_data(forged)
        assert record.text == INVALID and record.show_alert
    assert "41" not in " ".join(aino.texts())
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    for forged in (
        f"st:em:del:p:{theirs.id}",
        f"st:em:f:count:p:{theirs.id}",
        f"st:em:f:nps:p:{mine}",  # a field this entry does not have
        f"st:em:f:bogus:p:{mine}",
        f"st:cd:yes:p:{mine}",  # a button of another step
    ):
        record = await aino.press_data(forged)
        assert record.text == INVALID, forged
    await aino.press("Muuta Lkm:ää")
    await aino.send("5")
    record = await aino.press_data(f"st:cc:save:p:{theirs.id}")
    assert record.text == INVALID
    assert _entry(bot, theirs.id).count == 41  # type: ignore[union-attr]
    assert _entry(bot, mine).count == 12  # type: ignore[union-attr]
    assert audit_count(bot) == events
    await aino.press("Tallenna")
    assert _entry(bot, mine).count == 5  # type: ignore[union-attr]


async def test_an_entry_deleted_elsewhere_is_no_longer_offered(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.contact(2003, "KUVA")  # a second contact of the same division
    first, second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    with bot.db.transaction() as session:
        other = people.person_by_telegram_id(session, 2003)
        assert other is not None
        reports.delete_entry(session, other, "participation", second)
    record = await aino.press("Taso 2 · Kirjastoraati: 3")
    assert record.text == "Tätä vastausta ei enää ole."
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("20")
    with bot.db.transaction() as session:
        other = people.person_by_telegram_id(session, 2003)
        assert other is not None
        reports.delete_entry(session, other, "participation", first)
    record = await aino.press("Tallenna")
    assert record.text == "Tätä vastausta ei enää ole."
    assert "ei ole tallennettuja vastauksia" in aino.last.text
    assert participation_entries(bot) == []


async def test_a_report_submitted_meanwhile_refuses_the_change(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    bot.contact(2003, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("20")
    with bot.db.transaction() as session:
        other = people.person_by_telegram_id(session, 2003)
        division = catalog.division_by_code(session, "KUVA")
        assert other is not None and division is not None
        reports.submit_report(session, other, YEAR, division.id)
    events = audit_count(bot)
    await aino.press("Tallenna")
    assert aino.last.text.startswith("Raportti on lähetetty")
    assert "Pyydä koordinaattoria avaamaan raportti uudelleen" in aino.last.text
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]
    assert audit_count(bot) == events


async def test_every_part_of_an_nps_from_counts_is_shown_and_nothing_goes_unseen(
    bot: BotHarness,
) -> None:
    """Issue 16, item 7: /muokkaa showed neither the P/N/D counts nor that changing the
    respondents dropped them; now the card shows them, the respondents follow the counts,
    and typing an NPS over them lists the counts that go before anything is saved."""
    aino = bot.contact(2001, "KUVA")
    i = ids(bot)
    save_satisfaction(
        bot,
        2001,
        "KUVA_KIRJASTO",
        [
            SatisfactionAnswer(
                i.measurement["NPS"],
                promoters=50,
                passives=30,
                detractors=20,
                frequency="yearly",
                period="2025",
            )
        ],
    )
    save_satisfaction(
        bot, 2001, "KUVA_LIIKUNTA", [SatisfactionAnswer(i.measurement["NOT_MEASURED"])]
    )
    nps_entry, not_measured = satisfaction_entries(bot)
    await aino.send("/muokkaa")
    assert aino.last.buttons[-2:] == [["Liikunta ›"], ["Lopeta muokkaus"]]
    await aino.press("Liikunta ›")
    await aino.press("Tyytyväisyys · Ei mitata")
    assert aino.last.buttons == [["Poista"], ["‹ Takaisin"]]
    await aino.press("‹ Takaisin")
    await aino.press("‹ Kirjasto")
    await aino.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    card = aino.last.text
    for part in (
        "Tiheys: Kerran vuodessa",
        "NPS: 30",
        "Suosittelijat: 50",
        "Neutraalit: 30",
        "Arvostelijat: 20",
        "Vastaajia: 100",
        "Ajanjakso: 2025",
    ):
        assert part in card, part
    assert aino.last.buttons == [
        ["Muuta suosittelijoiden, neutraalien ja arvostelijoiden määriä"],
        ["Muuta NPS-lukua"],
        ["Muuta mittaustiheyttä"],
        ["Muuta ajanjaksoa"],
        ["Poista"],
        ["‹ Takaisin"],
    ]  # no separate respondents: with counts they are the counts' sum
    await aino.press("Muuta suosittelijoiden, neutraalien ja arvostelijoiden määriä")
    await aino.send("45 35 20")
    change = aino.last.text
    assert "NPS: 30 → 25" in change
    assert "Suosittelijat: 50 → 45" in change and "Neutraalit: 30 → 35" in change
    assert "Arvostelijat" not in change.split("Nämä tiedot muuttuvat:")[1]  # unchanged
    await aino.press("Tallenna")
    entry = _satisfaction(bot, nps_entry.id)
    assert entry is not None
    assert (entry.nps, entry.promoters, entry.passives, entry.respondents) == (25, 45, 35, 100)

    await aino.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    await aino.press("Muuta NPS-lukua")
    for typed in ("-101", "abc"):
        await aino.send(typed)
        assert aino.last.text.startswith("⚠️ ")
        assert aino.last.text.endswith("Kirjoita NPS kokonaislukuna väliltä −100–100.")
    await aino.send("−35")  # the minus sign phones type
    change = aino.last.text.split("Nämä tiedot muuttuvat:")[1]
    assert "NPS: 25 → −35" in change
    for part in ("Suosittelijat: 45", "Neutraalit: 35", "Arvostelijat: 20"):
        assert f"{part} → – (poistuu)" in change, part  # what goes is shown going
    assert "Vastaajia" not in change  # the respondents stay
    await aino.press("Tallenna")
    entry = _satisfaction(bot, nps_entry.id)
    assert entry is not None
    assert (entry.nps, entry.promoters, entry.respondents) == (-35, None, 100)
    update = audit_rows(bot, "update")[-1]
    assert update.entity == "satisfaction_entry" and update.old["promoters"] == 45  # type: ignore[index]

    await aino.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    await aino.press("Muuta vastaajamäärää")  # without counts the respondents are their own
    await aino.send("1 234")
    await aino.press("Tallenna")
    await aino.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    await aino.press("Muuta mittaustiheyttä")
    await aino.press("Kuukausittain")
    assert "Tiheys: Kerran vuodessa → Kuukausittain" in aino.last.text
    await aino.press("Tallenna")
    await aino.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    await aino.press("Muuta ajanjaksoa")
    await aino.send("1–6/2026")
    await aino.press("Tallenna")
    entry = _satisfaction(bot, nps_entry.id)
    assert entry is not None
    assert (entry.respondents, entry.frequency, entry.period) == (1234, "monthly", "1–6/2026")
    assert _satisfaction(bot, not_measured.id) is not None


async def test_a_surveys_result_scale_and_other_name_can_be_changed(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    i = ids(bot)
    save_satisfaction(
        bot,
        2001,
        "KUVA_KIRJASTO",
        [
            SatisfactionAnswer(
                i.measurement["OTHER"], other_name="Palautelomake", scale="1–7", respondents=40
            )
        ],
    )
    [entry] = satisfaction_entries(bot)
    await aino.send("/muokkaa")
    await aino.press("Tyytyväisyys · Muu tapa: Palautelomake")
    assert "Tapa: Palautelomake" in aino.last.text and "Asteikko: 1–7" in aino.last.text
    await aino.press("Muuta asteikkoa")
    await aino.send("1–5")
    await aino.press("Tallenna")
    await aino.press("Tyytyväisyys · Muu tapa: Palautelomake")
    await aino.press("Muuta mittaustavan nimeä")
    await aino.send("Asiakaspalautelomake")
    await aino.press("Tallenna")
    await aino.press("Tyytyväisyys · Muu tapa: Asiakaspalautelomake")
    await aino.press("Muuta viimeisintä tulosta")
    await aino.send("x" * 301)
    assert aino.last.text.startswith("⚠️ Teksti on 301 merkkiä pitkä; enintään 300 mahtuu.")
    await aino.send("  4,2 /\x07 5 ")
    assert "Viimeisin tulos: – → 4,2 / 5" in aino.last.text
    await aino.press("Tallenna")
    saved = _satisfaction(bot, entry.id)
    assert saved is not None
    assert (saved.scale, saved.other_name, saved.latest_result) == (
        "1–5",
        "Asiakaspalautelomake",
        "4,2 / 5",
    )


async def test_a_note_can_be_changed_and_removed(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    _first, second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 2 · Kirjastoraati: 3")
    await aino.press("Muuta huomautusta")
    assert aino.last.buttons == [["Poista huomautus"], ["Pidä ennallaan (kk)"], ["‹ Takaisin"]]
    await aino.send("joka kuukausi & <i>kesällä</i>")
    await aino.press("Tallenna")
    assert _entry(bot, second).note == "joka kuukausi & <i>kesällä</i>"  # type: ignore[union-attr]
    await aino.press("Taso 2 · Kirjastoraati: 3")
    await aino.press("Muuta huomautusta")
    await aino.press("Poista huomautus")
    assert "Huomautus: joka kuukausi & <i>kesällä</i> → –" in aino.last.text
    await aino.press("Tallenna")
    assert _entry(bot, second).note is None  # type: ignore[union-attr]


async def test_one_service_entity_per_page_named_on_its_buttons(bot: BotHarness) -> None:
    """Issue 16, item 12: one entity a page (not 8 entries of several), buttons that name
    the entry and the neighbouring entities in full, and ids in the button data so a delete
    never makes a button open another entry."""
    aino = bot.contact(2001, "KUVA")
    i = ids(bot)
    for code in (
        "KUVA_KULTTUURI",
        "KUVA_KIRJASTO",
        "KUVA_LIIKUNTA",
        "KUVA_NUORISO",
        "KUVA_HALLINTO",
    ):
        save_participation(bot, 2001, code, full_participation(i, {1: 1, 2: 2, 3: 3, 4: 4}))
    await aino.send("/muokkaa")
    assert "Tallennetut vastaukset 2026: Kulttuuri\nPalvelukokonaisuus 1/5" in aino.last.text
    assert aino.last.buttons[-2:] == [["Kirjasto ›"], ["Lopeta muokkaus"]]
    labels = [label for row in aino.last.buttons[:-2] for label in row]
    assert labels[-1] == "Taso 4 · Osallistuvan budjetoinnin ehdotusten määrä: 4"  # not cut
    assert not any("…" in label for label in labels)
    await aino.press("Kirjasto ›")
    assert "Kirjasto\nPalvelukokonaisuus 2/5" in aino.last.text
    assert aino.last.buttons[-2:] == [["‹ Kulttuuri", "Liikunta ›"], ["Lopeta muokkaus"]]
    for _ in range(3):
        await aino.press(aino.last.buttons[-2][-1])
    assert "Hallinto\nPalvelukokonaisuus 5/5" in aino.last.text
    for row in aino.last.inline_keyboard:
        for button in row:
            assert len(str(button["callback_data"]).encode()) <= 64
    list_message = aino.last
    old = list_message.find_button("Taso 2 · Keskustelutilaisuudet: 2")
    assert old is not None
    await aino.press("Taso 1 · Tiedotustilaisuudet: 1")
    await aino.press("Poista")
    await aino.press("Kyllä, poista")
    # The presses turned that message into each next question and back into the list (in
    # place); a button of the list as it was before is stale.
    record = await aino.press_data(str(old["callback_data"]), message=list_message)
    assert record.text == INVALID  # an old list's button never opens another entry
    await aino.press("Taso 4 · Osallistuvan budjetoinnin ehdotusten määrä: 4")
    assert "Hallinto · Taso 4" in aino.last.text
    await aino.press("‹ Takaisin")
    assert "Palvelukokonaisuus 5/5" in aino.last.text  # back to the same page
    await aino.press("Lopeta muokkaus")
    assert aino.last.text == "Muokkaus päättyi. /tila näyttää tilanteen."


async def test_a_restart_in_the_middle_continues_at_the_same_step(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await bot.restart()
    await aino.send("7")
    assert "Lkm: 12 → 7" in aino.last.text
    await bot.restart()
    await aino.press("Tallenna")
    assert _entry(bot, first).count == 7  # type: ignore[union-attr]


async def test_idle_for_30_minutes_ends_the_edit_without_changes(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    bot.clock.advance(minutes=29)
    await aino.send("abc")  # activity keeps it alive
    bot.clock.advance(minutes=29)
    await aino.send("7")
    assert "Lkm: 12 → 7" in aino.last.text
    bot.clock.advance(minutes=31)
    await aino.press("Tallenna")
    assert aino.last.text == (
        "Vaihe päättyi, koska mitään ei tapahtunut 30 minuuttiin. Mitään ei muutettu."
    )
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]


async def test_another_command_pauses_the_edit_and_tila_does_not(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("/tila")  # only shows something: the edit stays open
    assert "tilanne 2026" in aino.last.text
    await aino.send("8")
    assert "Lkm: 12 → 8" in aino.last.text
    confirmation = aino.last
    await aino.send("/aikataulu")  # another command pauses the edit ...
    await aino.send("9")  # ... so a number typed now is not taken as its answer
    assert aino.last.text == "En ymmärtänyt. /ohje kertoo, mitä voit tehdä."
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]
    await aino.press("Tallenna", message=confirmation)  # its own button continues it
    assert _entry(bot, first).count == 8  # type: ignore[union-attr]
    await aino.press("Taso 1 · Tiedotustilaisuudet: 8")
    await aino.press("Muuta Lkm:ää")
    await aino.send("/olematon")  # an unknown command changes nothing
    await aino.send("10")
    assert "Lkm: 8 → 10" in aino.last.text


async def test_help_and_typed_text_where_a_button_is_expected(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.send("/ohje")
    assert "Jokainen sivu on yksi toimialasi palvelukokonaisuus" in aino.texts()[-2]
    assert "Tallennetut vastaukset 2026" in aino.last.text  # and the question again
    await aino.send("ensimmäinen")
    assert aino.last.text.startswith("⚠️ Valitse jokin alla olevista painikkeista.")
    assert "Tallennetut vastaukset 2026" in aino.last.text
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.send("/ohje")
    assert "Kortti näyttää vastauksen kaikki tallennetut tiedot." in aino.texts()[-2]
    await aino.press("Muuta Lkm:ää")
    await aino.send("/ohje")
    assert "Kirjoita uusi arvo." in aino.texts()[-2]
    await aino.send("5")
    await aino.send("/ohje")
    assert "Tarkista jokainen muuttuva tieto, vanha → uusi." in aino.texts()[-2]
    await aino.send("tallenna")
    assert aino.last.text.startswith("⚠️ Valitse jokin alla olevista painikkeista.")
    assert aino.last.buttons == [["Tallenna"], ["‹ Takaisin"]]


async def test_unknown_person_and_coordinator_are_refused_without_data(bot: BotHarness) -> None:
    bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    coordinator = bot.user(3001, "Kaisa")
    bot.register(3001, Role.COORDINATOR, name="Kaisa")
    stranger = bot.user(4001, "Outi")
    for user in (coordinator, stranger):
        await user.send("/muokkaa")
        assert "oikeutta" in user.last.text
        record = await user.press_data(f"st:ls:p:{first}")
        assert record.text == INVALID
        assert "Kirjasto" not in " ".join(user.texts())
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]


async def test_nothing_to_edit_says_where_to_report(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    await aino.send("/muokkaa")
    assert aino.last.text == (
        "Vuodelle 2026 ei ole tallennettuja vastauksia. Raportoi komennoilla /raportoi ja "
        "/tyytyvaisyys."
    )


async def test_a_failed_reply_after_saving_keeps_the_change(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("15")
    bot.api.fail_next("editMessageText", "network", chat_id=2001)
    await aino.press("Tallenna")
    assert _entry(bot, first).count == 15  # type: ignore[union-attr]
    await aino.send("/muokkaa")
    assert ["Taso 1 · Tiedotustilaisuudet: 15"] in aino.last.buttons


async def test_edit_in_english_and_swedish(bot: BotHarness) -> None:
    ann = bot.contact(2001, "KUVA", "Ann", language="en")
    _library_with_two_methods(bot)
    await ann.send("/muokkaa")
    assert ann.last.text.startswith("Step 1/4\n\nSaved answers, 2026: Library")
    await ann.press("Level 1 · Information events: 12")
    assert ann.last.buttons == [["Change the count"], ["Change the note"], ["Delete"], ["‹ Back"]]
    await ann.press("Change the count")
    await ann.send("lots")
    assert ann.last.text.startswith("⚠️ Type the count as a whole number 1–100,000")
    await ann.send("1 500")
    assert "Count: 12 → 1,500" in ann.last.text
    await ann.press("Save")
    assert ann.last.text.startswith("✓ Saved.")
    sven = bot.contact(2002, "KUVA", "Sven", language="sv")
    await sven.send("/muokkaa")
    assert sven.last.text.startswith("Steg 1/4\n\nSparade svar 2026")
    await sven.press("Nivå 2 · Kirjastoraati: 3")
    await sven.press("Radera")
    assert sven.last.buttons == [["Ja, radera"], ["‹ Tillbaka"]]
    await sven.press("Ja, radera")
    assert sven.last.text.startswith("✓ Raderat.")
    with bot.db.session() as session:
        assert len(list(session.scalars(select(ParticipationEntry)))) == 1


async def test_editing_and_the_reporting_conversation_take_turns(bot: BotHarness) -> None:
    aino = bot.contact(2001, "KUVA")
    first, _second = _library_with_two_methods(bot)
    await aino.send("/muokkaa")
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("30")
    confirmation = aino.last
    await aino.send("/raportoi")  # reporting starts: typed text goes there now
    assert aino.last.text.startswith("Vaihe 1/")
    await aino.send("/muokkaa")  # editing starts again from the list
    assert "Tallennetut vastaukset 2026" in aino.last.text
    record = await aino.press("Tallenna", message=confirmation)  # an older question
    assert record.text == INVALID
    assert _entry(bot, first).count == 12  # type: ignore[union-attr]
    await aino.press("Taso 1 · Tiedotustilaisuudet: 12")
    await aino.press("Muuta Lkm:ää")
    await aino.send("31")
    await aino.press("Tallenna")
    assert _entry(bot, first).count == 31  # type: ignore[union-attr]


async def test_muokkaa_names_a_survey_by_the_scale_it_was_saved_with(bot: BotHarness) -> None:
    """As /tila and the documents do (item 9): "Kysely (asteikko 1–7)", never the catalog's
    1–5 beside a saved 1–7."""
    from .test_reporting_helpers import YEAR, entity_id, type_id

    aino = bot.contact(2091, "KUVA")
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, 2091)
        assert contact is not None
        survey = reports.SatisfactionAnswer(type_id(bot, "SURVEY_1_5"), scale="1–7")
        reports.save_satisfaction(session, contact, YEAR, entity_id(bot, "KUVA_KIRJASTO"), [survey])
    await aino.send("/muokkaa")
    assert ["Tyytyväisyys · Kysely (asteikko 1–7)"] in aino.last.buttons
    await aino.press("Tyytyväisyys · Kysely (asteikko 1–7)")
    assert "Mittaustapa: Kysely (asteikko 1–7)" in aino.last.text
