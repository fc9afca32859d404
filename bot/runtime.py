"""Start-up shared by every entry point: database ready, catalog loaded, admins known."""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from data import people
from data.catalog import load_catalog
from data.db import (
    check_writable,
    make_engine,
    make_sessionmaker,
    migrate,
    startup_lock,
    transaction,
)
from data.models import Role
from settings import Settings

log = logging.getLogger(__name__)


def prepare_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Create and migrate the database if needed and load the reference catalog."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    check_writable(engine)
    with startup_lock(engine):  # replicas starting together take turns
        migrate(engine)
        with transaction(sessions) as session:
            result = load_catalog(session)
    log.info(
        "catalog loaded added=%d updated=%d retired=%d",
        result.added,
        result.updated,
        result.retired,
    )
    return engine, sessions


def bootstrap_admins(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Telegram ids listed under ``admins`` are coordinators and strategy staff."""
    with transaction(sessions) as session:
        for telegram_id in settings.admins:
            people.ensure_person(session, telegram_id, roles={Role.COORDINATOR, Role.STAFF})
