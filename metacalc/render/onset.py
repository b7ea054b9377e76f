"""Time to onset: every patient as a dot, group summaries, and the published figures.

A review of case reports asks which published figure the reported patients sit closer to (a literature
average, a large series), so the figure puts each patient on the same axis as dashed reference lines at the
published values, with the pooled means (diamonds) and the published aggregates (open squares) below. It shares
the table layout of the forest plots: labels on the left, values on the right.
"""

from __future__ import annotations

import math

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from metacalc.render.layout import MARKER_EQUAL_SIDE, SUMMARY_COLOUR, TableLayout, nice_range, reference_pairs
from metacalc.render.style import DEFAULT_COLUMN, PALETTE, Column, column, use_reproducible_backend
from metacalc.review.words import fixed

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# One colour per patient group, in order of first appearance; patients without a group are grey. Vermillion
# is kept for the published figures and the reference lines are dark grey (each is labelled at the line), so
# that no colour means two things.
GROUP_COLOURS = (PALETTE["blue"], PALETTE["orange"], PALETTE["green"], PALETTE["purple"], PALETTE["sky_blue"],
                 PALETTE["black"])
UNGROUPED_COLOUR = PALETTE["grey"]
REFERENCE_COLOUR = "#4D4D4D"
PUBLISHED_COLOUR = PALETTE["vermillion"]
NOT_REPORTED = "group not reported"


def onset_plot(patients: Sequence[Mapping[str, Any]], summaries: Sequence[Mapping[str, Any]],
               references: Sequence[Any], title: str, *, xlabel: str = "Years to onset", digits: int = 1,
               key_text: bool = True, width: str | Column = DEFAULT_COLUMN) -> Figure:
    """Per-patient times with group summaries and published figures, returned as a matplotlib ``Figure``.

    ``patients``: list of ``{"label", "years", "group"}`` (``years`` may be None: listed as not reported;
    negative when the onset came before the start of the clock). ``summaries``: list of ``{"label", "estimate",
    "ci_lower", "ci_upper", "n", "kind"}`` with ``kind`` "pooled" (drawn as a diamond) or "published" (an open
    square); interval ends and ``n`` may be None, and an optional ``"range": (min, max)`` is written beside a
    summary that has no interval (the time rule's median of fewer than 6 patients: the range is not drawn as if
    it were an interval). ``references``: ``{"value", "label"}`` dicts or ``(value, label)`` pairs, drawn as
    dashed vertical lines. ``width`` is the journal column the figure is drawn for; in one column the labels and
    the values wrap onto two lines rather than shrink.
    """
    patients, summaries = list(patients or []), list(summaries or [])
    if not patients and not summaries:
        raise ValueError(f"onset plot {title!r}: no patients and no summaries to plot")
    for summary in summaries:
        if summary.get("kind") not in ("pooled", "published"):
            raise ValueError(
                f"onset plot {title!r}: summary {summary.get('label')!r} has kind {summary.get('kind')!r}; "
                "expected 'pooled' or 'published'"
            )
    use_reproducible_backend()
    references = reference_pairs(references)
    groups = _groups(patients)

    values = [p["years"] for p in patients if _finite(p.get("years"))]
    for summary in summaries:
        values += [summary.get(key) for key in ("estimate", "ci_lower", "ci_upper") if _finite(summary.get(key))]
    values += [value for value, _ in references]
    xmin, xmax = nice_range(values + [0.0])  # 0 = the start of the clock, always on the axis

    # Rows: reference labels, header, then per group a heading and its patients, then the summaries.
    header_row = len(references)
    row = header_row + 1
    placed_groups: list[tuple[str, int, list[tuple[int, Mapping[str, Any]]]]] = []
    for name, group in groups:
        placed_groups.append((name, row, [(row + 1 + j, patient) for j, patient in enumerate(group)]))
        row += 1 + len(group)
    summary_heading_row: float = row + 0.3
    summary_rows = [summary_heading_row + 1 + j for j in range(len(summaries))]
    n_rows = (summary_rows[-1] + 1 if summaries else row) + 0.3

    single = column(width).name == "single"
    layout = TableLayout(n_rows, (1.25, 1.0, 0.9) if single else (3.0, 3.0, 2.3), title=title,
                         footer=onset_legend(summaries) if key_text else "", width=width)
    layout.format_x_axis(xmin, xmax, xlabel, percent=False)
    layout.text(layout.left, 0.0, header_row + 0.5, "Patient", weight="bold")
    layout.text(layout.right, 0.98, header_row + 0.5, "Years [95% CI]", ha="right", weight="bold")
    layout.rule(header_row + 1)
    if xmin < 0:
        # An onset before the start of the clock is possible (the sheets flag it); mark where the start is.
        layout.plot.plot([0.0, 0.0], [header_row + 1, n_rows], color="#BBBBBB", lw=0.8, zorder=0, clip_on=False)

    patient_number = 0
    for g, (name, heading_row, members) in enumerate(placed_groups):
        colour = UNGROUPED_COLOUR if name == NOT_REPORTED else GROUP_COLOURS[g % len(GROUP_COLOURS)]
        layout.label(layout.left, 0.0, heading_row + 0.5, f"{name} ({len(members)})", 1.0, weight="bold",
                     colour="#666666" if colour == UNGROUPED_COLOUR else colour)  # grey text needs more contrast
        for row_of_patient, patient in members:
            patient_number += 1
            y = row_of_patient + 0.5
            layout.label(layout.left, 0.04, y, patient.get("label") or f"Patient {patient_number}", 0.94)
            years: Any = patient.get("years")
            if _finite(years):
                layout.text(layout.right, 0.98, y, fixed(years, digits), ha="right")
                layout.plot.plot([years], [y], marker="o", ms=6.5, color=colour, mec="white", mew=0.6, ls="none",
                                 clip_on=False, zorder=3, gid=f"patient-{patient_number}")
            else:
                layout.text(layout.right, 0.98, y, "not reported", ha="right", colour="#666666")

    if summaries:
        layout.text(layout.left, 0.0, summary_heading_row + 0.5, "Summaries", weight="bold")
        for i, (row_of_summary, summary) in enumerate(zip(summary_rows, summaries)):
            y = row_of_summary + 0.5
            layout.label(layout.left, 0.04, y, _summary_label(summary), 0.94)
            layout.label(layout.right, 0.98, y, _summary_value(summary, digits), 0.96, ha="right",
                         weight="bold" if summary["kind"] == "pooled" else "normal")
            estimate: Any = summary.get("estimate")
            if not _finite(estimate):
                continue
            lower, upper = summary.get("ci_lower"), summary.get("ci_upper")
            if summary["kind"] == "pooled" and _finite(lower) and _finite(upper):
                layout.diamond(y, (estimate, lower, upper), gid=f"summary-{i + 1}")
            elif summary["kind"] == "pooled":
                layout.plot.plot([estimate], [y], marker="D", ms=MARKER_EQUAL_SIDE, color=SUMMARY_COLOUR,
                                 ls="none", clip_on=False, zorder=4, gid=f"summary-{i + 1}")
            else:
                layout.whisker(y, lower if _finite(lower) else None, upper if _finite(upper) else None,
                               colour=PUBLISHED_COLOUR)
                layout.plot.plot([estimate], [y], marker="s", ms=MARKER_EQUAL_SIDE + 1, mfc="white",
                                 mec=PUBLISHED_COLOUR, mew=1.6, ls="none", clip_on=False, zorder=4,
                                 gid=f"summary-{i + 1}")

    layout.reference_lines(references, 1.0, bottom=n_rows, digits=digits, colours=(REFERENCE_COLOUR,))
    return layout.figure


def _groups(patients: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Patients grouped in order of first appearance; patients without a group come last."""
    order: list[str] = []
    members: dict[str, list[Mapping[str, Any]]] = {}
    for patient in patients:
        name = patient.get("group")
        name = NOT_REPORTED if name is None or str(name).strip() == "" else str(name)
        if name not in members:
            members[name] = []
            order.append(name)
        members[name].append(patient)
    if NOT_REPORTED in order:
        order.remove(NOT_REPORTED)
        order.append(NOT_REPORTED)
    return [(name, members[name]) for name in order]


def _summary_label(summary: Mapping[str, Any]) -> str:
    label = summary.get("label") or ""
    n = summary.get("n")
    return label if n is None else f"{label} (n = {int(n)})"


def _summary_value(summary: Mapping[str, Any], digits: int) -> str:
    estimate, lower, upper = summary.get("estimate"), summary.get("ci_lower"), summary.get("ci_upper")
    if not _finite(estimate):
        return "not estimable"
    text = fixed(estimate, digits)
    if _finite(lower) and _finite(upper):
        text += f" [{fixed(lower, digits)}, {fixed(upper, digits)}]"
    elif summary.get("range"):
        low, high = summary["range"]
        text += f" (range {fixed(low, digits)} to {fixed(high, digits)})"
    return text


def onset_legend(summaries: Sequence[Mapping[str, Any]]) -> str:
    """The key of the figure's marks (the report prints it in the legend; ``key_text=False`` leaves it out)."""
    kinds = {summary["kind"] for summary in summaries}
    parts = ["Dots: one patient each, coloured by group."]
    if "pooled" in kinds:
        parts.append("Filled diamonds: medians of the patients with their exact 95% CI (from 6 patients), means "
                     "with an approximate t 95% CI (from 10 patients), or means pooled with series, each spanning its "
                     "interval; a diamond without an interval has too few patients for one (its range is given).")
    if "published" in kinds:
        parts.append("Open squares: figures as published (with their interval when one is known).")
    parts.append("Dashed lines: published reference values.")
    return " ".join(parts)


def _finite(value: Any) -> bool:
    """A usable number (numpy scalars included); None, NaN and text are not."""
    if value is None or isinstance(value, (str, bool)):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
