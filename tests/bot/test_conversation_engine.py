"""What the one conversation engine fixes, each through the local Telegram.

The numbers refer to the items of the conversation issue: edits never drop an answer (2),
a method typed on the list is a method (3), an unknown command pauses nothing (4), "Muu
tapa" is named (5), a typed scale is shown and NPS asks none (6), the summary stays in
reading order (7), one Back label (15), /muokkaa buttons name the method (14) — and the
draft row being the only state: every update may meet a fresh Application.
"""

from __future__ import annotations

from sqlalchemy import select

from data.models import ConversationDraft
from data.snapshot import build_snapshot

from .conftest import BotHarness
from .test_reporting_helpers import draft, participation, satisfaction, type_id


async def test_a_conversation_completes_when_every_update_meets_a_new_application(
    bot: BotHarness,
) -> None:
    user = bot.contact(9601, "KUVA")
    steps = [
        ("send", "/raportoi"),
        ("press", "Kirjasto"),
        ("press", "Kyselyt"),
        ("send", "12"),
        ("press", "✎ Lisää huomautus: Kyselyt"),
        ("send", "verkossa"),
        ("send", "1 3"),
        ("press", "Ei tapoja tällä tasolla"),
        ("send", "Asukasilta 2"),
        ("press", "Ei tapoja tällä tasolla"),
        ("press", "💾 Tallenna"),
    ]
    for action, value in steps:
        await bot.restart()  # nothing of the conversation is in the process
        await (user.send(value) if action == "send" else user.press(value))
    assert "Tallennettu: Kirjasto, 2026" in user.last.text
    saved = sorted(
        (a["level"], a["method"], a["count"], a["note"])
        for a in participation(bot, "KUVA_KIRJASTO")
    )
    assert saved == [
        (1, "Kyselyt", 12, "verkossa"),
        (1, "Tiedotustilaisuudet", 3, None),
        (2, None, 0, None),
        (3, "Asukasilta", 2, None),
        (4, None, 0, None),
    ]


async def test_a_method_typed_on_the_list_is_taken_as_a_new_method(bot: BotHarness) -> None:
    user = bot.contact(9602, "KUVA")
    await user.send("/raportoi")
    await user.press("Kulttuuri")
    await user.send("Taidekierros")
    assert "Taidekierros\nLkm: kuinka monta vuonna 2026?" in user.last.text
    await user.send("4")
    assert "• Taidekierros – Lkm 4" in user.last.text
    await user.send("9")  # a bare number is not a method name
    assert "En saanut tästä selvää" in user.last.text


async def test_an_unknown_command_pauses_nothing_and_claims_no_unsaved_answers(
    bot: BotHarness,
) -> None:
    user = bot.contact(9603, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("/foo")
    await user.send("1 5")  # still taken by the report: recorded, on to level 2
    assert "Taso 2: Vuorovaikutus" in user.last.text
    other = bot.contact(9604, "KUVA")
    await other.send("/raportoi")
    await other.press("Kirjasto")
    await other.send("/foo")
    await other.send("/raportoi")  # nothing was answered: no "unsaved answers?" question
    assert "tallentamattomia" not in other.last.text
    assert "Taso 1" in other.last.text


async def test_changing_one_detail_from_the_summary_keeps_every_other_answer(
    bot: BotHarness,
) -> None:
    user = bot.contact(9605, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.press("Jatka ›")
    await user.press("Pidä ennallaan (1–5)")
    await user.press("Kerran vuodessa")
    await user.send("4,1")
    await user.send("2025")
    await user.send("250")
    await user.press("✎ Kysely (asteikko 1–5)")
    for label in (
        "Pidä ennallaan (1–5)",
        "Pidä ennallaan (Kerran vuodessa)",
        "Pidä ennallaan (4,1)",
    ):
        await user.press(label)
    await user.send("syksy 2025")  # only the period changes
    await user.press("Pidä ennallaan (250)")
    assert "Viimeisin tulos: 4,1 · Ajanjakso: syksy 2025 · Vastaajia: 250" in user.last.text
    await user.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert (saved.latest_result, saved.period, saved.respondents) == ("4,1", "syksy 2025", 250)


async def test_muu_tapa_is_named_and_the_documents_say_the_name(bot: BotHarness) -> None:
    user = bot.contact(9606, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Nuoriso")
    await user.press("☐ Muu tapa")
    await user.press("Jatka ›")
    await user.send("Nuorisotalojen palautetaulu")
    await user.send("1-3")  # a scale of its own
    await user.press("Jatkuvasti")
    await user.send("2,6")
    await user.press("Ohita")
    await user.press("Ohita")
    assert "1) Muu tapa: Nuorisotalojen palautetaulu" in user.last.text
    await user.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_NUORISO")
    assert (saved.other_name, saved.scale, saved.frequency) == (
        "Nuorisotalojen palautetaulu",
        "1–3",  # the rule book writes a typed "1-3" with the en dash, as the catalog does
        "continuous",
    )
    with bot.db.session() as session:
        snapshot = build_snapshot(session, 2026)
    [item] = [s for s in snapshot.satisfaction if s.entity_code == "KUVA_NUORISO"]
    assert item.measurement.name.fi == "Muu tapa: Nuorisotalojen palautetaulu"


async def test_a_typed_scale_replaces_the_catalogs_everywhere_and_nps_asks_none(
    bot: BotHarness,
) -> None:
    user = bot.contact(9607, "KUVA")
    await user.send("/tyytyvaisyys")
    await user.press("Liikunta")
    await user.press("☐ Suositteluindeksi (NPS, 0–10)")
    await user.press("☐ Kysely (asteikko 1–5)")
    await user.press("Jatka ›")
    assert "Kuinka usein mitataan?" in user.last.text  # NPS: no scale question
    await user.press("Kerran vuodessa")
    await user.send("35")
    await user.press("Ohita")
    await user.press("Ohita")
    await user.send("1–7")
    assert "Kysely (asteikko 1–7) (2/2)" in user.last.text
    await user.press("‹ Takaisin")
    assert "Nyt 1–7 (luettelossa 1–5)" in user.last.text  # not "Luettelon mukaan 1–7"
    await user.press("Pidä ennallaan (1–7)")
    await user.press("Kuukausittain")
    await user.send("6,5")  # on the scale 1–7, not 1–5
    await user.press("Ohita")
    await user.press("Ohita")
    await user.press("💾 Tallenna")
    with bot.db.session() as session:
        snapshot = build_snapshot(session, 2026)
    survey = next(
        s
        for s in snapshot.satisfaction
        if s.entity_code == "KUVA_LIIKUNTA" and s.measurement.code == "SURVEY_1_5"
    )
    assert survey.measurement.name.fi == "Kysely (asteikko 1–7)" and survey.scale == "1–7"


async def test_the_summary_stays_numbered_in_reading_order_after_delete_and_add(
    bot: BotHarness,
) -> None:
    user = bot.contact(9608, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("1 1, 2 2")
    await user.send("1 3")
    await user.send("1 4")
    await user.send("1 5")
    await user.press("🗑 T1 Tiedotustilaisuudet")
    await user.press("Taso 1")
    await user.send("3 6")
    review = user.last.text
    order = [review.index(f"{n}) ") for n in range(1, 6)]
    assert order == sorted(order)
    assert "1) Asiakasneuvontakanavat – Lkm 2" in review
    assert "2) Palautekanavat – Lkm 6" in review
    labels = [label for row in user.last.buttons for label in row if label.startswith("✎")]
    assert labels[:2] == ["✎ T1 Asiakasneuvontakanavat", "✎ T1 Palautekanavat"]  # names
    assert len(labels) == 5


async def test_one_back_label_in_every_guided_flow(bot: BotHarness) -> None:
    user = bot.contact(9609, "KUVA")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("1 1")
    await user.send("/tyytyvaisyys")
    await user.press("Kirjasto")
    await user.send("/muokkaa")
    await user.send("/valmis")
    labels = {
        label
        for message in user.messages
        for row in message.buttons
        for label in row
        if "Takaisin" in label
    }
    assert labels == {"‹ Takaisin"}


async def test_muokkaa_buttons_name_the_method_in_full(bot: BotHarness) -> None:
    user = bot.contact(9610, "SOTE")
    await user.send("/raportoi")
    await user.press("Sairaala-, kuntoutus- ja hoivapalvelut")
    await user.send("Omaishoitajien vertaisryhmätapaamiset 14")
    for _ in range(3):
        await user.press("Ei tapoja tällä tasolla")
    await user.press("💾 Tallenna")
    await user.send("/muokkaa")
    [label] = [label for row in user.last.buttons for label in row if label.startswith("Taso")]
    assert label == "Taso 1 · Omaishoitajien vertaisryhmätapaamiset: 14"


async def test_no_draft_is_left_open_when_a_flow_ends(bot: BotHarness) -> None:
    user = bot.contact(9611, "KUVA")
    await user.send("/valmis")
    await user.press("Peru")
    await user.send("/raportoi")
    await user.press("Kirjasto")
    await user.send("/peru")
    with bot.db.session() as session:
        assert list(session.scalars(select(ConversationDraft))) == []
    assert draft(bot, 9611, "reporting") is None
    assert type_id(bot, "NPS") > 0
