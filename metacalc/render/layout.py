"""The table layout shared by the forest plots, the cumulative and the time-to-onset figures: a table of labels
on the left, the intervals in the middle, values on the right, all sharing one row scale (rows are the y unit),
so that every column lines up by construction. The figure is as wide as its journal column and its text is in
points at that size, so a figure grows in height with its rows and its text keeps its printed size; labels are
wrapped (or cut with an ellipsis) to the room they have. Text is drawn with ``parse_math=False``: a label
containing ``$`` must not turn into mathtext.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from metacalc.render.style import DEFAULT_COLUMN, PALETTE, Column, column
from metacalc.review.words import fixed

ROW_HEIGHT_PER_POINT = 0.03  # inches of a table row per point of its body text
TWO_LINES = 2.6  # a row holds two lines of the smallest text: this many of its points, in points
MARKER_MAX_SIDE = 11.0  # points; the heaviest study's square
MARKER_MIN_SIDE = 3.0  # points; light studies must stay visible
MARKER_EQUAL_SIDE = 7.0  # points; used when weights are all equal or unknown
DIAMOND_HALF_HEIGHT = 0.34  # rows
TICK_SPACING = 0.45  # inches at least between tick labels of the x axis ("100%" at 7 pt is 0.25 in)

STUDY_COLOUR = PALETTE["blue"]
SUMMARY_COLOUR = PALETTE["black"]
PREDICTION_COLOUR = PALETTE["vermillion"]
# Reference lines cycle through colours that stay apart from the blue markers and the vermillion interval.
REFERENCE_COLOURS = (PALETTE["orange"], PALETTE["green"], PALETTE["purple"], PALETTE["sky_blue"], PALETTE["grey"])


class TableLayout:
    """Three axes side by side sharing one row scale: table (left), intervals (middle), table (right).

    The figure is as wide as its journal column (``width``: single or double, see ``metacalc.render.style``),
    shared out between the three parts in proportion to ``shares``; text is in points at the column's sizes, so
    at the printed width no text is smaller than 7 pt. Rows are numbered from the top in data units (row r spans
    r..r+1), so every column lines up by construction, and a figure grows in height with its rows.
    """

    MARGIN = 0.04  # inches at the left and right edges
    GAP = 0.08  # between the tables and the interval axes, so that a marker at 0 or 1 does not touch a number

    def __init__(self, n_rows: float, shares: tuple[float, float, float], title: str, footer: str,
                 width: str | Column = DEFAULT_COLUMN, notes: Sequence[str] = ()) -> None:
        from matplotlib.figure import Figure

        self.col = column(width)
        self.font, self.small = self.col.font_size, self.col.small_font_size
        self.title_font = self.font + 2
        line = self.font / 72  # inches of a line of body text
        available = self.col.width - 2 * self.MARGIN - 2 * self.GAP
        left_width, plot_width, right_width = (share / sum(shares) * available for share in shares)
        self.footer_lines = wrap(footer, self.col.chars(available, self.small), max_lines=14) if footer else []
        self.axis = 4.6 * line  # tick labels and x label (two lines in one column) under the interval axes
        self.footer_line = 1.25 * self.small / 72
        # notes (the statistics under a forest plot) as given, each line wrapped only if it must
        self.notes = [part for note in notes for part in wrap(note, self.col.chars(available, self.small), 3)]
        bottom = self.axis + self.footer_line * (len(self.notes) + len(self.footer_lines)) + 0.1
        top = 5.5 * line if title else 0.6 * line
        self.row_height = max(ROW_HEIGHT_PER_POINT * self.font, TWO_LINES * self.small / 72)
        height = n_rows * self.row_height
        total_height = height + top + bottom
        self.figure = Figure(figsize=(self.col.width, total_height))
        self.n_rows = n_rows

        def box(x0: float, w: float) -> tuple[float, float, float, float]:
            return (x0 / self.col.width, bottom / total_height, w / self.col.width, height / total_height)

        self.left = self.figure.add_axes(box(self.MARGIN, left_width))
        self.plot = self.figure.add_axes(box(self.MARGIN + left_width + self.GAP, plot_width))
        self.right = self.figure.add_axes(box(self.MARGIN + left_width + plot_width + 2 * self.GAP, right_width))
        self._inches = {id(self.left): left_width, id(self.plot): plot_width, id(self.right): right_width}
        for ax in (self.left, self.right):
            ax.set_xlim(0, 1)
            ax.axis("off")
        for ax in (self.left, self.plot, self.right):
            ax.set_ylim(n_rows, 0)
        self.plot.set_yticks([])
        for side in ("top", "left", "right"):
            self.plot.spines[side].set_visible(False)
        self.plot.patch.set_visible(False)
        self._x_fraction = (self.MARGIN / self.col.width, 1 - self.MARGIN / self.col.width)
        if title:
            self.text(
                self.left,
                0.0,
                -0.25,  # just above the first row (rows are the y unit)
                "\n".join(wrap(title, self.col.chars(available, self.title_font), max_lines=3)),
                fontsize=self.title_font,
                weight="bold",
                va="bottom",
            )
        from matplotlib.transforms import offset_copy

        if self.notes:
            self.left.text(0.0, 0.0, "\n".join(self.notes),
                           transform=offset_copy(self.left.transAxes, fig=self.figure, y=-self.axis, units="inches"),
                           fontsize=self.small, ha="left", va="top", parse_math=False, gid="heterogeneity")
        if self.footer_lines:
            below = self.axis + self.footer_line * len(self.notes)
            self.left.text(
                0.0,
                0.0,
                "\n".join(self.footer_lines),
                transform=offset_copy(self.left.transAxes, fig=self.figure, y=-below, units="inches"),
                fontsize=self.small,
                color="#333333",
                ha="left",
                va="top",
                parse_math=False,
                gid="method-text",
            )

    @property
    def single(self) -> bool:
        """Drawn for one column of a two-column page: the tables keep only the columns that fit."""
        return self.col.name == "single"

    def inches(self, ax: Any) -> float:
        """The width of one of the three parts, in inches."""
        return self._inches[id(ax)]

    def chars(self, ax: Any, span: float, fontsize: float | None = None) -> int:
        """Characters that fit in ``span`` (a fraction of the part's width) at ``fontsize``."""
        return self.col.chars(span * self.inches(ax), fontsize or self.font)

    # Text ------------------------------------------------------------------------------------------------
    def text(self, ax: Any, x: float, y: float, text: str, ha: str = "left", weight: str = "normal",
             fontsize: float | None = None, va: str = "center", style: str = "normal", colour: str = "black",
             gid: str | None = None) -> Any:
        return ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize or self.font, fontweight=weight,
                       fontstyle=style, color=colour, parse_math=False, gid=gid)

    def label(self, ax: Any, x: float, y: float, text: str, span: float, fontsize: float | None = None,
              colour: str = "black", ha: str = "left", weight: str = "normal") -> Any:
        """A label that fits ``span`` (a fraction of its part's width): one line, or two smaller lines, the
        second ending in an ellipsis."""
        size = fontsize or self.font
        if len(" ".join(str(text).split())) <= self.chars(ax, span, size):
            return self.text(ax, x, y, text, fontsize=size, colour=colour, ha=ha, weight=weight)
        lines = wrap(text, self.chars(ax, span, self.small), max_lines=2)
        return ax.text(x, y, "\n".join(lines), ha=ha, va="center", fontsize=self.small, fontweight=weight,
                       linespacing=1.0, color=colour, parse_math=False)

    def rule(self, y: float) -> None:
        from matplotlib.lines import Line2D
        from matplotlib.transforms import blended_transform_factory

        transform = blended_transform_factory(self.figure.transFigure, self.left.transData)
        self.figure.add_artist(Line2D(list(self._x_fraction), [y, y], transform=transform, color="black", lw=0.6))

    # Axis ------------------------------------------------------------------------------------------------
    def format_x_axis(self, xmin: float, xmax: float, xlabel: str, percent: bool) -> None:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        self.xmin, self.xmax = xmin, xmax
        self.plot.set_xlim(xmin, xmax)
        bins = max(2, min(6, int(self.inches(self.plot) / TICK_SPACING)))
        self.plot.xaxis.set_major_locator(MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]))
        if percent:
            self.plot.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
        self.plot.tick_params(axis="x", labelsize=max(self.small, self.font - 1), length=3)
        # the axis label is centred under the interval axes and may reach under the tables (nothing is there);
        # it wraps only where even that is too narrow
        side = min(self.inches(self.left), self.inches(self.right))
        room = self.col.chars(self.inches(self.plot) + 2 * self.GAP + 1.6 * side, self.font)
        self.plot.set_xlabel("\n".join(wrap(xlabel, room, max_lines=2)), fontsize=self.font, parse_math=False,
                             linespacing=1.0)

    # Marks -----------------------------------------------------------------------------------------------
    def whisker(self, y: float, lower: float | None, upper: float | None, colour: str) -> None:
        """A confidence interval; the part outside the axis is cut off and replaced by an arrow head."""
        if lower is None or upper is None:
            return
        a, b = max(lower, self.xmin), min(upper, self.xmax)
        if a <= b:
            self.plot.plot([a, b], [y, y], color=colour, lw=1.0, solid_capstyle="butt", clip_on=False, zorder=2)
        self._arrows(y, lower, upper, colour)

    def marker(self, x: float | None, y: float, side: float, gid: str, colour: str = STUDY_COLOUR) -> None:
        if x is None or not (self.xmin <= x <= self.xmax):
            return  # the arrow head drawn by whisker() says where it went
        self.plot.plot([x], [y], marker="s", ms=side, color=colour, mec=colour, ls="none", clip_on=False,
                       zorder=3, gid=gid)

    def diamond(self, y: float, interval: tuple[float, float | None, float | None],
                gid: str = "summary-diamond") -> None:
        from matplotlib.patches import Polygon

        estimate, lower, upper = interval
        lower = estimate if lower is None else lower
        upper = estimate if upper is None else upper
        self._arrows(y, lower, upper, SUMMARY_COLOUR)
        lower, upper = max(lower, self.xmin), min(upper, self.xmax)
        estimate = min(max(estimate, self.xmin), self.xmax)
        h = DIAMOND_HALF_HEIGHT
        points = [(lower, y), (estimate, y - h), (upper, y), (estimate, y + h)]
        self.plot.add_patch(Polygon(points, closed=True, facecolor=SUMMARY_COLOUR, edgecolor=SUMMARY_COLOUR,
                                    lw=0.8, clip_on=False, zorder=4, gid=gid))

    def prediction_interval(self, y: float, lower: float, upper: float) -> None:
        """metafor's addpred: a line through the diamond from one end of the prediction interval to the other."""
        a, b = max(lower, self.xmin), min(upper, self.xmax)
        h = DIAMOND_HALF_HEIGHT * 0.6
        # End marks only where the interval really ends; an end beyond the axis gets an arrow head instead.
        xs, ys = [a, b], [y, y]
        if lower >= self.xmin:
            xs, ys = [a, a, a] + xs, [y - h, y + h, y] + ys
        if upper <= self.xmax:
            xs, ys = xs + [b, b], ys + [y - h, y + h]
        self.plot.plot(xs, ys, color=PREDICTION_COLOUR, lw=1.3, clip_on=False, zorder=3, gid="prediction-interval")
        self._arrows(y, lower, upper, PREDICTION_COLOUR)

    def _arrows(self, y: float, lower: float, upper: float, colour: str) -> None:
        """Arrow heads at the axis ends that an interval runs past."""
        if lower < self.xmin:
            self.plot.plot([self.xmin], [y], marker="<", ms=5, color=colour, clip_on=False, zorder=5,
                           gid="clipped-interval")
        if upper > self.xmax:
            self.plot.plot([self.xmax], [y], marker=">", ms=5, color=colour, clip_on=False, zorder=5,
                           gid="clipped-interval")

    def reference_lines(self, references: Sequence[tuple[float, str]], scale: float, bottom: float, digits: int,
                        colours: Sequence[str] = REFERENCE_COLOURS) -> None:
        """Dashed vertical lines, each labelled in its own row above the column headers."""
        middle = (self.xmin + self.xmax) / 2
        for i, (value, label) in enumerate(references):
            x = value * scale
            colour = colours[i % len(colours)]
            top = i + 0.5
            text = _reference_text(label, x, digits)
            if self.xmin <= x <= self.xmax:
                self.plot.plot([x, x], [top + 0.3, bottom], ls=(0, (4, 2.5)), lw=1.0, color=colour, clip_on=False,
                               zorder=1, gid=f"reference-line-{i + 1}")
            else:  # only with an explicit xlim: say so rather than draw a line outside the axis
                text += " (beyond the axis)"
                x = min(max(x, self.xmin), self.xmax)
            on_left = x <= middle
            # the label runs from its line towards the far side, over the table there (its rows are empty)
            share = (self.xmax - x if on_left else x - self.xmin) / (self.xmax - self.xmin)
            room = share * self.inches(self.plot) + self.GAP + self.inches(self.right if on_left else self.left)
            self.plot.text(x + (1 if on_left else -1) * 0.012 * (self.xmax - self.xmin), top,
                           "\n".join(_fit_reference(text, self.col.chars(room - 0.05, self.small))),
                           ha="left" if on_left else "right", va="center", linespacing=1.0,
                           fontsize=self.small, color=colour, parse_math=False, gid=f"reference-label-{i + 1}",
                           zorder=5, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})



def reference_pairs(reference_lines: Iterable[Any]) -> list[tuple[float, str]]:
    out = []
    for item in reference_lines or ():
        if isinstance(item, dict):
            value, label = item["value"], item.get("label", "")
        else:
            value, label = item
        out.append((float(value), str(label)))
    return out


def _reference_text(label: str, value: float, digits: int) -> str:
    """The label with its value, unless the caller already wrote the value into the label ("...: 21.5 y")."""
    if not label:
        return fixed(value, digits)
    for written in {fixed(value, digits), f"{value:g}"}:
        if re.search(r"(?<![\d.])" + re.escape(written) + r"(?![\d])", label):
            return label
    return f"{label}: {fixed(value, digits)}"


def _fit_reference(text: str, chars: int = 50, max_lines: int = 2) -> list[str]:
    """At most two lines of a reference label; a long one loses its middle, so the value at its end stays."""
    # the end (with the value, "...: 21.5 y") is kept whole, and as much of the start as fits before it
    tail = text[-min(18, max(10, chars // 2)):] if len(text) > chars * max_lines else ""
    head = text[: len(text) - len(tail)]
    keep = len(head)
    while keep > 0 and len(wrap(head[:keep].rstrip() + (" …" if keep < len(head) else "") + tail, chars,
                                max_lines + 1)) > max_lines:
        keep -= 1
    return wrap(head[:keep].rstrip() + (" …" if keep < len(head) else "") + tail, chars, max_lines)


def nice_range(values: Iterable[float | None]) -> tuple[float, float]:
    """Axis limits at round tick values that enclose every value (means: years, mg, ...)."""
    from matplotlib.ticker import MaxNLocator

    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return float(min(ticks[0], lo)), float(max(ticks[-1], hi))


def wrap(text: object, chars: int, max_lines: int) -> list[str]:
    """Wrap at word boundaries; cut the last line with an ellipsis when the text does not fit."""
    text = " ".join(str(text).split())
    lines = textwrap.wrap(text, chars, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last if len(last) < chars else last[: chars - 1].rstrip()) + "…"
    return lines
