"""The contact's workbook: the division's sheet out of the chat, the filled sheet back in.

``export`` writes the division's workbook for a round (``sheets.export``); ``check`` refuses a
bad file with one message (``sheets.files.Rejection``), or reads every answer cell and lists
the errors by cell, or computes what the file changes (``sheets.changes.ChangeSet``);
``changes.apply`` saves a change set through ``data.reports`` exactly as the chat does.
This package depends only on ``data/`` (and the translations): it writes no SQL and knows
nothing of Telegram; ``bot/handlers/excel.py`` and ``python -m sheets`` call it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from data import progress
from data.models import Division, ReportState
from sheets import changes
from sheets.changes import ChangeSet
from sheets.export import XLSX_MIME, build_workbook, file_name
from sheets.files import Rejection, check_name, check_size
from sheets.reader import Parsed, read_workbook

__all__ = [
    "XLSX_MIME",
    "ChangeSet",
    "Checked",
    "Parsed",
    "Rejection",
    "changes",
    "check",
    "check_name",
    "check_size",
    "export",
    "is_submitted",
]


@dataclass
class Checked:
    """A file that passed the file checks: its cell errors, or the changes it makes."""

    parsed: Parsed
    changes: ChangeSet | None  # None when there are cell errors

    @property
    def ok(self) -> bool:
        return self.changes is not None


def export(session: Session, division: Division, year: int, language: str) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of the division's workbook for the year, in the language."""
    return file_name(division, year), build_workbook(session, division, year, language)


def check(
    session: Session,
    content: bytes,
    name: str | None,
    *,
    division: Division,
    year: int,
    language: str,
) -> Checked:
    """Every check of an uploaded file; raises `Rejection` when the file itself is refused."""
    parsed = read_workbook(session, content, name, division=division, year=year, language=language)
    if parsed.errors:
        return Checked(parsed, None)
    return Checked(parsed, changes.compute(session, parsed))


def is_submitted(session: Session, division: Division, year: int) -> bool:
    """The division's report for the year is submitted: no changes until it is reopened."""
    rnd = progress.find_round(session, year)
    return rnd is not None and (
        progress.report_state(session, rnd.id, division.id) is ReportState.SUBMITTED
    )
