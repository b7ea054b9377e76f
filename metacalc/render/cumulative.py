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
from metacalc.render.layout import MARKER_EQUAL_SIDE, SUMMARY_COLOUR, TableLayout
from metacalc.render.style import DEFAULT_COLUMN, Column, column, use_reproducible_backend
from metacalc.review.results import Cumulative

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def cumulative_plot(cumulative: Cumulative, title: str, xlabel: str = "Proportion responding", *,
                    percent: bool = False, digits: int | None = None, level: float = 0.95, method_text: bool = True,
                    width: str | Column = DEFAULT_COLUMN) -> Figure:
    """The steps of ``cumulative`` as a figure: a row per report added, in order of publication year, each with
    the pooled estimate so far (a square with its interval; a lower bound with its one-sided limit and an
    arrow). Proportions on 0-1, or 0-100 % with ``percent``. ``method_text=False`` leaves out the sentence
    at the foot (the report says it in the legend: ``cumulative_legend``); an empty ``title`` draws none. In one
    journal column (``width="single"``) the year is left to the report's label ("Tristano 2006")."""
    steps = list(cumulative.steps)
    if not steps:
        raise ValueError(f"cumulative plot {title!r}: no steps to plot")
    use_reproducible_backend()
    scale = 100.0 if percent else 1.0
    digits = (1 if percent else 2) if digits is None else digits
    header_row, first_row = 0, 1
    n_rows = first_row + len(steps) + 0.4
    single = column(width).name == "single"
    layout = TableLayout(n_rows, (1.45, 0.95, 1.0) if single else (3.9, 2.8, 2.6), title=title,
                         footer=cumulative_legend(cumulative, level) if method_text else "", width=width)
    layout.format_x_axis(0.0, scale, xlabel, percent)
    counts_header = "Events/N" if single else "Events / total"
    layout.text(layout.left, 0.0, header_row + 0.5, "Report added", weight="bold")
    if not single:
        layout.text(layout.left, 0.66, header_row + 0.5, "Year", ha="right", weight="bold")
    layout.text(layout.left, 0.98, header_row + 0.5, counts_header, ha="right", weight="bold")
    header = f"Estimate [{100 * level:g}% CI]" + (" (%)" if percent else "")
    layout.label(layout.right, 0.97, header_row + 0.5, header, 0.97, ha="right", weight="bold")
    layout.rule(header_row + 1)
    # the label takes the room left of the widest number of the first number column
    widest = max(len(f"{step.events} / {step.total}") for step in steps) if single else 7  # "no year"
    first_number = (0.98 if single else 0.66) - widest * 0.64 * layout.font / 72 / layout.inches(layout.left)
    for i, step in enumerate(steps):
        y = first_row + i + 0.5
        layout.label(layout.left, 0.0, y, f"+ {step.added}", first_number - 0.03)
        if not single:
            layout.text(layout.left, 0.66, y, "no year" if step.year is None else f"{step.year:g}", ha="right",
                        fontsize=layout.small if step.year is None else layout.font)
        layout.text(layout.left, 0.98, y, f"{step.events} / {step.total}", ha="right")
        estimate, lower, upper = (None if v is None else v * scale for v in (step.estimate, step.ci_lower,
                                                                             step.ci_upper))
        interval = None if estimate is None else (estimate, lower, upper)
        layout.text(layout.right, 0.97, y, estimate_text(interval, digits, step.lower_bound), ha="right")
        if estimate is None:
            continue
        gid = f"cumulative-step-{i + 1}"
        layout.whisker(y, lower, math.inf if step.lower_bound else upper, colour=SUMMARY_COLOUR)
        layout.marker(estimate, y, MARKER_EQUAL_SIDE, gid=gid, colour=SUMMARY_COLOUR)
    return layout.figure


def cumulative_legend(cumulative: Cumulative, level: float = 0.95) -> str:
    """What each row of the figure is (at its foot, or in the report's legend)."""
    without = cumulative.without_year
    lower_bounds = any(step.lower_bound for step in cumulative.steps)
    return (f"Each row: the pooled estimate of the reports up to it (a square with its {100 * level:g}% interval"
            + ("; an arrow marks a lower bound, with its one-sided limit" if lower_bounds else "")
            + "), reports in order of publication year, the same method as the main estimate"
            + (f"; reports without a year last: {', '.join(without)}" if without else "") + ".")
