"""Forest plots: one analysis per figure (a row per study) and an overview (a row per therapy or drug class).

The inputs are the JSON form of the pooled results (``ProportionResult.to_dict()`` and its equivalent for
means), so a figure can be redrawn from ``reports/tables/*.json`` without refitting, and this module needs no
statistics imports. The layout follows RevMan 5 and metafor's ``forest()``: a table of the data on the left,
the intervals in the middle, estimate [CI] and weight on the right, the summary diamond and the heterogeneity
statistics under the studies, the method in words at the foot.

Text is drawn with ``parse_math=False`` everywhere: a study label containing ``$`` must not turn into
mathtext, and with ``svg.fonttype = none`` matplotlib writes (and XML-escapes) the label as text.
"""

from __future__ import annotations

import math
import re
import textwrap

from metacalc.plots import PALETTE, use_reproducible_backend

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

MEASURE_NAMES = {
    "PLO": "logit",
    "PR": "raw proportion",
    "PAS": "arcsine square-root",
    "PFT": "Freeman-Tukey double arcsine",
    "MN": "raw mean",
}
TAU2_NAMES = {
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum likelihood",
    "ML": "maximum likelihood",
    "PM": "Paule-Mandel",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
}


# --------------------------------------------------------------------------------------------- public API


def forest_plot(
    result,
    title,
    xlabel=None,
    reference_lines=(),
    show_weights=True,
    *,
    percent=False,
    xlim=None,
    digits=None,
    max_rows=None,
):
    """A forest plot of one pooled analysis (a row per study), returned as a matplotlib ``Figure``.

    ``result`` is a result dict (``to_dict()`` JSON form) of a pooled proportion or a pooled mean
    (``measure == "MN"``). ``reference_lines`` holds ``(value, label)`` pairs or ``{"value", "label"}`` dicts,
    on the scale of the estimates. Proportions are drawn on 0-1 (0-100 % with ``percent=True``); means on the
    range of the data and reference lines unless ``xlim`` is given, in which case intervals that leave the
    axis end in an arrow. ``digits`` defaults to 2 for proportions and 1 for percentages and means.
    ``max_rows`` draws only the first that many studies (in the order given) and says how many are not shown;
    the summary, totals and heterogeneity still cover every study (for reviews with hundreds of reports).
    """
    studies = list(result.get("studies") or [])
    if not studies:
        raise ValueError(f"forest plot {title!r}: the result has no studies (k = 0), so there is nothing to plot")
    use_reproducible_backend()
    means = _is_mean_result(result)
    scale = 100.0 if (percent and not means) else 1.0
    if digits is None:
        digits = 1 if (means or percent) else 2
    references = _reference_lines(reference_lines)
    pooled = _interval(result, scale)
    prediction = _prediction(result, scale)
    study_intervals = [_interval(study, scale) for study in studies]
    sides = _marker_sides([study.get("weight") for study in studies])  # over all studies, shown or not
    hidden = 0
    if max_rows is not None and len(studies) > max_rows:
        hidden = len(studies) - max(int(max_rows), 1)

    if xlim is not None:
        xmin, xmax = float(xlim[0]), float(xlim[1])
    elif means:
        xmin, xmax = _nice_range(
            [v for iv in study_intervals + [pooled, prediction] if iv for v in iv if v is not None]
            + [value for value, _ in references]
        )
    else:
        xmin, xmax = 0.0, scale
    for value, label in references:
        if not means and not 0.0 <= value <= 1.0:
            raise ValueError(f"forest plot {title!r}: reference line {label!r} at {value} is not a proportion")

    header_row = len(references)
    first_study_row = header_row + 1
    shown_rows = len(studies) - hidden + (1 if hidden else 0)  # one row says how many are not shown
    summary_row = first_study_row + shown_rows + 0.5
    prediction_row = summary_row + 1 if prediction else None
    n_rows = (prediction_row or summary_row) + 0.7

    left_columns = _left_columns(means)
    estimate_x = 0.70 if show_weights else 0.98  # right edge of the estimate [CI] column
    layout = _TableLayout(
        n_rows,
        left_width=3.7,
        plot_width=3.3,
        right_width=2.35 if show_weights else 1.7,
        title=title,
        footer=_method_text(result),
    )
    layout.format_x_axis(xmin, xmax, xlabel or _default_xlabel(result, means, percent), percent and not means)

    # Column headers and rules.
    for x, text, ha in left_columns:
        layout.text(layout.left, x, header_row + 0.5, text, ha=ha, weight="bold")
    layout.text(layout.right, estimate_x, header_row + 0.5, _estimate_header(means, scale, result), ha="right",
                weight="bold")
    if show_weights:
        layout.text(layout.right, 0.98, header_row + 0.5, "Weight", ha="right", weight="bold")
    layout.rule(header_row + 1)

    # Study rows.
    label_chars = 26 if means else 31
    shown = len(studies) - hidden
    for i, (study, interval, side) in enumerate(zip(studies[:shown], study_intervals, sides)):
        y = first_study_row + i + 0.5
        layout.label(layout.left, 0.0, y, study.get("label") or f"Study {i + 1}", label_chars)
        for (x, _, ha), value in zip(left_columns[1:], _study_data_cells(study, means)):
            layout.text(layout.left, x, y, value, ha=ha)
        layout.text(layout.right, estimate_x, y, _estimate_text(interval, digits), ha="right")
        if show_weights:
            layout.text(layout.right, 0.98, y, _weight_text(study.get("weight")), ha="right")
        if interval is not None:
            layout.whisker(y, interval[1], interval[2], colour=SUMMARY_COLOUR)
            layout.marker(interval[0], y, side, gid=f"study-marker-{i + 1}")

    if hidden:
        weights = [study.get("weight") for study in studies[shown:]]
        note = f"… {hidden} more {'study' if hidden == 1 else 'studies'} not shown"
        if all(w is not None for w in weights):
            note += f" ({sum(weights):.1f}% of the weight)"
        layout.text(layout.left, 0.0, first_study_row + shown + 0.5, note, style="italic", colour="#444444",
                    gid="studies-not-shown")

    # Summary diamond, prediction interval, heterogeneity.
    layout.text(layout.left, 0.0, summary_row, _summary_label(result), weight="bold")
    for (x, _, ha), value in zip(left_columns[1:], _summary_data_cells(studies, means)):
        layout.text(layout.left, x, summary_row, value, ha=ha, weight="bold")
    layout.text(layout.right, estimate_x, summary_row, _estimate_text(pooled, digits), ha="right", weight="bold")
    if show_weights and any(study.get("weight") is not None for study in studies):
        layout.text(layout.right, 0.98, summary_row, "100%", ha="right", weight="bold")
    if prediction:
        layout.prediction_interval(summary_row, prediction[1], prediction[2])
        layout.text(layout.left, 0.0, prediction_row, "Prediction interval", style="italic")
        layout.text(
            layout.right,
            estimate_x,
            prediction_row,
            f"[{_number(prediction[1], digits)}, {_number(prediction[2], digits)}]",
            ha="right",
            style="italic",
        )
    if pooled is not None:
        layout.diamond(summary_row, pooled)
    # Under the table, level with the x axis ticks (as in RevMan).
    layout.text(layout.left, 0.0, n_rows + 0.25, "\n".join(_heterogeneity_text(result)),
                fontsize=SMALL_FONT_SIZE, va="top", gid="heterogeneity")

    layout.reference_lines(references, scale, bottom=(prediction_row or summary_row) + 0.5, digits=digits)
    return layout.figure


def overview_plot(rows, title, xlabel="Proportion responding", *, reference_lines=(), percent=False, digits=None,
                  label_header="Therapy"):
    """One row per therapy (or drug class): ``rows`` is a list of ``{"label", "result"}`` with result dicts.

    Each row shows the number of studies, events/total (or n for means), the pooled estimate with its
    interval as a diamond (a square when the row rests on one study) and the method in small text.
    """
    rows = list(rows)
    if not rows:
        raise ValueError(f"overview plot {title!r}: no rows (therapies) to plot")
    use_reproducible_backend()
    results = [row["result"] for row in rows]
    means = all(_is_mean_result(result) for result in results)
    if not means and any(_is_mean_result(result) for result in results):
        raise ValueError(f"overview plot {title!r}: mixes proportions and means on one axis")
    scale = 100.0 if (percent and not means) else 1.0
    if digits is None:
        digits = 1 if (means or percent) else 2
    references = _reference_lines(reference_lines)
    intervals = [_interval(result, scale) for result in results]
    if means:
        xmin, xmax = _nice_range(
            [v for iv in intervals if iv for v in iv if v is not None] + [value for value, _ in references]
        )
    else:
        xmin, xmax = 0.0, scale

    header_row = len(references)
    first_row = header_row + 1
    n_rows = first_row + len(rows) + 0.4
    layout = _TableLayout(n_rows, left_width=4.0, plot_width=3.1, right_width=3.3, title=title, footer="")
    layout.format_x_axis(xmin, xmax, xlabel, percent and not means)
    layout.text(layout.left, 0.0, header_row + 0.5, label_header, weight="bold")
    layout.text(layout.left, 0.68, header_row + 0.5, "Studies", ha="right", weight="bold")
    layout.text(layout.left, 0.98, header_row + 0.5, "Patients" if means else "Events / total", ha="right",
                weight="bold")
    layout.text(layout.right, 0.50, header_row + 0.5, _estimate_header(means, scale, results[0]), ha="right",
                weight="bold")
    layout.text(layout.right, 0.55, header_row + 0.5, "Method", weight="bold")
    layout.rule(header_row + 1)

    for i, (row, result, interval) in enumerate(zip(rows, results, intervals)):
        y = first_row + i + 0.5
        studies = list(result.get("studies") or [])
        layout.label(layout.left, 0.0, y, row.get("label") or f"Row {i + 1}", 28)
        layout.text(layout.left, 0.68, y, str(result.get("k", len(studies))), ha="right")
        cells = _summary_data_cells(studies, means)
        layout.text(layout.left, 0.98, y, cells[0] if means else f"{cells[0]} / {cells[1]}", ha="right")
        layout.text(layout.right, 0.50, y, _estimate_text(interval, digits), ha="right")
        layout.label(layout.right, 0.55, y, _short_method(result), 28, fontsize=SMALL_FONT_SIZE, colour="#444444")
        if interval is None:
            continue
        if len(studies) > 1:
            layout.diamond(y, interval, gid=f"overview-row-{i + 1}")
        else:
            layout.whisker(y, interval[1], interval[2], colour=SUMMARY_COLOUR)
            layout.marker(interval[0], y, MARKER_EQUAL_SIDE, gid=f"overview-row-{i + 1}", colour=SUMMARY_COLOUR)
    layout.reference_lines(references, scale, bottom=n_rows, digits=digits)
    return layout.figure


# ------------------------------------------------------------------------------------------------- layout


class _TableLayout:
    """Three axes side by side sharing one row scale: table (left), intervals (middle), table (right).

    Rows are numbered from the top in data units (row r spans r..r+1), so every column lines up by
    construction. Sizes are in inches so that a figure grows with its rows and text keeps its size.
    """

    MARGIN = 0.15
    GAP = 0.15  # between the tables and the interval axes, so that a marker at 0 or 1 does not touch a number
    TOP = 0.55
    AXIS = 0.55  # tick labels and x label under the interval axes
    FOOTER_LINE = 0.14

    def __init__(self, n_rows, left_width, plot_width, right_width, title, footer):
        from matplotlib.figure import Figure

        self.footer_lines = _wrap(footer, FOOTER_CHARS, max_lines=12) if footer else []
        bottom = self.AXIS + self.FOOTER_LINE * len(self.footer_lines) + 0.1
        height = n_rows * ROW_HEIGHT
        width = left_width + plot_width + right_width + 2 * self.MARGIN + 2 * self.GAP
        total_height = height + self.TOP + bottom
        self.figure = Figure(figsize=(width, total_height))
        self.n_rows = n_rows

        def box(x0, w):
            return [x0 / width, bottom / total_height, w / width, height / total_height]

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
                "\n".join(_wrap(title, 95, max_lines=3)),
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
    def text(self, ax, x, y, text, ha="left", weight="normal", fontsize=FONT_SIZE, va="center", style="normal",
             colour="black", gid=None):
        return ax.text(x, y, text, ha=ha, va=va, fontsize=fontsize, fontweight=weight, fontstyle=style,
                       color=colour, parse_math=False, gid=gid)

    def label(self, ax, x, y, text, chars, fontsize=FONT_SIZE, colour="black"):
        """A label that fits its column: one line, or two smaller lines, the second ending in an ellipsis."""
        lines = _wrap(text, chars, max_lines=2)
        if len(lines) == 1:
            return self.text(ax, x, y, lines[0], fontsize=fontsize, colour=colour)
        return ax.text(x, y, "\n".join(lines), ha="left", va="center", fontsize=min(fontsize, SMALL_FONT_SIZE),
                       linespacing=1.0, color=colour, parse_math=False)

    def rule(self, y):
        from matplotlib.lines import Line2D
        from matplotlib.transforms import blended_transform_factory

        transform = blended_transform_factory(self.figure.transFigure, self.left.transData)
        self.figure.add_artist(Line2D(list(self._x_fraction), [y, y], transform=transform, color="black", lw=0.6))

    # Axis ------------------------------------------------------------------------------------------------
    def format_x_axis(self, xmin, xmax, xlabel, percent):
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        self.xmin, self.xmax = xmin, xmax
        self.plot.set_xlim(xmin, xmax)
        self.plot.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        if percent:
            self.plot.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
        self.plot.tick_params(axis="x", labelsize=FONT_SIZE - 1, length=3)
        self.plot.set_xlabel(xlabel, fontsize=FONT_SIZE, parse_math=False)

    # Marks -----------------------------------------------------------------------------------------------
    def whisker(self, y, lower, upper, colour):
        """A confidence interval; the part outside the axis is cut off and replaced by an arrow head."""
        if lower is None or upper is None:
            return
        a, b = max(lower, self.xmin), min(upper, self.xmax)
        if a <= b:
            self.plot.plot([a, b], [y, y], color=colour, lw=1.0, solid_capstyle="butt", clip_on=False, zorder=2)
        self._arrows(y, lower, upper, colour)

    def marker(self, x, y, side, gid, colour=STUDY_COLOUR):
        if x is None or not (self.xmin <= x <= self.xmax):
            return  # the arrow head drawn by whisker() says where it went
        self.plot.plot([x], [y], marker="s", ms=side, color=colour, mec=colour, ls="none", clip_on=False,
                       zorder=3, gid=gid)

    def diamond(self, y, interval, gid="summary-diamond"):
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

    def prediction_interval(self, y, lower, upper):
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

    def _arrows(self, y, lower, upper, colour):
        """Arrow heads at the axis ends that an interval runs past."""
        if lower < self.xmin:
            self.plot.plot([self.xmin], [y], marker="<", ms=5, color=colour, clip_on=False, zorder=5,
                           gid="clipped-interval")
        if upper > self.xmax:
            self.plot.plot([self.xmax], [y], marker=">", ms=5, color=colour, clip_on=False, zorder=5,
                           gid="clipped-interval")

    def reference_lines(self, references, scale, bottom, digits, colours=REFERENCE_COLOURS):
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


# -------------------------------------------------------------------------------------------- formatting


def _is_mean_result(result):
    if result.get("measure") == "MN":
        return True
    studies = result.get("studies") or []
    return bool(studies) and "mean" in studies[0] and "events" not in studies[0]


def _interval(record, scale):
    """(estimate, lower, upper) on the plotting scale, or None when there is no estimate."""
    estimate = record.get("estimate")
    if estimate is None or not math.isfinite(estimate):
        return None

    def scaled(value):
        return None if value is None or not math.isfinite(value) else value * scale

    return (estimate * scale, scaled(record.get("ci_lower")), scaled(record.get("ci_upper")))


def _prediction(result, scale):
    lower, upper = result.get("pi_lower"), result.get("pi_upper")
    estimate = result.get("estimate")
    if any(value is None or not math.isfinite(value) for value in (lower, upper, estimate)):
        return None
    return (estimate * scale, lower * scale, upper * scale)


def _reference_lines(reference_lines):
    out = []
    for item in reference_lines or ():
        if isinstance(item, dict):
            value, label = item["value"], item.get("label", "")
        else:
            value, label = item
        out.append((float(value), str(label)))
    return out


def _reference_text(label, value, digits):
    """The label with its value, unless the caller already wrote the value into the label ("...: 21.5 y")."""
    if not label:
        return _number(value, digits)
    for written in {_number(value, digits), f"{value:g}"}:
        if re.search(r"(?<![\d.])" + re.escape(written) + r"(?![\d])", label):
            return label
    return f"{label}: {_number(value, digits)}"


def _fit_reference(text, chars=50, max_lines=2):
    """At most two lines of a reference label; a long one loses its middle, so the value at its end stays."""
    if len(text) > chars * max_lines:
        tail = text[-18:]
        text = text[: chars * max_lines - len(tail) - 3].rstrip() + " … " + tail
    return _wrap(text, chars, max_lines)


def _nice_range(values):
    """Axis limits at round tick values that enclose every value (means: years, mg, ...)."""
    from matplotlib.ticker import MaxNLocator

    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    return float(min(ticks[0], lo)), float(max(ticks[-1], hi))


def _number(value, digits):
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"


def _estimate_text(interval, digits):
    if interval is None:
        return "not estimable"
    estimate, lower, upper = interval
    if lower is None or upper is None:
        return _number(estimate, digits)
    return f"{_number(estimate, digits)} [{_number(lower, digits)}, {_number(upper, digits)}]"


def _weight_text(weight):
    return "–" if weight is None else f"{weight:.1f}%"


def _estimate_header(means, scale, result):
    name = "Mean" if means else ("Percent" if scale == 100 else "Proportion")
    return f"{name} [{_level(result)}% CI]"


def _level(result):
    level = result.get("level") or 0.95
    return f"{level * 100:g}"


def _left_columns(means):
    """(x, header, alignment) of the left table's columns; the first is the study label."""
    if means:
        return [(0.0, "Study", "left"), (0.70, "N", "right"), (0.98, "Mean (SD)", "right")]
    return [(0.0, "Study", "left"), (0.80, "Events", "right"), (0.98, "Total", "right")]


def _study_data_cells(study, means):
    if means:
        mean, sd = study.get("mean"), study.get("sd")
        text = "–" if mean is None else (f"{mean:.1f}" + ("" if sd is None else f" ({sd:.1f})"))
        return [_count(study.get("n")), text]
    return [_count(study.get("events")), _count(study.get("total"))]


def _summary_data_cells(studies, means):
    def total(key):
        values = [study.get(key) for study in studies]
        return "–" if any(v is None for v in values) else _count(sum(values))

    return [total("n"), ""] if means else [total("events"), total("total")]


def _count(value):
    """Counts are integers; an n estimated for a series may not be, and is then shown as it is."""
    if value is None:
        return "–"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _summary_label(result):
    method = result.get("method")
    if method == "exact":
        return "Total (pooled count)"
    if result.get("k") == 1:
        return "Summary (one study)"
    if method == "glmm":
        return "Random-effects model (GLMM)"
    if _common_effect(result):
        return "Common-effect model"
    return "Random-effects model"


def _common_effect(result):
    return (result.get("tau2_method") or "").upper() in ("FE", "EE", "CE")


def _heterogeneity_text(result):
    """Lines of text with only the statistics that exist for this method; a pooled count has none by design."""
    if result.get("method") == "exact":
        return ["Heterogeneity: not estimated (pooled count, exact CI)"]
    if (result.get("k") or 0) < 2:
        return ["Heterogeneity: not applicable (one study)"]
    parts = []
    if result.get("tau2") is not None:
        parts.append(f"τ² = {_significant(result['tau2'])}")
    if result.get("i2") is not None:
        parts.append(f"I² = {result['i2']:.0f}%")
    if result.get("q") is not None:
        q = f"Q = {result['q']:.2f}"
        if result.get("q_df") is not None:
            q += f" (df = {result['q_df']})"
        if result.get("q_pvalue") is not None:
            q += f", {_pvalue(result['q_pvalue'])}"
        parts.append(q)
    if not parts:
        return ["Heterogeneity: not reported"]
    # One statistic is never split over two lines; the text must stay within the left table's width.
    lines = ["Heterogeneity: " + parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) + 2 <= 68:
            lines[-1] += "; " + part
        else:
            lines[-1] += ";"
            lines.append(part)
    return lines


def _significant(value):
    if value == 0:
        return "0"
    return f"{value:.2g}" if abs(value) < 0.01 else f"{value:.3f}".rstrip("0").rstrip(".")


def _pvalue(p):
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _method_text(result):
    """The method in words at the foot of the figure, with the reason it was chosen and any warning."""
    level = _level(result)
    method, measure, tau2 = result.get("method"), result.get("measure"), result.get("tau2_method")
    tau2_name = TAU2_NAMES.get((tau2 or "").upper(), tau2)
    if method == "exact":
        text = f"Method: pooled count (events / total over all patients) with an exact {level}% confidence interval."
    elif method == "glmm":
        text = (
            "Method: binomial-normal generalised linear mixed model (random-intercept logistic regression, "
            f"maximum likelihood); {level}% confidence interval."
        )
    else:
        scale = MEASURE_NAMES.get(measure, measure or "unknown")
        if _common_effect(result):
            text = f"Method: inverse-variance common-effect model on the {scale} scale"
        else:
            text = f"Method: inverse-variance random-effects model on the {scale} scale"
            text += f"; τ² by {tau2_name}" if tau2_name else ""
        if result.get("test") in ("knha", "t"):
            text += "; Hartung-Knapp adjustment (t distribution)"
        text += f"; {level}% confidence interval."
    if result.get("pi_lower") is not None and result.get("pi_upper") is not None:
        text += f" The line with end marks through the diamond is the {level}% prediction interval."
    if result.get("reason"):
        text += " Why this method: " + result["reason"].strip()
        text += "" if text.endswith(".") else "."
    for warning in result.get("warnings") or ():
        text += " Note: " + str(warning).strip()
        text += "" if text.endswith(".") else "."
    return text


def _short_method(result):
    """The method in a few words, for the overview's method column."""
    method = result.get("method")
    if method == "exact":
        return "pooled count, exact CI"
    if method == "glmm":
        return "GLMM (ML)"
    parts = ["IV", MEASURE_NAMES.get(result.get("measure"), result.get("measure") or "")]
    if result.get("tau2_method"):
        parts.append(result["tau2_method"])
    return ", ".join(p for p in parts if p)


def _default_xlabel(result, means, percent):
    if means:
        return "Mean"
    return "Percent responding" if percent else "Proportion responding"


def _marker_sides(weights):
    """Square side in points, so that the area is proportional to the weight (equal when weights are unknown)."""
    known = [w for w in weights if w is not None and math.isfinite(w) and w > 0]
    if not known or max(known) == min(known) and len(known) == len(weights):
        return [MARKER_EQUAL_SIDE] * len(weights)
    heaviest = max(known)
    return [
        max(MARKER_MIN_SIDE, MARKER_MAX_SIDE * math.sqrt(w / heaviest))
        if w is not None and math.isfinite(w) and w > 0
        else MARKER_MIN_SIDE
        for w in weights
    ]


def _wrap(text, chars, max_lines):
    """Wrap at word boundaries; cut the last line with an ellipsis when the text does not fit."""
    text = " ".join(str(text).split())
    lines = textwrap.wrap(text, chars, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last if len(last) < chars else last[: chars - 1].rstrip()) + "…"
    return lines
