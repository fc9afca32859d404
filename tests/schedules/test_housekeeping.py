"""The inbox prune is the scheduler leader's job, in batches, never part of an update."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

import schedules
from core.services import Services, attach
from data import inbox
from data.models import InboxUpdate, Round
from delivery import ingress
from delivery.courier import TelegramCourier
from localtg import LocalBotApi, local_application_builder
from schedules import housekeeping
from schedules import runtime as rt
from settings import Settings

from ..conftest import Database
from .conftest import YEAR, Clock, local


def _message(update_id: int) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": 7, "is_bot": False, "first_name": "A"},
            "text": "/ohje",
        },
    }


async def test_the_leader_prunes_old_handled_updates_in_batches_and_receiving_does_not(
    db: Database, settings: Settings, api: LocalBotApi
) -> None:
    clock = Clock(local(YEAR, 11, 6, 8, 0))
    old = clock() - dt.timedelta(days=inbox.KEEP_HANDLED_DAYS + 1)
    with db.transaction() as session:
        inbox.record(session, [_message(i) for i in range(1, 26)], now=old)
        for update_id in range(1, 26):
            inbox.mark_handled(session, update_id, now=old)
    application = local_application_builder(api).build()
    attach(application, Services(settings, db.sessions, clock))
    schedules.install(application, courier=TelegramCourier(application))
    try:
        assert await rt.elect(application) and rt.is_leader(application)
        assert application.job_queue is not None
        assert application.job_queue.get_jobs_by_name(housekeeping.PRUNE_JOB)
        await ingress.receive(application, [_message(100)])
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(InboxUpdate)) == 26
        assert await housekeeping.prune_inbox(application, batch=10) == 25
        with db.session() as session:
            assert session.scalars(select(InboxUpdate.update_id)).all() == [100]
    finally:
        await rt.release_leadership(application)


async def test_the_leader_makes_each_new_years_round_ahead_of_its_first_save(
    db: Database, settings: Settings, api: LocalBotApi
) -> None:
    clock = Clock(local(YEAR, 12, 31, 23, 0))
    application = local_application_builder(api).build()
    attach(application, Services(settings, db.sessions, clock))
    schedules.install(application, courier=TelegramCourier(application))
    try:
        assert await rt.elect(application) and rt.is_leader(application)
        assert application.job_queue is not None
        [job] = application.job_queue.get_jobs_by_name(housekeeping.ROUND_JOB)
        fields = {field.name: str(field) for field in job.trigger.fields}
        assert (fields["hour"], fields["minute"], fields["second"]) == ("0", "0", "30")
        assert job.trigger.timezone == settings.tz  # every day just after local midnight
        clock.at = local(YEAR + 1, 1, 1, 0, 1).astimezone(dt.UTC)
        assert await housekeeping.ensure_round(application)
        assert await housekeeping.ensure_round(application)  # made once, found after
        with db.session() as session:
            assert session.scalars(select(Round.year).where(Round.year > YEAR)).all() == [YEAR + 1]
    finally:
        await rt.release_leadership(application)
