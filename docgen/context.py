"""What every document builder receives: the snapshot, the settings, the date, the wording
and the figures computed once — plus the naming rules shared by all files.

Builders are pure functions of a :class:`Context`; nothing in them reads a clock, a
database or the environment, which is what keeps identical inputs byte-identical.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from data.snapshot import RoundSnapshot
from docgen import figures as fig
from docgen.fmt import clean, elative_digits, fi_date, fi_list, lower_first, prose_number, slug
from docgen.wording import Wording
from settings import BoardMeeting, Settings

MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
}


# Incomplete service entities listed by name in the LUONNOS notes, per division.
MAX_LISTED_ENTITIES = 3


@dataclass(frozen=True)
class GeneratedDocument:
    """One finished file, in memory: what the bot sends and the command line writes."""

    filename: str
    content: bytes
    mime_type: str
    title: str
    # The package only: PDF copies left out, as (file name, reason code of docgen.pdf).
    missing_pdfs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A board attachment: its number in the Liitteet list and its title."""

    key: str
    number: int
    title: str


@dataclass(frozen=True)
class Context:
    snapshot: RoundSnapshot
    settings: Settings
    today: dt.date
    base_wording: Wording
    # The package holds PDF copies (LibreOffice); tests of other things switch it off.
    with_pdf: bool = True

    @cached_property
    def year(self) -> int:
        return self.snapshot.year

    @cached_property
    def wording(self) -> Wording:
        """The wording with the values every text may use filled in."""
        return self.base_wording.with_defaults(
            year=self.year,
            previous_year=self.year - 1,
            date=fi_date(self.today),
            case_number=self.settings.list_text.case_number,
            attachment_refs=self.attachment_refs,
            organisation=self.base_wording.text("common.organisation"),
            strategy_period=self.strategy_period,
            unit=self.settings.list_text.unit,
        )

    @cached_property
    def meeting(self) -> BoardMeeting:
        """The year's board meeting from config.yaml (empty while none is set)."""
        return self.settings.list_text.meeting(self.year)

    @cached_property
    def strategy_period(self) -> str:
        lt = self.settings.list_text
        return self.meeting.strategy_period or lt.strategy_period

    # --- prose ---------------------------------------------------------------------------

    def num(self, value: int, case: str = "nominative") -> str:
        """A number in running text: under ten as a word in ``case`` (wording ``numbers``)."""
        words = self.base_wording.raw(f"numbers.{case}")
        return prose_number(value, [str(w) for w in words])

    def of_total(self, total: int) -> str:
        """``18:sta`` (or ``yhdeksästä``) for "17 palvelukokonaisuudessa 18:sta"."""
        if 0 <= total < 10:
            return self.num(total, "elative")
        return elative_digits(total)

    def division_mentions(self) -> str:
        """The divisions written out once, as at their first mention in a text:
        ``kaupunkiympäristön toimiala (KYMP), … ja kulttuurin ja vapaa-ajan toimiala (KUVA)``.
        """
        w = self.base_wording
        return fi_list(
            [
                w.text(
                    "listateksti.division_first_mention",
                    name=lower_first(self.division_name(d.code)),
                    code=d.code,
                )
                for d in self.snapshot.divisions
            ]
        )

    @cached_property
    def figures(self) -> fig.Figures:
        return fig.compute(self.snapshot)

    @cached_property
    def previous_figures(self) -> fig.Figures | None:
        previous = self.snapshot.previous
        return fig.compute(previous) if previous is not None else None

    @property
    def draft(self) -> bool:
        """Built from incomplete data: every document then carries the LUONNOS mark."""
        return not self.snapshot.complete

    @cached_property
    def created(self) -> dt.datetime:
        """The documents' creation time property: the build date, never the clock.

        Midnight of ``today`` (naive UTC, as OOXML core properties store it) keeps the
        bytes identical for identical data on the same day.
        """
        return dt.datetime.combine(self.today, dt.time(0, 0))

    @cached_property
    def instructions_day(self) -> dt.date:
        """The day the instructions go out (config.yaml list_text.instructions_date)."""
        return self.settings.list_text.instructions_day(self.year)

    # --- attachments and file names ------------------------------------------------------

    @cached_property
    def attachments(self) -> tuple[Attachment, ...]:
        titles = self.base_wording.mapping("attachments")
        return tuple(
            Attachment(key=key, number=number, title=title.strip())
            for number, (key, title) in enumerate(titles.items(), start=1)
        )

    def attachment(self, key: str) -> Attachment:
        for attachment in self.attachments:
            if attachment.key == key:
                return attachment
        return Attachment(key=key, number=len(self.attachments) + 1, title=key)

    @cached_property
    def attachment_refs(self) -> str:
        """``1 ja 2`` for the proposal's "liitteiden 1 ja 2 mukaisesti"."""
        return fi_list([str(a.number) for a in self.attachments])

    def deadline(self, code: str) -> dt.date | None:
        for deadline, day in self.settings.calendar.dates_for(self.year):
            if deadline.code == code:
                return day
        return None

    def deadlines(self) -> list[tuple[str, dt.date]]:
        """The year's calendar: (Finnish title, date) in date order."""
        return [
            (clean(deadline.title.get("fi")), day)
            for deadline, day in self.settings.calendar.dates_for(self.year)
        ]

    def file_date(self, kind: str) -> dt.date:
        """The date in a file name: the deadline the document is delivered for.

        The mapping kind → deadline code is in the wording file ("today": the build date,
        for the slides, whose status date must agree); a code missing from the calendar
        falls back to the year's last deadline, then to 30.11.
        """
        codes = self.base_wording.mapping("files.deadlines")
        if codes.get(kind) == "today":  # a status document: dated the day it is made
            return self.today
        if codes.get(kind) == "instructions":  # released to the divisions on a set day
            return self.instructions_day
        day = self.deadline(codes.get(kind, ""))
        if day is None:
            dates = self.settings.calendar.dates_for(self.year)
            day = dates[-1][1] if dates else dt.date(self.year, 11, 30)
        return day

    def filename(self, kind: str, extension: str) -> str:
        date = self.file_date(kind).isoformat()
        w = self.base_wording
        if kind in {a.key for a in self.attachments}:
            attachment = self.attachment(kind)
            stem = w.text(
                "files.attachment",
                number=attachment.number,
                title=slug(attachment.title),
                date=date,
            )
        else:
            stem = w.text(f"files.{kind}", date=date, year=self.year)
        return f"{slug(stem)}.{extension}"

    # --- names ---------------------------------------------------------------------------

    def division_name(self, code: str) -> str:
        division = self.snapshot.division(code)
        return clean(division.name.fi) if division else clean(code)

    def entity_name(self, code: str) -> str:
        return clean(self.snapshot.entity(code).name.fi)

    def level_name(self, number: int) -> str:
        level = self.snapshot.level(number)
        return clean(level.name.fi) if level else str(number)

    # --- completeness --------------------------------------------------------------------

    def missing_by_division(self) -> list[tuple[str, list[str]]]:
        """For each incomplete division: what is missing, entity by entity, in Finnish."""
        w = self.wording
        result = []
        for status in self.snapshot.progress:
            if status.complete:
                continue
            unfinished = [e for e in status.entities if not e.complete]
            if len(unfinished) > MAX_LISTED_ENTITIES:
                # A division that has barely started: a count reads better than a list.
                many = w.text(
                    "common.missing_many",
                    division=status.division_code,
                    count=len(unfinished),
                    total=len(status.entities),
                )
                result.append((status.division_code, [many]))
                continue
            parts = []
            for entity in unfinished:
                what = []
                if entity.missing_levels:
                    levels = fi_list([str(n) for n in entity.missing_levels])
                    what.append(w.text("common.missing_levels", levels=levels))
                if not entity.satisfaction_mapped:
                    what.append(w.text("common.missing_satisfaction"))
                parts.append(
                    w.text(
                        "common.missing_entity",
                        division=status.division_code,
                        entity=self.entity_name(entity.entity_code),
                        what=", ".join(what),
                    )
                )
            result.append((status.division_code, parts))
        return result

    def missing_summary(self) -> str:
        """``SOTE / Hallinto (taso 4, tyytyväisyyden mittaaminen)`` — for the draft notes.

        No colon inside: the sentences around it end in one ("Kesken: …").
        """
        return "; ".join(", ".join(parts) for _code, parts in self.missing_by_division())

    def draft_note(self) -> str:
        progress = self.snapshot.progress
        complete = sum(1 for s in progress if s.complete)
        return self.wording.text(
            "common.draft_note" if complete else "common.draft_note_none",
            complete=complete,
            total=len(progress),
            missing=self.missing_summary() or "–",
        )

    def state_name(self, state: str) -> str:
        states = self.base_wording.mapping("common.states")
        return states.get(state, state)
