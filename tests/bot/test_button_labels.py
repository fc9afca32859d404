"""Button labels built from names are shortened at a word, never mid-word (issue 16, item 15).

The longest catalog names (the hospital services, the participatory-budgeting method) and
long names typed by a person go through /raportoi, /tyytyvaisyys and /muokkaa in Finnish,
Swedish and English; every button shown on the way is collected. A label may end in "…",
but the word before it is always a whole word (or the part of a hyphenated word up to its
hyphen), and two typed names that differ only at the end keep their ends apart.
"""

from __future__ import annotations

import re

import pytest

from data import catalog, people, reports
from data.models import CatalogMethod, Level, MeasurementType, Role, ServiceEntity
from localtg import LocalUser

from .conftest import BotHarness
from .test_admin_support import report_entity, staff
from .test_reporting_helpers import YEAR, entity_id, type_id

#: Two typed method names per language that differ only in their last words, and a note.
TYPED = {
    "fi": (
        "Kaupunginosien asukasraatien kokoukset keväällä",
        "Kaupunginosien asukasraatien kokoukset syksyllä",
        "Mittaustapa, jossa asukkaat arvioivat palvelun laatua kävelykierroksella",
    ),
    "sv": (
        "Stadsdelarnas invånarpaneler och deras möten på våren",
        "Stadsdelarnas invånarpaneler och deras möten på hösten",
        "Mätning där invånarna bedömer tjänstens kvalitet under en promenad",
    ),
    "en": (
        "Neighbourhood residents' panel meetings in the spring",
        "Neighbourhood residents' panel meetings in the autumn",
        "Residents rate the quality of the service on a walking tour of the area",
    ),
}
ENTITY = "SOTE_SAIRAALA_HOIVA"  # the longest service entity name in every language
TOKEN = re.compile(r"[^\s-]+-?")


class Collecting:
    """A person whose every screen's buttons are kept."""

    def __init__(self, user: LocalUser) -> None:
        self.user = user
        self.labels: list[str] = []

    def _keep(self) -> None:
        self.labels += [label for row in self.user.last.buttons for label in row]

    async def send(self, text: str) -> None:
        await self.user.send(text)
        self._keep()

    async def press(self, label: str) -> None:
        await self.user.press(label)
        self._keep()

    async def press_starting(self, start: str) -> None:
        labels = [label for row in self.user.last.buttons for label in row]
        found = [label for label in labels if label.startswith(start)]
        assert found, (start, labels)
        await self.press(found[0])


def _words(bot: BotHarness, typed: tuple[str, ...]) -> set[str]:
    """Every whole word (and hyphenated part) a label can show of a name."""
    names: list[str] = list(typed)
    with bot.db.session() as session:
        rows: list[Level | ServiceEntity | MeasurementType | CatalogMethod] = [
            *catalog.levels(session),
            *catalog.service_entities(session),
            *catalog.measurement_types(session),
        ]
        for level in catalog.levels(session):
            rows += catalog.methods_for_level(session, level.id)
        names += [name for row in rows for name in row.name.values()]
    return {token.strip(",;:()") for name in names for token in TOKEN.findall(name)}


def _cut_mid_word(labels: list[str], words: set[str]) -> list[str]:
    cut = []
    for label in labels:
        for before in re.findall(r"(\S+)…", label):
            last = TOKEN.findall(before)[-1].strip(",;:()")
            if last not in words:
                cut.append(label)
    return cut


def _save_other_measurement(bot: BotHarness, telegram_id: int, name: str) -> None:
    with bot.db.transaction() as session:
        contact = people.person_by_telegram_id(session, telegram_id)
        assert contact is not None
        answers = [
            reports.SatisfactionAnswer(type_id(bot, "SURVEY_1_5"), scale="1–5", respondents=40),
            reports.SatisfactionAnswer(type_id(bot, "OTHER"), other_name=name, latest_result=name),
        ]
        reports.save_satisfaction(session, contact, YEAR, entity_id(bot, ENTITY), answers)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
async def test_no_button_label_ends_in_a_cut_word(bot: BotHarness, language: str) -> None:
    spring, autumn, long_text = TYPED[language]
    person = Collecting(bot.contact(9701, "SOTE", language=language))
    with bot.db.session() as session:
        entity = session.get(ServiceEntity, entity_id(bot, ENTITY))
        assert entity is not None
        entity_name = entity.name[language]

    await person.send("/raportoi")
    await person.press(entity_name)
    await person.send(f"{spring} 3, {autumn} 4")  # level 1, two long names typed
    await person.send("1 5")  # level 2
    await person.send("1 2")  # level 3
    await person.send("1 7")  # level 4: the participatory-budgeting method
    summary = [label for row in person.user.last.buttons for label in row]
    edits = [label for label in summary if label.startswith("✎")]
    assert len(set(edits)) == len(edits) == 5, edits  # the two typed names stay apart
    await person.press_starting("✎")  # the first typed method: its count, Keep
    await person.press(person.user.last.buttons[0][0])
    await person.press_starting("💾")

    _save_other_measurement(bot, 9701, long_text)
    await person.send("/tyytyvaisyys")
    await person.press_starting("✓ " + entity_name[:10])
    report_entity(bot, 9701, "SOTE_TERVEYS_PAIHDE", satisfaction=False)  # a page before
    await person.send("/muokkaa")
    pages = [label for row in person.user.last.buttons for label in row if label.endswith("›")]
    assert pages and "…" in pages[0], pages  # the neighbour's long name, cut at a word
    await person.press(pages[0])
    entries = [row[0] for row in person.user.last.buttons[:-2]]  # not the pages, not Stop
    for label in entries:
        await person.press(label)
        await person.press(person.user.last.buttons[0][0])  # its first part: the Keep button
        await person.send("/muokkaa")
        await person.press(pages[0])

    cut = _cut_mid_word(person.labels, _words(bot, TYPED[language]))
    assert not cut, cut
    assert len([label for label in person.labels if "…" in label]) >= 10, person.labels


async def test_a_long_telegram_name_is_cut_at_a_word_on_the_people_list(bot: BotHarness) -> None:
    name = "Aino-Maria Kristiina Johanna Asukas-Virtanen von Hellens-Gripenberg"
    sanna = staff(bot, 9711, "Sanna")
    bot.register(9712, Role.CONTACT, division="KUVA", name=name)
    await sanna.send("/henkilot")
    labels = [label for row in sanna.last.buttons for label in row if "Aino" in label]
    assert labels and labels[0].endswith("…") and len(labels[0]) <= 52, labels
    assert not _cut_mid_word(labels, {token.strip(",") for token in TOKEN.findall(name)}), labels
