"""Cumulative meta-analysis by year of publication as a figure (metafor's ``forest(cumul(...))``): one row per
step, the report added at that step with its year, the responders and patients so far, and the pooled
estimate with its interval after the step, drawn with the forest plots' table layout.

The steps are those of the results (``Cumulative``: the main estimate's method refitted as each report is
added); nothing is computed here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from metacalc.render.forest import _estimate_text as estimate_text
from metacalc.render.layout import FONT_SIZE, MARKER_EQUAL_SIDE, SMALL_FONT_SIZE, SUMMARY_COLOUR, TableLayout
from metacalc.render.style import use_reproducible_backend
from metacalc.review.results import Cumulative

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def cumulative_plot(cumulative: Cumulative, title: str, xlabel: str = "Proportion responding", *,
                    percent: bool = False, digits: int | None = None, level: float = 0.95) -> Figure:
    """The steps of ``cumulative`` as a figure: a row per report added, in order of publication year, each with
    the pooled estimate so far (a square with its interval; a lower bound with its one-sided limit and an
    arrow). Proportions on 0-1, or 0-100 % with ``percent``."""
    steps = list(cumulative.steps)
    if not steps:
        raise ValueError(f"cumulative plot {title!r}: no steps to plot")
    use_reproducible_backend()
    scale = 100.0 if percent else 1.0
    digits = (1 if percent else 2) if digits is None else digits
    header_row, first_row = 0, 1
    n_rows = first_row + len(steps) + 0.4
    footer = (f"Each row: the pooled estimate of the reports up to it ({100 * level:g}% interval), the same method "
              "as the main estimate" + (f"; reports without a year last: {', '.join(cumulative.without_year)}"
                                        if cumulative.without_year else "") + ".")
    layout = TableLayout(n_rows, left_width=4.0, plot_width=3.1, right_width=2.6, title=title, footer=footer)
    layout.format_x_axis(0.0, scale, xlabel, percent)
    layout.text(layout.left, 0.0, header_row + 0.5, "Report added", weight="bold")
    layout.text(layout.left, 0.70, header_row + 0.5, "Year", ha="right", weight="bold")
    layout.text(layout.left, 0.98, header_row + 0.5, "Events / total", ha="right", weight="bold")
    header = f"Estimate [{100 * level:g}% CI]" + (" (%)" if percent else "")
    layout.text(layout.right, 0.95, header_row + 0.5, header, ha="right", weight="bold")
    layout.rule(header_row + 1)
    for i, step in enumerate(steps):
        y = first_row + i + 0.5
        layout.label(layout.left, 0.0, y, f"+ {step.added}", 30)
        layout.text(layout.left, 0.70, y, "no year" if step.year is None else f"{step.year:g}", ha="right",
                    fontsize=SMALL_FONT_SIZE if step.year is None else FONT_SIZE)
        layout.text(layout.left, 0.98, y, f"{step.events} / {step.total}", ha="right")
        estimate, lower, upper = (None if v is None else v * scale for v in (step.estimate, step.ci_lower,
                                                                             step.ci_upper))
        interval = None if estimate is None else (estimate, lower, upper)
        layout.text(layout.right, 0.95, y, estimate_text(interval, digits, step.lower_bound), ha="right")
        if estimate is None:
            continue
        gid = f"cumulative-step-{i + 1}"
        layout.whisker(y, lower, math.inf if step.lower_bound else upper, colour=SUMMARY_COLOUR)
        layout.marker(estimate, y, MARKER_EQUAL_SIDE, gid=gid, colour=SUMMARY_COLOUR)
    return layout.figure
