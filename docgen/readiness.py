"""Is config.yaml ready for the board? Details of the list text still at a placeholder.

The presenter, the contact person and the case details (case number, the year's meeting,
agenda and item number) come from config.yaml, which ships with placeholders
("Etunimi Sukunimi", "09 310 xxxxx"). A document made with them is not fileable, so
both ``/luonnos`` in the chat and ``python -m docgen`` list what still needs filling in.
The warnings are data (the config key and its value), so each caller words them in its
own language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from settings import Settings

# A value that is still the shipped example: "xxxxx", "Etunimi Sukunimi", "__", "…".
_PLACEHOLDER = re.compile(r"x{3,}|etunimi|sukunimi|_{2,}|\.\.\.|…|^\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ConfigWarning:
    """One detail of config.yaml to fill in: ``key`` as written in the file."""

    key: str
    value: str

    @property
    def missing(self) -> bool:
        """Not set at all (rather than set to a placeholder)."""
        return not self.value.strip()

    def english(self) -> str:
        """The one-line English form, for the command line."""
        if self.missing:
            return f"config.yaml: {self.key} is not set"
        return f"config.yaml: {self.key} is still a placeholder ({self.value!r})"


def is_placeholder(value: str | None) -> bool:
    return value is None or bool(_PLACEHOLDER.search(value))


def placeholder_warnings(settings: Settings, year: int) -> list[ConfigWarning]:
    """Presenter, contact and case details of ``year``'s list text still to be filled in."""
    lt = settings.list_text
    checks: list[tuple[str, str | None]] = [
        ("list_text.presenter.title", lt.presenter.title),
        ("list_text.presenter.name", lt.presenter.name),
        ("list_text.contact.name", lt.contact.name),
        ("list_text.contact.title", lt.contact.title),
        ("list_text.contact.phone", lt.contact.phone),
        ("list_text.contact.email", lt.contact.email),
        ("list_text.case_number", lt.case_number),
    ]
    meeting = lt.meeting(year)
    prefix = f"list_text.meetings.{year}"
    checks += [
        (f"{prefix}.date", meeting.date),
        (f"{prefix}.agenda_number", None if meeting.agenda_number is None else "set"),
        (f"{prefix}.item_number", None if meeting.item_number is None else "set"),
    ]
    return [ConfigWarning(key, value or "") for key, value in checks if is_placeholder(value)]


__all__ = ["ConfigWarning", "is_placeholder", "placeholder_warnings"]
