"""The snapshot is a faithful, frozen copy of the database's round."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from data import catalog
from data.answers import AnswerProblem, nps_from_counts
from data.models import (
    LevelNoneAnswer,
    ParticipationEntry,
    Round,
    SatisfactionEntry,
    ServiceEntity,
    utcnow,
)
from data.snapshot import build_snapshot, read_snapshot

from ..conftest import Database
from .conftest import YEAR, seeded


def test_snapshot_holds_every_answer_of_the_round(db: Database) -> None:
    snapshot = seeded(db)
    with db.session() as s:
        rnd = s.scalar(select(Round).where(Round.year == YEAR))
        assert rnd is not None
        entries = s.scalar(
            select(func.count())
            .select_from(ParticipationEntry)
            .where(ParticipationEntry.round_id == rnd.id)
        )
        total = s.scalar(
            select(func.sum(ParticipationEntry.count)).where(ParticipationEntry.round_id == rnd.id)
        )
        nones = s.scalar(
            select(func.count())
            .select_from(LevelNoneAnswer)
            .where(LevelNoneAnswer.round_id == rnd.id)
        )
        satisfaction = s.scalar(
            select(func.count())
            .select_from(SatisfactionEntry)
            .where(SatisfactionEntry.round_id == rnd.id)
        )
    assert len(snapshot.participation) == entries > 0
    assert sum(item.count for item in snapshot.participation) == total
    assert len(snapshot.none_answers) == nones
    assert len(snapshot.satisfaction) == satisfaction
    assert [d.code for d in snapshot.divisions] == ["KYMP", "KASKO", "SOTE", "KUVA"]
    assert [lvl.number for lvl in snapshot.levels] == [1, 2, 3, 4]
    assert snapshot.previous is not None and snapshot.previous.year == YEAR - 1
    assert snapshot.previous.previous is None


def test_progress_comes_from_data_progress(db: Database) -> None:
    incomplete = seeded(db)
    assert not incomplete.complete
    sote = incomplete.status("SOTE")
    assert sote is not None and not sote.complete and sote.state == "draft"
    missing = [e for e in sote.entities if not e.complete]
    assert [(e.entity_code, e.missing_levels, e.satisfaction_mapped) for e in missing] == [
        ("SOTE_HALLINTO", (4,), False)
    ]
    assert incomplete.previous is not None and incomplete.previous.complete


def test_complete_demo_round_is_complete(db: Database) -> None:
    assert seeded(db, complete=True).complete


def test_snapshot_is_frozen(db: Database) -> None:
    snapshot = seeded(db)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.year = 1999  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        snapshot.participation[0].count = 5  # type: ignore[misc]
    assert isinstance(snapshot.participation, tuple)


def test_year_without_round_is_an_empty_snapshot(db: Database) -> None:
    snapshot = read_snapshot(db.sessions, 2031)
    assert not snapshot.round_exists
    assert not snapshot.has_data and not snapshot.complete
    assert snapshot.previous is None
    assert len(snapshot.divisions) == 4  # the catalog is still there to report against


def test_answers_about_a_retired_entity_stay_visible(db: Database) -> None:
    seeded(db)
    with db.transaction() as s:
        entity = s.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_NUORISO"))
        assert entity is not None
        entity.retired_at = utcnow()
    catalog.invalidate()  # the catalog is edited behind the process-held copy
    with db.session() as s:
        snapshot = build_snapshot(s, YEAR)
    kuva = snapshot.division("KUVA")
    assert kuva is not None
    assert "KUVA_NUORISO" not in [e.code for e in kuva.service_entities]
    nuoriso = [p for p in snapshot.participation if p.entity_code == "KUVA_NUORISO"]
    assert nuoriso, "the retired entity's answers are still in the snapshot"
    assert snapshot.entity("KUVA_NUORISO").name.fi == "Nuoriso"


def test_snapshot_order_is_the_same_on_every_read(db: Database) -> None:
    first = seeded(db)
    second = read_snapshot(db.sessions, YEAR)
    assert first == second


@pytest.mark.parametrize(
    ("promoters", "passives", "detractors", "expected"),
    [
        (50, 30, 20, 30),
        (0, 0, 10, -100),
        (10, 0, 0, 100),
        (1, 6, 1, 0),
        (1, 7, 0, 13),  # 12.5 rounds half away from zero
        (0, 7, 1, -13),  # −12.5 likewise
    ],
)
def test_nps_from_counts(promoters: int, passives: int, detractors: int, expected: int) -> None:
    """One formula (the rule book's), used by the chat, Excel and every document."""
    assert nps_from_counts(promoters, passives, detractors) == expected


def test_nps_from_no_answers_is_refused() -> None:
    with pytest.raises(AnswerProblem):
        nps_from_counts(0, 0, 0)
