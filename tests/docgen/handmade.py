"""Snapshots built by hand, for tests that need no database (odd data the DB would refuse)."""

from __future__ import annotations

from data.snapshot import (
    DivisionItem,
    DivisionStatus,
    EntityStatus,
    LevelItem,
    MeasurementTypeItem,
    MethodItem,
    Names,
    ParticipationItem,
    RoundSnapshot,
    SatisfactionItem,
    ServiceEntityItem,
)

NPS = MeasurementTypeItem("NPS", "nps", "0–10", Names("Suositteluindeksi (NPS, 0–10)"))


def tiny_snapshot(
    participation: list[tuple[str, str]] | None = None,
    entity_name: str = "Kirjasto",
    complete: bool = True,
) -> RoundSnapshot:
    """One division, one service entity, four levels; ``participation`` is (method, note)."""
    levels = tuple(
        LevelItem(
            code=f"L{n}",
            number=n,
            name=Names(f"Taso {n} nimi"),
            description=Names(f"Tason {n} kuvaus."),
            examples=(MethodItem(f"L{n}_M", n, Names(f"Esimerkki {n}")),),
        )
        for n in (1, 2, 3, 4)
    )
    entity = ServiceEntityItem("KUVA_X", "KUVA", Names(entity_name))
    division = DivisionItem("KUVA", Names("Kulttuurin ja vapaa-ajan toimiala"), (entity,))
    items = tuple(
        ParticipationItem("KUVA", "KUVA_X", 1 + i % 4, None, method, 3, note)
        for i, (method, note) in enumerate(participation or [])
    )
    satisfaction = (
        SatisfactionItem(
            "KUVA", "KUVA_X", NPS, latest_result="=1+1", promoters=5, passives=3, detractors=2
        ),
    )
    status = DivisionStatus(
        "KUVA",
        "submitted" if complete else "draft",
        (EntityStatus("KUVA_X", () if complete else (4,), True),),
    )
    return RoundSnapshot(
        year=2026,
        round_exists=True,
        levels=levels,
        divisions=(division,),
        measurement_types=(NPS,),
        entities=(entity,),
        participation=items,
        satisfaction=satisfaction,
        progress=(status,),
    )


def empty_catalog_snapshot() -> RoundSnapshot:
    """No levels, no divisions: a catalog file emptied by mistake must not crash anything."""
    return RoundSnapshot(
        year=2026, round_exists=False, levels=(), divisions=(), measurement_types=(), entities=()
    )
