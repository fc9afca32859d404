"""The wording lives in docgen/templates/fi.yaml and staff edits take effect."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from docgen import KINDS, generate
from docgen.wording import DEFAULT_WORDING, WordingError, fill, load_wording
from settings import Settings

from ..conftest import Database
from .conftest import TODAY, build, seeded
from .readback import docx_text, text_of


def test_no_placeholder_is_left_unfilled(db: Database, settings: Settings) -> None:
    snapshot = seeded(db)
    for kind in KINDS:
        text = text_of(build(snapshot, kind, settings))
        assert "{" not in text and "}" not in text, kind


def test_staff_edit_changes_the_document(db: Database, settings: Settings, tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_WORDING.read_text(encoding="utf-8"))
    edit = "Kaupunginhallitus päättää hyväksyä muokatun tekstin {year}."
    raw["listateksti"]["proposal"]["take_note"] = edit
    raw["attachments"]["liite2"] = "Asiakaskokemuksen kartoitus"
    edited = tmp_path / "fi.yaml"
    edited.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    wording = load_wording(edited)
    snapshot = seeded(db)
    (listateksti,) = generate(
        snapshot, "listateksti", settings=settings, today=TODAY, wording=wording
    )
    text = docx_text(listateksti.content)
    assert "Kaupunginhallitus päättää hyväksyä muokatun tekstin 2026." in text
    assert "2 Asiakaskokemuksen kartoitus" in text
    (liite2,) = generate(snapshot, "liite2", settings=settings, today=TODAY, wording=wording)
    assert liite2.filename == "Liite_2_Asiakaskokemuksen_kartoitus_2026-11-30.xlsx"


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    raw = yaml.safe_load(DEFAULT_WORDING.read_text(encoding="utf-8"))
    del raw["listateksti"]["proposal"]
    edited = tmp_path / "fi.yaml"
    edited.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(WordingError, match=r"fi\.yaml: key 'listateksti\.proposal' is missing"):
        load_wording(edited).text("listateksti.proposal")


def test_broken_yaml_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "fi.yaml"
    broken.write_text("listateksti: [unclosed\n", encoding="utf-8")
    with pytest.raises(WordingError, match="not valid YAML"):
        load_wording(broken)


def test_unknown_placeholder_and_stray_brace_are_left_as_they_are() -> None:
    assert fill("Vuosi {year}, {tuntematon}", {"year": 2026}) == "Vuosi 2026, {tuntematon}"
    assert fill("Avoin { sulku", {"year": 2026}) == "Avoin { sulku"


def test_a_counted_text_takes_the_singular_form_for_exactly_one() -> None:
    wording = load_wording()
    forms = [
        wording.counted("liite1.entries_print_note", n, entries=n).split(")")[0].split("(")[1]
        for n in (0, 1, 2, 1200)
    ]
    assert forms == ["0 tapaa", "1 tapa", "2 tapaa", "1200 tapaa"]
    # A plain text (no one/other forms) serves every number.
    assert wording.counted("common.total", 1) == wording.text("common.total")
