"""Placeholders of config.yaml's list-text details are flagged before a document is filed."""

from __future__ import annotations

from docgen.readiness import placeholder_warnings
from settings import BoardMeeting, Person, Settings

from .conftest import YEAR


def test_shipped_config_flags_the_contact_and_the_missing_meeting(settings: Settings) -> None:
    warnings = {w.key: w for w in placeholder_warnings(settings, YEAR)}
    assert warnings["list_text.contact.name"].value == "Etunimi Sukunimi"
    assert warnings["list_text.contact.phone"].value == "09 310 xxxxx"
    assert warnings["list_text.contact.email"].value == "etunimi.sukunimi@hel.fi"
    assert warnings[f"list_text.meetings.{YEAR}.date"].missing
    assert warnings[f"list_text.meetings.{YEAR}.agenda_number"].missing
    assert "list_text.presenter.name" not in warnings
    assert "list_text.case_number" not in warnings
    assert warnings["list_text.contact.name"].english() == (
        "config.yaml: list_text.contact.name is still a placeholder ('Etunimi Sukunimi')"
    )


def test_filled_in_config_has_no_warnings(settings: Settings) -> None:
    list_text = settings.list_text.model_copy(
        update={
            "contact": Person(
                name="Maija Meikäläinen",
                title="erityissuunnittelija",
                phone="09 310 36201",
                email="maija.meikalainen@hel.fi",
            ),
            "meetings": {YEAR: BoardMeeting(date="7.12.2026", agenda_number=45, item_number=12)},
        }
    )
    filled = settings.model_copy(update={"list_text": list_text})
    assert placeholder_warnings(filled, YEAR) == []
    # Another year without a meeting is flagged again.
    assert {w.key for w in placeholder_warnings(filled, YEAR + 1)} == {
        f"list_text.meetings.{YEAR + 1}.date",
        f"list_text.meetings.{YEAR + 1}.agenda_number",
        f"list_text.meetings.{YEAR + 1}.item_number",
    }
