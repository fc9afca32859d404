from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from data import catalog
from data.catalog import CATALOG_FILE, CatalogError, load_catalog
from data.models import Division, Level, ParticipationEntry, Round, ServiceEntity

from ..conftest import Database


def test_catalog_has_the_four_levels_and_divisions_of_the_source(db: Database) -> None:
    with db.session() as s:
        levels = catalog.levels(s)
        assert [lvl.number for lvl in levels] == [1, 2, 3, 4]
        assert levels[0].name["fi"] == "Viestintä ja kuuleminen"
        assert {m.name["fi"] for m in catalog.methods_for_level(s, levels[2].id)} >= {
            "Asiakasraadit",
            "Työpajat / Hackaton",
        }
        assert [d.code for d in catalog.divisions(s)] == ["KYMP", "KASKO", "SOTE", "KUVA"]
        kuva = catalog.division_by_code(s, "kuva")
        assert kuva is not None
        assert len(catalog.service_entities(s, kuva.id)) == 5
        codes = [t.code for t in catalog.measurement_types(s)]
        assert codes == ["NPS", "SURVEY_1_5", "SCHOOL_GRADE", "SMILEY", "OTHER", "NOT_MEASURED"]


def test_loading_twice_changes_nothing(db: Database) -> None:
    with db.transaction() as s:
        before = s.scalar(select(func.count()).select_from(ServiceEntity))
        result = load_catalog(s)
        assert (result.added, result.updated, result.retired) == (0, 0, 0)
        assert s.scalar(select(func.count()).select_from(ServiceEntity)) == before


def test_removed_item_is_retired_not_deleted_and_answers_survive(
    db: Database, tmp_path: Path
) -> None:
    with db.transaction() as s:
        entity = s.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_NUORISO"))
        level = s.scalar(select(Level).where(Level.code == "L1"))
        assert entity and level
        rnd = Round(year=2026)
        s.add(rnd)
        s.flush()
        s.add(
            ParticipationEntry(
                round_id=rnd.id,
                division_id=entity.division_id,
                service_entity_id=entity.id,
                level_id=level.id,
                method_text="Nuorisovaltuusto",
                count=3,
            )
        )
    raw = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    kuva = next(d for d in raw["divisions"] if d["code"] == "KUVA")
    kuva["service_entities"] = [e for e in kuva["service_entities"] if e["code"] != "KUVA_NUORISO"]
    edited = tmp_path / "catalog.yaml"
    edited.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    with db.transaction() as s:
        result = load_catalog(s, edited)
        assert result.retired == 1
    with db.session() as s:
        kuva_row = catalog.division_by_code(s, "KUVA")
        assert kuva_row
        active = [e.code for e in catalog.service_entities(s, kuva_row.id)]
        assert "KUVA_NUORISO" not in active
        all_codes = [e.code for e in catalog.service_entities(s, kuva_row.id, include_retired=True)]
        assert "KUVA_NUORISO" in all_codes
        assert s.scalar(select(func.count()).select_from(ParticipationEntry)) == 1
    # Putting it back un-retires the same row (and restores its neighbour's sort order).
    with db.transaction() as s:
        result = load_catalog(s)
        assert (result.added, result.updated, result.retired) == (0, 2, 0)
    with db.session() as s:
        row = s.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_NUORISO"))
        assert row and row.retired_at is None


def test_duplicate_code_is_a_clear_error(db: Database, tmp_path: Path) -> None:
    raw = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    raw["divisions"][1]["code"] = "KYMP"
    bad = tmp_path / "catalog.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with db.transaction() as s, pytest.raises(CatalogError, match="KYMP"):
        load_catalog(s, bad)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Division)) == 4
