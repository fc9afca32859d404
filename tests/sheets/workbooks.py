"""Making workbooks the way people do: export, fill cells in openpyxl, save; and bad files.

No tests here. ``fill`` opens the exported .xlsx in openpyxl's normal mode, writes values
the way a person types them into cells, and saves — as Excel would, minus the cached values
of formulas (openpyxl does not compute them).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.orm import Session

import sheets
from data import catalog, people, reports
from data.models import Person, Role

from ..conftest import Database

YEAR = 2026


def export(db: Database, division: str = "KUVA", year: int = YEAR, language: str = "fi") -> bytes:
    with db.transaction() as session:
        row = catalog.division_by_code(session, division)
        assert row is not None
        return sheets.export(session, row, year, language)[1]


def fill(content: bytes, cells: dict[str, dict[str, Any]]) -> bytes:
    """``{"Kirjasto": {"B7": "Kyselyt", "D7": 12}}`` → the workbook with those values.

    Text starting with "=" stays text (as typed in Excel after an apostrophe); use `edit`
    for a real formula.
    """
    workbook = load_workbook(io.BytesIO(content))
    for sheet, values in cells.items():
        for ref, value in values.items():
            workbook[sheet][ref] = value
            if isinstance(value, str) and value.startswith("="):
                workbook[sheet][ref].data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def edit(content: bytes, change: Callable[[Any], None]) -> bytes:
    """Apply ``change(workbook)`` in openpyxl's normal mode and save."""
    workbook = load_workbook(io.BytesIO(content))
    change(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def contact(session: Session, telegram_id: int = 7001, division: str = "KUVA") -> Person:
    row = catalog.division_by_code(session, division)
    assert row is not None
    return people.ensure_person(
        session, telegram_id, name="Aino", roles={Role.CONTACT}, division_id=row.id
    )


def ids(session: Session) -> dict[str, int]:
    """Catalog codes → ids (entities, levels, methods, measurement types)."""
    result: dict[str, int] = {}
    for model in (
        catalog.ServiceEntity,
        catalog.Level,
        catalog.CatalogMethod,
        catalog.MeasurementType,
    ):
        for row in session.query(model):
            result[row.code] = row.id
    return result


def zip_bomb(name: str = "big.xlsx") -> bytes:
    """A small zip whose one member unpacks to 60 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


def ratio_bomb() -> bytes:
    """Under 50 MB unpacked, but one member compressed over 1000:1."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/sharedStrings.xml", b"A" * (20 * 1024 * 1024))
    return out.getvalue()


def saved_state(db: Database, division: str = "KUVA", year: int = YEAR) -> dict[str, Any]:
    """Every stored answer of the division (to prove that nothing changed)."""
    with db.session() as session:
        row = catalog.division_by_code(session, division)
        assert row is not None
        return {
            e.code: (
                [a.to_dict() for a in reports.participation_for_year(session, year, e.id)],
                [a.to_dict() for a in reports.satisfaction_for_year(session, year, e.id)],
            )
            for e in catalog.service_entities(session, row.id)
        }
