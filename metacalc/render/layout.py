"""The table layout shared by the forest plots and the time-to-onset figure: a table of labels on the left, the
intervals in the middle, values on the right, all sharing one row scale (rows are the y unit), so that every
column lines up by construction. Sizes are in inches, so that a figure grows with its rows and text keeps its
size. Text is drawn with ``parse_math=False``: a label containing ``$`` must not turn into mathtext.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from metacalc.render.style import PALETTE
from metacalc.review.words import fixed

ROW_HEIGHT = 0.27  # inches per table row: 9 pt text with room for two 7.5 pt lines of a wrapped label
FONT_SIZE = 9
SMALL_FONT_SIZE = 7.5
TITLE_FONT_SIZE = 11
MARKER_MAX_SIDE = 11.0  # points; the heaviest study's square
MARKER_MIN_SIDE = 3.0  # points; light studies must stay visible
MARKER_EQUAL_SIDE = 7.0  # points; used when weights are all equal or unknown
DIAMOND_HALF_HEIGHT = 0.34  # rows
FOOTER_CHARS = 125  # characters per line of the method text at the foot

STUDY_COLOUR = PALETTE["blue"]
SUMMARY_COLOUR = PALETTE["black"]
PREDICTION_COLOUR = PALETTE["vermillion"]
# Reference lines cycle through colours that stay apart from the blue markers and the vermillion interval.
REFERENCE_COLOURS = (PALETTE["orange"], PALETTE["green"], PALETTE["purple"], PALETTE["sky_blue"], PALETTE["grey"])


class TableLayout:
    """Three axes side by side sharing one row scale: table (left), intervals (middle), table (right).

    Rows are numbered from the top in data units (row r spans r..r+1), so every column lines up by
    construction. Sizes are in inches so that a figure grows with its rows and text keeps its size.
    """

    MARGIN = 0.15
    GAP = 0.15  # between the tables and the interval axes, so that a marker at 0 or 1 does not touch a number
    TOP = 0.55
    AXIS = 0.55  # tick labels and x label under the interval axes
    FOOTER_LINE = 0.14

    def __init__(self, n_rows: float, left_width: float, plot_width: float, right_width: float, title: str,
                 footer: str) -> None:
        from matplotlib.figure import Figure

        self.footer_lines = wrap(footer, FOOTER_CHARS, max_lines=12) if footer else []
        bottom = self.AXIS + self.FOOTER_LINE * len(self.footer_lines) + 0.1
        height = n_rows * ROW_HEIGHT
        width = left_width + plot_width + right_width + 2 * self.MARGIN + 2 * self.GAP
        total_height = height + self.TOP + bottom
        self.figure = Figure(figsize=(width, total_height))
        self.n_rows = n_rows

        def box(x0: float, w: float) -> tuple[float, float, float, float]:
            return (x0 / width, bottom / total_height, w / width, height / total_height)

        self.left = self.figure.add_axes(box(self.MARGIN, left_width))
        self.plot = self.figure.add_axes(box(self.MARGIN + left_width + self.GAP, plot_width))
        self.right = self.figure.add_axes(box(self.MARGIN + left_width + plot_width + 2 * self.GAP, right_width))
        for ax in (self.left, self.right):
            ax.set_xlim(0, 1)
            ax.axis("off")
        for ax in (self.left, self.plot, self.right):
            ax.set_ylim(n_rows, 0)
        self.plot.set_yticks([])
        for side in ("top", "left", "right"):
            self.plot.spines[side].set_visible(False)
        self.plot.patch.set_visible(False)
        self._x_fraction = (self.MARGIN / width, 1 - self.MARGIN / width)
        if title:
            self.text(
                self.left,
                0.0,
                -0.25,  # just above the first row (rows are the y unit)
                "\n".join(wrap(title, 95, max_lines=3)),
                fontsize=TITLE_FONT_SIZE,
                weight="bold",
                va="bottom",
            )
        if self.footer_lines:
            from matplotlib.transforms import offset_copy

            self.left.text(
                0.0,
                0.0,
                "\n".join(self.footer_lines),
                transform=offset_copy(self.left.transAxes, fig=self.figure, y=-self.AXIS, units="inches"),
                fontsize=SMALL_FONT_SIZE,
                color="#333333",
                ha="left",
                va="top",
                parse_math=False,
                gid="method-text",
            )

    # Text ------------------------------------------------------------------------------------------------
    def text(self, ax: Any, x: float, y: float, text: str, ha: str = "left", weight: str = "normal",
             fontsize: float = FONT_SIZE, va: str = "center", style: str = "normal", colour: str = "black",
             gid: str | None = None) -> Any:
        return ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, fontweight=weight, fontstyle=style,
                       color=colour, parse_math=False, gid=gid)

    def label(self, ax: Any, x: float, y: float, text: str, chars: int, fontsize: float = FONT_SIZE,
              colour: str = "black") -> Any:
        """A label that fits its column: one line, or two smaller lines, the second ending in an ellipsis."""
        lines = wrap(text, chars, max_lines=2)
        if len(lines) == 1:
            return self.text(ax, x, y, lines[0], fontsize=fontsize, colour=colour)
        return ax.text(x, y, "\n".join(lines), ha="left", va="center", fontsize=min(fontsize, SMALL_FONT_SIZE),
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
        self.plot.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        if percent:
            self.plot.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
        self.plot.tick_params(axis="x", labelsize=FONT_SIZE - 1, length=3)
        self.plot.set_xlabel(xlabel, fontsize=FONT_SIZE, parse_math=False)

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
            self.plot.text(x + (1 if on_left else -1) * 0.012 * (self.xmax - self.xmin), top,
                           "\n".join(_fit_reference(text)),
                           ha="left" if on_left else "right", va="center", linespacing=1.0,
                           fontsize=SMALL_FONT_SIZE, color=colour, parse_math=False, gid=f"reference-label-{i + 1}",
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
    if len(text) > chars * max_lines:
        tail = text[-18:]
        text = text[: chars * max_lines - len(tail) - 3].rstrip() + " … " + tail
    return wrap(text, chars, max_lines)


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
