"""The effort a contact spends, counted: inputs = messages typed + buttons pressed.

Each test plays one task from the command to the saved answers through the local Telegram
and asserts the number of inputs against the target of the conversation issue (the old
flow needed 19 inputs for one entity with one method per level, about 31 with two, and 13
for an NPS from counts).
"""

from __future__ import annotations

from localtg import LocalUser

from .conftest import BotHarness
from .test_reporting_helpers import participation, satisfaction, save_last_year, type_id


class Counted:
    """A person whose every message and button press is counted."""

    def __init__(self, user: LocalUser) -> None:
        self.user = user
        self.inputs = 0

    async def send(self, text: str) -> None:
        self.inputs += 1
        await self.user.send(text)

    async def press(self, label: str) -> None:
        self.inputs += 1
        await self.user.press(label)

    @property
    def text(self) -> str:
        return self.user.last.text


FIRST_METHODS = {
    1: ("Tiedotustilaisuudet", "Asiakasneuvontakanavat"),
    2: ("Keskustelutilaisuudet", "Aktiiviset somekanavat"),
    3: ("Asiakasraadit", "Verkossa toimivat kehittämisalustat"),
}


def _saved(bot: BotHarness, code: str) -> list[tuple[int, str | None, int]]:
    return sorted((a["level"], a["method"], a["count"]) for a in participation(bot, code))


async def _one_method_per_level_by_buttons(person: Counted) -> None:
    """Kirjasto saved with the first catalog method of each level, all by buttons."""
    await person.send("/raportoi")
    await person.press("Kirjasto")
    for level in (1, 2, 3):
        await person.press(FIRST_METHODS[level][0])
        await person.send(str(level * 10))
        await person.press("Seuraava taso ›")
    await person.press("Osallistuvan budjetoinnin ehdotusten määrä")
    await person.send("40")
    await person.press("Yhteenvetoon ›")
    await person.press("💾 Tallenna")
    assert "Tallennettu: Kirjasto, 2026" in person.text


async def test_one_method_per_level_by_buttons_takes_at_most_15_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9501, "KUVA"))
    await _one_method_per_level_by_buttons(person)
    assert person.inputs <= 15, person.inputs
    assert len(_saved(bot, "KUVA_KIRJASTO")) == 4


async def test_one_method_per_level_typed_takes_at_most_7_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9502, "KUVA"))
    await person.send("/raportoi")
    await person.press("Kirjasto")
    assert "1. Tiedotustilaisuudet" in person.text  # the level numbers its methods
    await person.send("1 12")
    assert "Taso 2" in person.text  # recorded, and on to the next level
    await person.send("1 3")
    await person.send("Asiakasraadit 5")  # a catalog method by its name
    await person.send("1 1 200")  # method 1, count 1 200
    assert "Yhteenveto: Kirjasto" in person.text
    await person.press("💾 Tallenna")
    assert person.inputs <= 7, person.inputs
    assert _saved(bot, "KUVA_KIRJASTO") == [
        (1, "Tiedotustilaisuudet", 12),
        (2, "Keskustelutilaisuudet", 3),
        (3, "Asiakasraadit", 5),
        (4, "Osallistuvan budjetoinnin ehdotusten määrä", 1200),
    ]


async def test_two_methods_per_level_by_buttons_takes_at_most_23_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9503, "KUVA"))
    await person.send("/raportoi")
    await person.press("Liikunta")
    for level in (1, 2, 3):
        for n, method in enumerate(FIRST_METHODS[level], start=1):
            await person.press(method)
            await person.send(str(level * 10 + n))
        await person.press("Seuraava taso ›")
    await person.press("Osallistuvan budjetoinnin ehdotusten määrä")
    await person.send("7")
    await person.send("Asukasilta")  # a name typed on the list is a new method
    await person.send("2")
    await person.press("Yhteenvetoon ›")
    await person.press("💾 Tallenna")
    assert person.inputs <= 23, person.inputs
    assert len(_saved(bot, "KUVA_LIIKUNTA")) == 8


async def test_two_methods_per_level_typed_takes_at_most_7_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9504, "KUVA"))
    await person.send("/raportoi")
    await person.press("Liikunta")
    await person.send("1 12, 2 3")
    await person.send("1 4; 2 1 500")
    await person.send("1 2\n3 9")
    await person.send("1 7, Asukasilta 2")  # a method not in the list, with its count
    await person.press("💾 Tallenna")
    assert person.inputs <= 7, person.inputs
    assert _saved(bot, "KUVA_LIIKUNTA") == [
        (1, "Asiakasneuvontakanavat", 3),
        (1, "Tiedotustilaisuudet", 12),
        (2, "Aktiiviset somekanavat", 1500),
        (2, "Keskustelutilaisuudet", 4),
        (3, "Asiakasraadit", 2),
        (3, "Vapaaehtoistoiminta", 9),
        (4, "Asukasilta", 2),
        (4, "Osallistuvan budjetoinnin ehdotusten määrä", 7),
    ]


async def test_an_entity_unchanged_from_last_year_takes_at_most_4_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9505, "KUVA"))
    save_last_year(bot, 9505, "KUVA_NUORISO")
    await person.send("/raportoi")
    await person.press("Nuoriso")
    await person.press("Sama kuin 2025")
    await person.press("💾 Tallenna")
    assert person.inputs <= 4, person.inputs
    assert len(_saved(bot, "KUVA_NUORISO")) == 4


async def test_same_methods_new_counts_asks_only_the_counts(bot: BotHarness) -> None:
    person = Counted(bot.contact(9506, "KUVA"))
    save_last_year(bot, 9506, "KUVA_NUORISO")  # Kyselyt 40, Lukupiiri 6, levels 3–4 none
    await person.send("/raportoi")
    await person.press("Nuoriso")
    await person.press("Samat tavat, uudet määrät")
    assert "Viime vuoden tapa 1/2" in person.text and "Kyselyt" in person.text
    assert "Sama kuin 2025 (40)" in str(person.user.last.buttons)  # last year's, named so
    assert "Vuonna 2025: 40." in person.text and "Nyt:" not in person.text
    await person.send("44")
    assert "Viime vuoden tapa 2/2" in person.text and "Lukupiiri" in person.text
    await person.send("7")
    assert "Yhteenveto: Nuoriso" in person.text
    await person.press("💾 Tallenna")
    assert person.inputs <= 6, person.inputs
    assert [(level, count) for level, _m, count in _saved(bot, "KUVA_NUORISO")] == [
        (1, 44),
        (2, 7),
        (3, 0),
        (4, 0),
    ]


async def test_nps_from_counts_takes_at_most_8_inputs(bot: BotHarness) -> None:
    person = Counted(bot.contact(9507, "KUVA"))
    await person.send("/tyytyvaisyys")
    await person.press("Kirjasto")
    await person.press("☐ Suositteluindeksi (NPS, 0–10)")
    await person.press("Jatka ›")
    await person.press("Kerran vuodessa")
    await person.send("50 30 20")
    await person.send("2025")
    await person.press("💾 Tallenna")
    assert person.inputs <= 8, person.inputs
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert saved.measurement_type_id == type_id(bot, "NPS")
    assert (saved.nps, saved.respondents, saved.period) == (30, 100, "2025")


def _messages_left(bot: BotHarness, person: Counted, task: str) -> int:
    """The bot messages the task left in the chat (each edit turned one into the next
    question instead of adding one), printed with the inputs and edits it took."""
    sent = len(bot.api.calls_to("sendMessage"))
    edits = len(bot.api.calls_to("editMessageText"))
    print(f"\n{task}: {person.inputs} inputs, {sent} messages, {edits} edits")
    assert len(person.user.messages) == sent
    return sent


async def test_buttons_edit_the_question_in_place_so_one_entity_takes_at_most_6_messages(
    bot: BotHarness,
) -> None:
    """A press answers by turning the pressed question into the next one (an edit, through
    the outbox and the send budget), so the chat holds one message per typed answer plus
    the first question and the saved summary: 6 bot messages and 9 edits for the 15 inputs
    above (before: 15 messages, every press and every typed count got a new one)."""
    person = Counted(bot.contact(9510, "KUVA"))
    await _one_method_per_level_by_buttons(person)
    assert _messages_left(bot, person, "one entity by buttons") <= 6


async def test_satisfaction_buttons_edit_the_question_in_place_so_an_nps_takes_at_most_4_messages(
    bot: BotHarness,
) -> None:
    """/tyytyvaisyys as /raportoi: a press turns the pressed question into the next one, a
    typed answer gets a new message, the end says its words anew: the NPS from counts above
    (8 inputs, 5 of them presses) leaves 4 bot messages in the chat (before: 7 and 1 edit,
    only the type toggle edited its question)."""
    person = Counted(bot.contact(9511, "KUVA"))
    await person.send("/tyytyvaisyys")
    await person.press("Kirjasto")
    await person.press("☐ Suositteluindeksi (NPS, 0–10)")
    await person.press("Jatka ›")
    await person.press("Kerran vuodessa")
    await person.send("50 30 20")
    await person.send("2025")
    await person.press("💾 Tallenna")
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert (saved.nps, saved.respondents, saved.period) == (30, 100, "2025")
    assert _messages_left(bot, person, "an NPS from counts") <= 4


async def test_muokkaa_buttons_edit_the_question_in_place_so_a_change_by_buttons_takes_1_message(
    bot: BotHarness,
) -> None:
    """/muokkaa as /raportoi: changing a saved answer's frequency by buttons (the answer, the
    field, the new value, save) keeps the command's one message, turned from the list into
    each next question and back into the list with "saved" (before: 5 messages for the 5
    inputs, none edited)."""
    from data.reports import SatisfactionAnswer

    from .test_status_support import ids, save_satisfaction

    person = Counted(bot.contact(9512, "KUVA"))
    i = ids(bot)
    nps = SatisfactionAnswer(
        i.measurement["NPS"], nps=30, respondents=100, frequency="yearly", period="2025"
    )
    save_satisfaction(bot, 9512, "KUVA_KIRJASTO", [nps])
    await person.send("/muokkaa")
    await person.press("Tyytyväisyys · Suositteluindeksi (NPS, 0–10)")
    await person.press("Muuta mittaustiheyttä")
    await person.press("Kuukausittain")
    await person.press("Tallenna")
    [saved] = satisfaction(bot, "KUVA_KIRJASTO")
    assert saved.frequency == "monthly"
    assert _messages_left(bot, person, "a frequency changed in /muokkaa") <= 1
