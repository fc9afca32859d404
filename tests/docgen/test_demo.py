"""The demo round reads plausibly: methods where they belong, no budgeting counted twice."""

from __future__ import annotations

from collections import defaultdict

from data.demo import _is_budgeting
from settings import Settings

from ..conftest import Database
from .conftest import seeded


def test_demo_methods_are_where_a_reader_expects_them(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    budgeting: dict[str, int] = defaultdict(int)
    for item in snapshot.participation:
        label = item.method_label()
        entity = item.entity_code
        if _is_budgeting(label):
            budgeting[entity] += 1
        if "kirjasto" in label.casefold():
            assert entity == "KUVA_KIRJASTO", (label, entity)
        if "oppilaskun" in label.casefold() or "koulu" in label.casefold():
            assert entity != "KASKO_VARHAISKASVATUS", (label, entity)
        if "varhaiskasvatuksessa" in label:
            assert entity == "KASKO_VARHAISKASVATUS", (label, entity)
    assert budgeting, "the demo shows participatory budgeting"
    assert max(budgeting.values()) == 1, budgeting
