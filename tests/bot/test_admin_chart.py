"""The overview chart on its own: a PNG that grows with the divisions and never fails."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from bot.charts import ChartTexts, DivisionCoverage, coverage_chart

TEXTS = ChartTexts(
    title="Tilanne 2.11.2026",
    levels_title="Palvelukokonaisuudet, joilla on tapoja kullakin tasolla",
    level_names=["1 Viestintä ja kuuleminen", "2 Vuorovaikutus", "3 Yhdessä", "4 Päätösvalta"],
    coverage_title="Raportoidut palvelukokonaisuudet",
    participation="osallisuus raportoitu",
    satisfaction="tyytyväisyys kartoitettu",
    submitted="lähetetty",
)


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def test_the_chart_is_a_png_that_grows_with_the_divisions() -> None:
    four = [DivisionCoverage(f"D{i}", 5, [5, 3, 1, 0], 4, 2, i == 0) for i in range(4)]
    eight = [DivisionCoverage(f"D{i}", 5, [5, 3, 1, 0], 4, 2) for i in range(8)]
    width4, height4 = _size(coverage_chart(four, TEXTS))
    width8, height8 = _size(coverage_chart(eight, TEXTS))
    assert width4 >= 1400 and height4 >= 500
    assert width8 == width4 and height8 > height4


def test_empty_divisions_and_no_divisions_draw_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coverage_chart([], TEXTS)
        coverage_chart([DivisionCoverage("NEW", 0, [0, 0, 0, 0], 0, 0)], TEXTS)
