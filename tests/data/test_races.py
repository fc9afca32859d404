"""Get-or-create and replace-an-entity stay correct when two sessions do them at once.

Each side has its own engine (its own connection pool), as two replicas on one PostgreSQL
would. The first session does its work and keeps its transaction open; the second one
starts in a thread, and the test waits until PostgreSQL shows it waiting on a lock before
the first commits — the exact interleaving that replicas produce under load, made
deterministic. On SQLite the database serialises writers, so the same scripts run one after
the other and must give the same end result.

Before the fix (today's main): the second `get_or_create_round` raised `UniqueViolation
uq_rounds_year`, and the second replacement of one entity *added* its rows to the first's
(its SELECT of the old entries ran before the first committed, its DELETE of those rows then
matched nothing, and both inserts stayed): the "26 entries where 24 expected" of the
4-replica run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from data import catalog, people, progress, reports
from data.db import make_engine, make_sessionmaker, transaction
from data.models import (
    LevelNoneAnswer,
    ParticipationEntry,
    ReportStatus,
    Role,
    Round,
    SatisfactionEntry,
    ServiceEntity,
)
from data.reports import ParticipationAnswer, SatisfactionAnswer

from ..conftest import Database

#: Generous: only reached if the second session never blocks (a failure anyway).
WAIT_CEILING_S = 30.0


def _backend_pid(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _wait_until_blocked(engine: Engine, pid_box: dict[str, int], done: Future[Any]) -> None:
    """Return once the other session's backend waits on a lock (or it already finished)."""
    deadline = time.monotonic() + WAIT_CEILING_S
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            if done.done():
                return
            pid = pid_box.get("pid")
            if pid is not None:
                waiting = connection.execute(
                    text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted"),
                    {"pid": pid},
                ).scalar_one()
                connection.rollback()
                if waiting:
                    return
            time.sleep(0.02)
    raise AssertionError("the second session neither blocked nor finished")


def _interleave(
    db: Database,
    first: Callable[[Session], Any],
    second: Callable[[Session], Any],
) -> tuple[Any, Any]:
    """Run ``first`` in an open transaction, ``second`` concurrently in its own engine,
    commit ``first`` only once ``second`` is blocked on it (PostgreSQL)."""
    engine = make_engine(db.url)
    pid_box: dict[str, int] = {}
    started = threading.Event()

    def run_second() -> Any:
        with transaction(make_sessionmaker(engine)) as session:
            if db.backend == "postgresql":
                pid_box["pid"] = _backend_pid(session)
            started.set()
            return second(session)

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            with db.transaction() as session:
                first_result = first(session)
                session.flush()
                if db.backend == "postgresql":
                    future = pool.submit(run_second)
                    assert started.wait(WAIT_CEILING_S)
                    _wait_until_blocked(db.engine, pid_box, future)
            if db.backend != "postgresql":
                future = pool.submit(run_second)
            second_result = future.result(timeout=WAIT_CEILING_S)
    finally:
        engine.dispose()
    return first_result, second_result


def _contact(s: Session, tg_id: int) -> Any:
    div = catalog.division_by_code(s, "KUVA")
    assert div
    return people.ensure_person(
        s, tg_id, name=f"P{tg_id}", roles={Role.CONTACT}, division_id=div.id
    )


def _library(s: Session) -> ServiceEntity:
    row = s.scalar(select(ServiceEntity).where(ServiceEntity.code == "KUVA_KIRJASTO"))
    assert row
    return row


def test_two_sessions_creating_the_same_round_at_once_share_one_row(db: Database) -> None:
    first, second = _interleave(
        db,
        lambda s: progress.get_or_create_round(s, 2031).id,
        lambda s: progress.get_or_create_round(s, 2031).id,
    )
    assert first == second
    with db.session() as s:
        assert s.scalars(select(Round.id).where(Round.year == 2031)).all() == [first]


def _answers(s: Session, counts: list[int]) -> list[ParticipationAnswer]:
    l1, l2, l3, l4 = catalog.levels(s)
    methods = catalog.methods_for_level(s, l1.id)
    return [
        *(
            ParticipationAnswer(l1.id, method_id=methods[i].id, count=count)
            for i, count in enumerate(counts)
        ),
        ParticipationAnswer(l2.id, method_text="Oma tapa", count=1),
        ParticipationAnswer(l3.id, none=True),
        ParticipationAnswer(l4.id, none=True),
    ]


def _stored(s: Session, entity_id: int) -> tuple[list[tuple[int | None, int]], int]:
    entries = s.execute(
        select(ParticipationEntry.method_id, ParticipationEntry.count)
        .where(ParticipationEntry.service_entity_id == entity_id)
        .order_by(ParticipationEntry.id)
    ).all()
    nones = s.scalars(
        select(LevelNoneAnswer.id).where(LevelNoneAnswer.service_entity_id == entity_id)
    ).all()
    return [(m, c) for m, c in entries], len(nones)


@pytest.mark.parametrize("saved_before", [False, True], ids=["first-save", "replacing"])
def test_two_concurrent_saves_of_one_entity_leave_the_last_one_not_a_union(
    db: Database, saved_before: bool
) -> None:
    with db.transaction() as s:
        _contact(s, 501)
        _contact(s, 502)
        entity_id = _library(s).id
        if saved_before:
            reports.save_participation(s, _contact(s, 501), 2026, entity_id, _answers(s, [9, 9, 9]))

    def save(tg_id: int, counts: list[int]) -> Callable[[Session], None]:
        def run(s: Session) -> None:
            person = people.person_by_telegram_id(s, tg_id)
            reports.save_participation(
                s, person, 2026, entity_id, _answers(s, counts), source="excel"
            )

        return run

    _interleave(db, save(501, [1, 2]), save(502, [3, 4, 5]))
    with db.session() as s:
        entries, nones = _stored(s, entity_id)
        expected = _answers(s, [3, 4, 5])
        assert entries == [(a.method_id, a.count) for a in expected if not a.none]
        assert nones == 2
        statuses = s.scalars(select(ReportStatus)).all()
        assert len(statuses) == 1


def test_two_concurrent_satisfaction_saves_of_one_entity_leave_the_last_one(
    db: Database,
) -> None:
    with db.transaction() as s:
        _contact(s, 511)
        _contact(s, 512)
        entity_id = _library(s).id
        types = catalog.measurement_types(s)
        nps = next(t for t in types if t.kind == "nps")
        free = next(t for t in types if t.kind == "free")

    def save(tg_id: int, type_ids: list[int]) -> Callable[[Session], None]:
        def run(s: Session) -> None:
            person = people.person_by_telegram_id(s, tg_id)
            answers = [SatisfactionAnswer(t, nps=10 if t == nps.id else None) for t in type_ids]
            reports.save_satisfaction(s, person, 2026, entity_id, answers, source="excel")

        return run

    _interleave(db, save(511, [nps.id]), save(512, [free.id, nps.id]))
    with db.session() as s:
        stored = s.scalars(
            select(SatisfactionEntry.measurement_type_id)
            .where(SatisfactionEntry.service_entity_id == entity_id)
            .order_by(SatisfactionEntry.id)
        ).all()
        assert stored == [free.id, nps.id]


def test_a_save_waiting_on_a_submit_is_refused_not_written_into_the_submitted_report(
    db: Database,
) -> None:
    with db.transaction() as s:
        _contact(s, 521)
        _contact(s, 522)
        entity_id = _library(s).id
        division_id = catalog.division_by_code(s, "KUVA").id  # type: ignore[union-attr]

    def submit(s: Session) -> None:
        reports.submit_report(s, people.person_by_telegram_id(s, 521), 2026, division_id)

    def save(s: Session) -> str:
        person = people.person_by_telegram_id(s, 522)
        try:
            reports.save_participation(s, person, 2026, entity_id, _answers(s, [1]))
        except reports.ReportLocked:
            return "locked"
        return "saved"

    _, outcome = _interleave(db, submit, save)
    assert outcome == "locked"
    with db.session() as s:
        assert _stored(s, entity_id) == ([], 0)


def test_a_round_made_in_a_transaction_that_rolls_back_is_not_remembered(db: Database) -> None:
    """A save makes the year's first round and looks it up again in the same transaction,
    then fails (a lock wait, a version conflict) and rolls back. The round it saw was its
    own uncommitted row: remembered per process, every later save of the year would use a
    round that does not exist (seen in the reporting bench on PostgreSQL: a foreign-key
    violation on entity_versions for every save after the first failed one)."""
    with pytest.raises(RuntimeError), db.transaction() as s:
        made = progress.get_or_create_round(s, 2033)
        assert progress.find_round(s, 2033) is not None  # the second look-up of a save
        assert made.year == 2033
        raise RuntimeError("the save failed")
    with db.transaction() as s:
        rnd = progress.get_or_create_round(s, 2033)
        stored = s.scalar(select(Round.id).where(Round.year == 2033))
        assert stored == rnd.id
