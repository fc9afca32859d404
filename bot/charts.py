"""The coordinators' overview as a picture (PNG): people read a chart faster than a table.

Left: divisions × participation levels, each cell the share of the division's service
entities that report methods at that level ("3/5"). Right: per division, the share of
service entities whose participation answer is complete and whose satisfaction
measurement is mapped. Drawn with matplotlib's object API on the Agg canvas (no pyplot
global state), so it is safe to run in a worker thread; the caller passes every text
already translated, so this module knows nothing about languages.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

#: Blue for participation, red for satisfaction: distinct also in greyscale print.
COMPLETE_COLOUR = "#0072c6"
MAPPED_COLOUR = "#bd2719"
CELL_COLOURS = LinearSegmentedColormap.from_list("coverage", ["#f2f2f2", "#9fc9eb", "#0072c6"])


@dataclass(frozen=True)
class DivisionCoverage:
    """What the chart shows of one division."""

    code: str
    entities: int
    with_methods_by_level: Sequence[int]  # per level (in level order): entities with methods
    participation_complete: int
    satisfaction_mapped: int
    submitted: bool = False


@dataclass(frozen=True)
class ChartTexts:
    """Every word on the chart, in the reader's language."""

    title: str
    levels_title: str  # "Service entities with methods, by level"
    level_names: Sequence[str]  # "1 Viestintä ja kuuleminen", …
    coverage_title: str  # "Service entities reported"
    participation: str  # legend: "participation complete"
    satisfaction: str  # legend: "satisfaction mapped"
    submitted: str  # marker after a submitted division: "submitted"
    percents: Sequence[str] = ("0 %", "25 %", "50 %", "75 %", "100 %")  # the x axis's ticks


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def coverage_chart(rows: Sequence[DivisionCoverage], texts: ChartTexts) -> bytes:
    """The PNG bytes of the chart (about 1500 × 700 pixels)."""
    levels = len(texts.level_names)
    figure = Figure(figsize=(12, 1.9 + 0.75 * max(len(rows), 1)), dpi=125, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(texts.title, fontsize=15, fontweight="bold")
    grid = figure.add_gridspec(1, 2, width_ratios=[1.25, 1])
    heat = figure.add_subplot(grid[0, 0])
    bars = figure.add_subplot(grid[0, 1])
    labels = [f"{r.code}\n({texts.submitted})" if r.submitted else r.code for r in rows]

    # Left: divisions × levels.
    values = [[_share(r.with_methods_by_level[i], r.entities) for i in range(levels)] for r in rows]
    heat.imshow(values or [[0.0] * levels], cmap=CELL_COLOURS, vmin=0, vmax=1, aspect="auto")
    for y, row in enumerate(rows):
        for x in range(levels):
            share = values[y][x]
            heat.text(
                x,
                y,
                f"{row.with_methods_by_level[x]}/{row.entities}",
                ha="center",
                va="center",
                fontsize=13,
                fontweight="bold",
                color="white" if share > 0.6 else "#1a1a1a",
            )
    heat.set_xticks(
        range(levels), [textwrap.fill(name, 18) for name in texts.level_names], fontsize=9.5
    )
    heat.set_yticks(range(len(rows)), labels, fontsize=12, fontweight="bold")
    heat.tick_params(length=0)
    heat.set_xticks([x - 0.5 for x in range(1, levels)], minor=True)
    heat.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    heat.grid(which="minor", color="white", linewidth=3)
    heat.tick_params(which="minor", length=0)
    for spine in heat.spines.values():
        spine.set_visible(False)
    heat.set_title(texts.levels_title, fontsize=12, loc="left")

    # Right: coverage per division.
    positions = range(len(rows))
    height = 0.38
    series = [
        (
            [r.participation_complete for r in rows],
            texts.participation,
            COMPLETE_COLOUR,
            -height / 2,
        ),
        ([r.satisfaction_mapped for r in rows], texts.satisfaction, MAPPED_COLOUR, height / 2),
    ]
    for counts, label, colour, offset in series:
        shares = [100 * _share(c, r.entities) for c, r in zip(counts, rows, strict=True)]
        bars.barh([p + offset for p in positions], shares, height=height, color=colour, label=label)
        for p, share, count, row in zip(positions, shares, counts, rows, strict=True):
            bars.text(
                min(share, 100) + 1.5,
                p + offset,
                f"{count}/{row.entities}",
                va="center",
                fontsize=11,
            )
    bars.set_xlim(0, 118)
    bars.set_xticks([0, 25, 50, 75, 100], list(texts.percents))
    bars.set_yticks(list(positions), labels, fontsize=12, fontweight="bold")
    bars.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    bars.grid(axis="x", color="#dddddd")
    bars.set_axisbelow(True)
    for side in ("top", "right"):
        bars.spines[side].set_visible(False)
    bars.set_title(texts.coverage_title, fontsize=12, loc="left")
    bars.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncols=2, frameon=False)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
