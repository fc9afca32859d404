"""The workbook's layout fits one Excel cell however many answers a division has."""

from __future__ import annotations

import json

import pytest

from sheets.layout import Layout

#: Excel's limit for the text of one cell.
EXCEL_CELL_CHARACTERS = 32_767


def _layout(rows_per_level: int) -> Layout:
    layout = Layout(version=1, division="KASKO", year=2026, language="fi")
    for entity in range(5):
        levels = [code for code in ("L1", "L2", "L3", "L4") for _ in range(rows_per_level)]
        layout.participation[f"KASKO_{entity}"] = (f"Palvelu {entity}", levels)
    layout.satisfaction_sheet = "Tyytyväisyys"
    layout.satisfaction_rows = [f"KASKO_{entity}" for entity in range(5) for _ in range(3)]
    return layout


def _meta(layout_json: str) -> dict[str, object]:
    return {
        "template_version": "1",
        "division": "KASKO",
        "year": "2026",
        "language": "fi",
        "layout": layout_json,
    }


def test_the_layout_of_20000_answer_rows_fits_one_cell_and_reads_back() -> None:
    layout = _layout(rows_per_level=1_000)  # 20 000 participation rows
    text = layout.to_json()
    assert len(text) < EXCEL_CELL_CHARACTERS
    back = Layout.from_meta(_meta(text))
    assert back.participation == layout.participation
    assert back.satisfaction_rows == layout.satisfaction_rows
    assert back.to_json() == text  # the checksum covers the text the file holds


def test_a_workbook_written_with_one_code_per_row_is_still_read() -> None:
    layout = _layout(rows_per_level=3)
    older = json.dumps(
        {
            "participation": [[k, s, rows] for k, (s, rows) in layout.participation.items()],
            "satisfaction": [layout.satisfaction_sheet, layout.satisfaction_rows],
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    back = Layout.from_meta(_meta(older))
    assert back.participation == layout.participation
    assert back.to_json() == older


@pytest.mark.parametrize("count", [0, -1, 10_000_000])
def test_a_forged_row_count_is_refused(count: int) -> None:
    forged = json.dumps({"participation": [["A", "A", [["L1", count]]]], "satisfaction": ["S", []]})
    with pytest.raises(ValueError):
        Layout.from_meta(_meta(forged))


def test_a_long_sheet_name_is_cut_at_a_word_with_an_ellipsis() -> None:
    """Issue 16 item 15: "Administration and support serv" was cut in the middle of a word."""
    from sheets.layout import MAX_SHEET_NAME, sheet_names

    long_name = "Administration and support services"
    first, second = sheet_names([long_name, long_name + " 2"], [])
    assert first == "Administration and support…"
    assert second == "Administration and… (2)"
    assert all(len(name) <= MAX_SHEET_NAME for name in (first, second))
