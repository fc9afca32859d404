"""Fixtures for the document tests: settings, a fixed date and seeded rounds."""

from __future__ import annotations

import datetime as dt

import pytest

from data.demo import seed_demo_round
from data.snapshot import RoundSnapshot, read_snapshot
from docgen import KINDS, GeneratedDocument, generate
from settings import Settings, load_settings

from ..conftest import Database

TODAY = dt.date(2026, 11, 20)
YEAR = 2026


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The project's config.yaml, without environment overrides."""
    return load_settings(env={})


def seeded(db: Database, *, complete: bool = False, previous: bool = True) -> RoundSnapshot:
    """Seed the demo round into ``db`` and read its snapshot back."""
    with db.transaction() as session:
        seed_demo_round(session, YEAR, complete=complete, previous=previous)
    return read_snapshot(db.sessions, YEAR)


_BUILT: dict[tuple[RoundSnapshot, str, int], GeneratedDocument] = {}


def read_snapshot_for(db: Database, year: int = YEAR) -> RoundSnapshot:
    return read_snapshot(db.sessions, year)


def build(snapshot: RoundSnapshot, kind: str, settings: Settings) -> GeneratedDocument:
    """The document of ``kind``; built once per distinct snapshot (snapshots are values).

    Many tests seed the same demo round, so their snapshots are equal and hash alike;
    reusing the bytes keeps the suite fast. Determinism tests call ``generate`` directly.
    The package is built without its PDF copies here (a LibreOffice run); test_pdf.py
    checks those.
    """
    key = (snapshot, kind, id(settings))
    found = _BUILT.get(key)
    if found is None:
        (found,) = generate(snapshot, kind, settings=settings, today=TODAY, pdf=False)
        _BUILT[key] = found
    return found


def build_all(snapshot: RoundSnapshot, settings: Settings) -> dict[str, GeneratedDocument]:
    return {kind: build(snapshot, kind, settings) for kind in KINDS}
