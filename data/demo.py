"""A realistic sample round for demos, screenshots and tests.

``seed_demo_round`` fills a year's round (and last year's, so "change from last year" has
something to show) with the kind of answers the four divisions really give: catalog
methods mixed with their own (asukasraati, kokemusasiantuntijaryhmä, OmaStadi proposals,
Kerrokantasi, Helsinki-palaute …), explicit "no methods at this level" answers, and a
satisfaction mapping with NPS counts, 1–5 surveys, school grades, smiley terminals and
some service entities that do not measure at all.

The data is a function of the year only (a seeded ``random.Random``), so two demo
databases produce byte-identical documents.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data import catalog
from data.answers import nps_from_counts
from data.models import (
    CatalogMethod,
    LevelNoneAnswer,
    MeasurementType,
    ParticipationEntry,
    ReportState,
    ReportStatus,
    SatisfactionEntry,
    ServiceEntity,
)
from data.progress import find_round, get_or_create_round

# Division-specific methods of their own: (level number, method text, typical count
# range, the service entities it belongs to — None: any of the division's). A library
# survey belongs to the library, school councils to schools, not to early childhood.
SCHOOLS = ("KASKO_PERUSOPETUS", "KASKO_LUKIO_AMMATILLINEN", "KASKO_RUOTSINKIELISET")
OWN_METHODS: dict[str, list[tuple[int, str, tuple[int, int], tuple[str, ...] | None]]] = {
    "KYMP": [
        (1, "Helsinki-palaute", (800, 4000), None),
        (1, "Kerrokantasi-kyselyt kaavoituksesta", (5, 30), ("KYMP_MAANKAYTTO",)),
        (1, "Karttakyselyt", (2, 12), ("KYMP_MAANKAYTTO", "KYMP_RAKENNUKSET")),
        (2, "Asukastilaisuudet kaavahankkeista", (10, 60), ("KYMP_MAANKAYTTO",)),
        (2, "Kaupunginosien asukasillat", (4, 20), None),
        (3, "Yhteissuunnittelun työpajat", (2, 15), None),
        (3, "Kehittäjäasiakkaat rakennusvalvonnassa", (1, 4), ("KYMP_PALVELUT_LUVAT",)),
        (4, "OmaStadi-ehdotukset (puistot ja katuympäristö)", (40, 300), ("KYMP_RAKENNUKSET",)),
    ],
    "KASKO": [
        (1, "Kouluterveyskysely", (1, 2), SCHOOLS),
        (1, "Huoltajien asiakaskysely", (1, 3), None),
        (2, "Vanhempainillat", (50, 400), None),
        (2, "Oppilaskuntien keskustelufoorumit", (10, 80), SCHOOLS),
        (3, "Oppilaskuntien hallitukset", (20, 150), SCHOOLS),
        (3, "Asukasraati varhaiskasvatuksessa", (1, 6), ("KASKO_VARHAISKASVATUS",)),
        (3, "Kehittäjäasiakkaat (huoltajat)", (2, 10), None),
        (4, "OmaStadi-ehdotukset koulujen pihoista", (10, 80), SCHOOLS),
        (4, "Koulujen osallistuva budjetointi", (5, 60), SCHOOLS),
    ],
    "SOTE": [
        (1, "Helsinki-palaute", (500, 3000), None),
        (1, "Asiakaspalaute tekstiviestillä", (100, 900), None),
        (2, "Vanhusneuvoston kuulemiset", (4, 12), ("SOTE_SAIRAALA_HOIVA",)),
        (2, "Vammaisneuvoston kuulemiset", (4, 12), ("SOTE_PERHE_SOSIAALI",)),
        (3, "Kokemusasiantuntijaryhmä", (2, 12), None),
        (3, "Asukasraati", (1, 5), None),
        (3, "Kehittäjäasiakastoiminta", (3, 20), None),
        (4, "Asiakkaiden edustajat palvelujen hankintaryhmissä", (1, 4), None),
    ],
    "KUVA": [
        (1, "Kirjastojen asiakaskysely", (1, 2), ("KUVA_KIRJASTO",)),
        (1, "Helsinki-palaute", (300, 1500), None),
        (2, "Nuorten somekanavat (Instagram, TikTok)", (5, 20), ("KUVA_NUORISO",)),
        (2, "Kerrokantasi-keskustelut liikuntapaikoista", (2, 10), ("KUVA_LIIKUNTA",)),
        (3, "Kirjastojen asiakasraadit", (2, 10), ("KUVA_KIRJASTO",)),
        (3, "Vapaaehtoiset kirjastokummit", (20, 120), ("KUVA_KIRJASTO",)),
        (3, "Nuorisoneuvosto", (10, 30), ("KUVA_NUORISO",)),
        (4, "Ruuti-budjetointi (nuorten osallistuva budjetointi)", (20, 90), ("KUVA_NUORISO",)),
        (
            4,
            "OmaStadi-ehdotukset (kulttuuri ja liikunta)",
            (30, 200),
            ("KUVA_KULTTUURI", "KUVA_LIIKUNTA"),
        ),
    ],
}

# Methods that count the same participatory budgeting: one entity reports at most one.
PARTICIPATORY_BUDGETING = ("budjet", "omastadi", "ruuti")


def _is_budgeting(text: str) -> bool:
    return any(word in text.casefold() for word in PARTICIPATORY_BUDGETING)


NOTES = [
    "",
    "",
    "",
    "Toteutettu yhdessä kaupunginosayhdistysten kanssa.",
    "Osa tilaisuuksista etäyhteydellä.",
    "Luku on arvio.",
    "Mukana myös ruotsinkieliset tilaisuudet.",
]

FREQUENCIES = ["continuous", "yearly", "few_per_year", "monthly", "less_often"]


@dataclass(frozen=True)
class DemoSummary:
    """What was seeded, for the command line's message and for tests."""

    year: int
    participation_entries: int
    none_answers: int
    satisfaction_entries: int
    previous_year_seeded: bool


class DemoError(ValueError):
    """The round already has answers; the demo never mixes with real data."""


def seed_demo_round(
    session: Session, year: int, *, complete: bool = False, previous: bool = True
) -> DemoSummary:
    """Fill ``year``'s round (and last year's, when absent) with a realistic sample.

    ``complete=False`` leaves one division (SOTE) with a service entity that has not yet
    answered level 4 or the satisfaction mapping — the usual state before the deadline, and
    what makes the documents show their LUONNOS mark. Last year's round is always complete.
    The catalog must be loaded (``data.catalog.load_catalog``).
    """
    seeded_previous = False
    if previous and not _has_answers(session, year - 1):
        _seed(session, year - 1, complete=True, growth=0.8)
        seeded_previous = True
    counts = _seed(session, year, complete=complete, growth=1.0)
    return DemoSummary(year, *counts, previous_year_seeded=seeded_previous)


def _has_answers(session: Session, year: int) -> bool:
    found = find_round(session, year)
    if found is None:
        return False
    for model in (ParticipationEntry, LevelNoneAnswer, SatisfactionEntry):
        n = session.scalar(
            select(func.count()).select_from(model).where(model.round_id == found.id)
        )
        if n:
            return True
    return False


def _seed(session: Session, year: int, *, complete: bool, growth: float) -> tuple[int, int, int]:
    if _has_answers(session, year):
        raise DemoError(f"round {year} already has answers; the demo needs an empty round")
    rng = random.Random(f"mittaribotti-demo-{year}")
    rnd = get_or_create_round(session, year)
    levels = {lvl.number: lvl for lvl in catalog.levels(session)}
    methods: dict[int, list[CatalogMethod]] = {
        number: catalog.methods_for_level(session, lvl.id) for number, lvl in levels.items()
    }
    types = {t.code: t for t in catalog.measurement_types(session)}
    n_entries = n_none = n_satisfaction = 0
    for division in catalog.divisions(session):
        entities = catalog.service_entities(session, division.id)
        own = OWN_METHODS.get(division.code, [])
        for e_index, entity in enumerate(entities):
            unfinished = not complete and division.code == "SOTE" and e_index == len(entities) - 1
            administrative = "HALLINTO" in entity.code
            for number, level in levels.items():
                if unfinished and number == 4:
                    continue  # not answered yet
                available = [
                    (lvl, text, span)
                    for lvl, text, span, where in own
                    if where is None or entity.code in where
                ]
                chosen = _pick_methods(
                    rng, number, methods.get(number, []), available, administrative
                )
                if not chosen:
                    session.add(
                        LevelNoneAnswer(
                            round_id=rnd.id,
                            division_id=division.id,
                            service_entity_id=entity.id,
                            level_id=level.id,
                        )
                    )
                    n_none += 1
                    continue
                for method, text, (low, high) in chosen:
                    count = max(0, round(rng.randint(low, high) * growth))
                    session.add(
                        ParticipationEntry(
                            round_id=rnd.id,
                            division_id=division.id,
                            service_entity_id=entity.id,
                            level_id=level.id,
                            method_id=method.id if method else None,
                            method_text=None if method else text,
                            count=count,
                            note=rng.choice(NOTES) or None,
                        )
                    )
                    n_entries += 1
            if not unfinished:
                for row in _satisfaction_rows(rng, year, types, entity, administrative):
                    row.round_id = rnd.id
                    row.division_id = division.id
                    session.add(row)
                    n_satisfaction += 1
        state = (
            ReportState.DRAFT if not complete and division.code == "SOTE" else ReportState.SUBMITTED
        )
        session.merge(ReportStatus(round_id=rnd.id, division_id=division.id, state=state))
    session.flush()
    return n_entries, n_none, n_satisfaction


def _pick_methods(
    rng: random.Random,
    number: int,
    examples: list[CatalogMethod],
    own: list[tuple[int, str, tuple[int, int]]],
    administrative: bool,
) -> list[tuple[CatalogMethod | None, str, tuple[int, int]]]:
    """Zero to three methods for a level: fewer at the higher levels and in administration."""
    chance = {1: 0.95, 2: 0.8, 3: 0.7, 4: 0.45}.get(number, 0.5)
    if administrative:
        chance /= 2.5
    if rng.random() > chance:
        return []
    pool: list[tuple[CatalogMethod | None, str, tuple[int, int]]] = [
        (m, m.name["fi"], (1, 40) if number < 4 else (10, 120)) for m in examples
    ]
    pool += [(None, text, span) for lvl, text, span in own if lvl == number]
    how_many = min(len(pool), rng.choice([1, 1, 2, 2, 3]))
    chosen = []
    budgeting = False
    for method, text, span in rng.sample(pool, how_many):
        if _is_budgeting(text):
            if budgeting:
                continue  # the same budgeting counted twice in one entity is not plausible
            budgeting = True
        chosen.append((method, text, span))
    return chosen


def _satisfaction_rows(
    rng: random.Random,
    year: int,
    types: dict[str, MeasurementType],
    entity: ServiceEntity,
    administrative: bool,
) -> list[SatisfactionEntry]:
    """One or two measurements per service entity, or the explicit "not measured"."""
    if administrative and rng.random() < 0.7:
        return [
            SatisfactionEntry(
                service_entity_id=entity.id, measurement_type_id=types["NOT_MEASURED"].id
            )
        ]
    codes = rng.sample(
        ["NPS", "SURVEY_1_5", "SCHOOL_GRADE", "SMILEY", "OTHER"], rng.choice([1, 1, 2])
    )
    rows = []
    for code in codes:
        mtype = types.get(code)
        if mtype is None:
            continue
        row = SatisfactionEntry(
            service_entity_id=entity.id,
            measurement_type_id=mtype.id,
            scale=mtype.scale or None,
            frequency=rng.choice(FREQUENCIES),
            period=rng.choice([str(year), f"1–6/{year}", f"{year - 1}–{year}"]),
        )
        if code == "NPS":
            promoters, passives, detractors = (
                rng.randint(150, 900),
                rng.randint(80, 400),
                rng.randint(40, 500),
            )
            row.promoters, row.passives, row.detractors = promoters, passives, detractors
            row.respondents = promoters + passives + detractors
            row.nps = nps_from_counts(promoters, passives, detractors)
        elif code == "SURVEY_1_5":
            row.latest_result = f"{rng.uniform(3.4, 4.7):.1f}".replace(".", ",")
            row.respondents = rng.randint(120, 5000)
        elif code == "SCHOOL_GRADE":
            row.latest_result = f"{rng.uniform(7.4, 9.1):.1f}".replace(".", ",")
            row.respondents = rng.randint(300, 12000)
        elif code == "SMILEY":
            row.latest_result = f"{rng.randint(72, 94)} % positiivisia"
            row.respondents = rng.randint(2000, 60000)
        else:
            row.latest_result = "Pikapalaute: " + rng.choice(["hyvä", "erinomainen", "tyydyttävä"])
            row.scale = None
            row.note = "Pikapalaute asiointipisteissä"
        rows.append(row)
    return rows


__all__ = ["DemoError", "DemoSummary", "seed_demo_round"]
