"""A single-use invitation stays single-use when two people redeem it at the same moment.

Each side has its own engine (its own connection pool), as two bot processes on one SQLite
file or two replicas on one PostgreSQL would.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from data import people
from data.db import make_engine, make_sessionmaker, transaction
from data.models import Invitation, Person, Role

from ..conftest import Database

NOW = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
TRIALS = 30


def _redeem_in_own_engine(
    engine: Engine, token: str, telegram_user_id: int, barrier: threading.Barrier
) -> people.Redeemed | people.InvitationProblem:
    sessions = make_sessionmaker(engine)
    barrier.wait()
    with transaction(sessions) as session:
        return people.redeem_invitation(
            session, token, telegram_user_id, name=f"P{telegram_user_id}", language=None, now=NOW
        )


def test_two_people_redeeming_one_invitation_at_once_register_exactly_one(db: Database) -> None:
    engines = [make_engine(db.url), make_engine(db.url)]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for trial in range(TRIALS):
                with db.transaction() as session:
                    token = people.create_invitation(session, Role.STAFF, now=NOW).token
                first, second = 10_000 + 2 * trial, 10_001 + 2 * trial
                barrier = threading.Barrier(2)
                results = list(
                    pool.map(
                        _redeem_in_own_engine,
                        engines,
                        [token, token],
                        [first, second],
                        [barrier, barrier],
                    )
                )
                winners = [r for r in results if isinstance(r, people.Redeemed)]
                losers = [r for r in results if not isinstance(r, people.Redeemed)]
                assert len(winners) == 1, f"trial {trial}: {results}"
                assert losers == [people.InvitationProblem.USED], f"trial {trial}: {results}"
                with db.session() as session:
                    registered = session.scalars(
                        select(Person.telegram_user_id).where(
                            Person.telegram_user_id.in_([first, second])
                        )
                    ).all()
                    invitation = session.scalar(
                        select(Invitation).where(Invitation.token_hash == people.hash_token(token))
                    )
                    assert invitation is not None
                    assert len(registered) == 1
                    assert invitation.used_by_id is not None
    finally:
        for engine in engines:
            engine.dispose()


def test_a_used_expired_or_revoked_invitation_is_refused_without_registering(
    db: Database,
) -> None:
    with db.transaction() as session:
        used = people.create_invitation(session, Role.STAFF, now=NOW).token
        expired = people.create_invitation(session, Role.STAFF, now=NOW, days=1).token
        revoked = people.create_invitation(session, Role.STAFF, now=NOW)
        people.revoke_invitation(session, revoked.id, actor_id=None)
    with db.transaction() as session:
        assert isinstance(
            people.redeem_invitation(session, used, 1, name="A", language=None, now=NOW),
            people.Redeemed,
        )
    later = NOW + dt.timedelta(days=2)
    with db.transaction() as session:
        assert (
            people.redeem_invitation(session, used, 2, name="B", language=None, now=NOW)
            is people.InvitationProblem.USED
        )
        assert (
            people.redeem_invitation(session, expired, 3, name="C", language=None, now=later)
            is people.InvitationProblem.EXPIRED
        )
        assert (
            people.redeem_invitation(session, revoked.token, 4, name="D", language=None, now=NOW)
            is people.InvitationProblem.REVOKED
        )
    with db.session() as session:
        assert people.person_by_telegram_id(session, 2) is None
        assert people.person_by_telegram_id(session, 3) is None
        assert people.person_by_telegram_id(session, 4) is None
