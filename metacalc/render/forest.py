"""Forest plots: one analysis per figure (a row per study) and an overview (a row per therapy or drug class).

The inputs are pooled estimates as the results hold them (``PooledEstimate``: the core's result JSON with
its kind), so a figure is redrawn from results.json without refitting, and this module needs no statistics
imports. The layout follows RevMan 5 and metafor's ``forest()``: a table of the data on the left, the
intervals in the middle, estimate [CI] and weight on the right, the summary diamond and the heterogeneity
statistics under the studies, the method in words at the foot.

Text is drawn with ``parse_math=False`` everywhere: a study label containing ``$`` must not turn into
mathtext, and with ``svg.fonttype = none`` matplotlib writes (and XML-escapes) the label as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from metacalc.render.layout import (
    MARKER_EQUAL_SIDE,
    MARKER_MAX_SIDE,
    MARKER_MIN_SIDE,
    SUMMARY_COLOUR,
    TableLayout,
    nice_range,
    reference_pairs,
)
from metacalc.render.style import DEFAULT_COLUMN, Column, column, use_reproducible_backend
from metacalc.review.results import PooledEstimate
from metacalc.review.words import SCALE_NAMES, TAU2_NAMES, count, fixed, p_value, significant

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Result = Mapping[str, Any]  # the core's result JSON, as PooledEstimate.fields holds it
ReferenceLines = Sequence[Any]  # (value, label) pairs or {"value", "label"} dicts


# --------------------------------------------------------------------------------------------- public API


def forest_plot(
    estimate: PooledEstimate,
    title: str,
    xlabel: str | None = None,
    reference_lines: ReferenceLines = (),
    show_weights: bool = True,
    *,
    percent: bool = False,
    xlim: tuple[float, float] | None = None,
    digits: int | None = None,
    max_rows: int | None = None,
    method_text: bool = True,
    width: str | Column = DEFAULT_COLUMN,
) -> Figure:
    """A forest plot of one pooled analysis (a row per study), returned as a matplotlib ``Figure``.

    ``estimate`` is a pooled proportion or a pooled mean, as the results hold it. ``reference_lines`` holds ``(value, label)`` pairs or ``{"value", "label"}`` dicts,
    on the scale of the estimates. Proportions are drawn on 0-1 (0-100 % with ``percent=True``); means on the
    range of the data and reference lines unless ``xlim`` is given, in which case intervals that leave the
    axis end in an arrow. ``digits`` defaults to 2 for proportions and 1 for percentages and means.
    ``max_rows`` draws only the first that many studies (in the order given) and says how many are not shown;
    the summary, totals and heterogeneity still cover every study (for reviews with hundreds of reports).
    ``method_text=False`` leaves the method paragraph out of the figure (the report prints it in the legend:
    ``method_legend``), and an empty ``title`` draws no title. ``width`` is the journal column the figure is
    drawn for (``metacalc.render.style.COLUMNS``); in one column (single) the table keeps the study, events/total
    (or N) and the estimate, and the weight is shown by the squares' area alone.
    """
    result = estimate.fields
    studies = list(result.get("studies") or [])
    if not studies:
        raise ValueError(f"forest plot {title!r}: the result has no studies (k = 0), so there is nothing to plot")
    use_reproducible_backend()
    means = estimate.is_mean
    scale = 100.0 if (percent and not means) else 1.0
    if digits is None:
        digits = 1 if (means or percent) else 2
    references = reference_pairs(reference_lines)
    pooled = _interval(result, scale)
    prediction = _prediction(result, scale)
    study_intervals = [_interval(study, scale) for study in studies]
    # counts that are only lower bounds have a one-sided lower limit and no upper limit
    bounded = set(result.get("lower_bound_studies") or ())
    study_bounds = [study.get("label") in bounded for study in studies]
    sides = _marker_sides([study.get("weight") for study in studies])  # over all studies, shown or not
    hidden = 0
    if max_rows is not None and len(studies) > max_rows:
        hidden = len(studies) - max(int(max_rows), 1)

    if xlim is not None:
        xmin, xmax = float(xlim[0]), float(xlim[1])
    elif means:
        xmin, xmax = nice_range(
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
    prediction_row = summary_row + 1  # drawn only when there is a prediction interval
    last_row = prediction_row if prediction else summary_row
    n_rows = last_row + 0.7

    single = column(width).name == "single"
    show_weights = show_weights and not single
    left_columns = _left_columns(means, single)
    estimate_x = 0.70 if show_weights else 0.98  # right edge of the estimate [CI] column
    layout = TableLayout(
        n_rows,
        (1.4, 0.95, 1.05) if single else (3.5, 3.1, 2.6 if show_weights else 1.9),
        title=title,
        footer=method_legend(result) if method_text else "",
        width=width,
        notes=_heterogeneity_text(result, column(width).chars(column(width).width - 0.3, column(width).small_font_size)),
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

    # Study rows: the label takes the room left of the widest number of the first number column
    first_cells = [_study_data_cells(study, means, single)[0] for study in studies]
    first_cells.append(_summary_data_cells(studies, means, single)[0])
    label_span = left_columns[1][0] - _cells_span(layout, first_cells, bold=True) - 0.04
    shown = len(studies) - hidden
    for i, (study, interval, side, bound) in enumerate(zip(studies[:shown], study_intervals, sides, study_bounds)):
        y = first_study_row + i + 0.5
        layout.label(layout.left, 0.0, y, study.get("label") or f"Study {i + 1}", label_span)
        for (x, _, ha), value in zip(left_columns[1:], _study_data_cells(study, means, single)):
            layout.text(layout.left, x, y, value, ha=ha)
        layout.text(layout.right, estimate_x, y, _estimate_text(interval, digits, bound), ha="right")
        if show_weights:
            layout.text(layout.right, 0.98, y, _weight_text(study.get("weight")), ha="right")
        if interval is not None:
            layout.whisker(y, interval[1], math.inf if bound else interval[2], colour=SUMMARY_COLOUR)
            layout.marker(interval[0], y, side, gid=f"study-marker-{i + 1}")

    if hidden:
        weights = [study.get("weight") for study in studies[shown:]]
        note = f"… {hidden} more {'study' if hidden == 1 else 'studies'} not shown"
        if all(w is not None for w in weights):
            note += f" ({sum(weights):.1f}% of the weight)"
        layout.text(layout.left, 0.0, first_study_row + shown + 0.5, note, style="italic", colour="#444444",
                    gid="studies-not-shown")

    # Summary diamond, prediction interval, heterogeneity.
    layout.label(layout.left, 0.0, summary_row, _summary_label(result), label_span, weight="bold")
    for (x, _, ha), value in zip(left_columns[1:], _summary_data_cells(studies, means, single)):
        layout.text(layout.left, x, summary_row, value, ha=ha, weight="bold")
    lower_bound = bool(result.get("lower_bound"))
    layout.text(layout.right, estimate_x, summary_row, _estimate_text(pooled, digits, lower_bound), ha="right",
                weight="bold")
    if show_weights and any(study.get("weight") is not None for study in studies):
        layout.text(layout.right, 0.98, summary_row, "100%", ha="right", weight="bold")
    if prediction:
        layout.prediction_interval(summary_row, prediction[1], prediction[2])
        layout.text(layout.left, 0.0, prediction_row, "Prediction interval", style="italic")
        layout.text(
            layout.right,
            estimate_x,
            prediction_row,
            f"[{fixed(prediction[1], digits)}, {fixed(prediction[2], digits)}]",
            ha="right",
            style="italic",
        )
    if pooled is not None and lower_bound:
        # a lower bound has no upper limit, so no diamond: the estimate and a one-sided limit running off the axis
        layout.whisker(summary_row, pooled[1], math.inf, colour=SUMMARY_COLOUR)
        layout.plot.plot([pooled[0]], [summary_row], marker="D", ms=MARKER_EQUAL_SIDE, color=SUMMARY_COLOUR,
                         ls="none", clip_on=False, zorder=4, gid="summary-lower-bound")
    elif pooled is not None:
        layout.diamond(summary_row, pooled)
    layout.reference_lines(references, scale, bottom=last_row + 0.5, digits=digits)
    return layout.figure


def overview_plot(rows: Sequence[tuple[str, PooledEstimate]], title: str, xlabel: str = "Proportion responding", *,
                  reference_lines: ReferenceLines = (), percent: bool = False, digits: int | None = None,
                  label_header: str = "Therapy", width: str | Column = DEFAULT_COLUMN) -> Figure:
    """One row per therapy (or drug class): ``rows`` are (label, pooled estimate) pairs.

    Each row shows the number of studies, events/total (or n for means), the pooled estimate with its
    interval as a diamond (a square when the row rests on one study) and the method in small text. In one
    journal column (``width="single"``) the table keeps events/total and the estimate: the number of studies
    shows as diamond or square, and each method is for the legend to name.
    """
    rows = list(rows)
    if not rows:
        raise ValueError(f"overview plot {title!r}: no rows (therapies) to plot")
    use_reproducible_backend()
    results = [estimate.fields for _, estimate in rows]
    means = all(estimate.is_mean for _, estimate in rows)
    if not means and any(estimate.is_mean for _, estimate in rows):
        raise ValueError(f"overview plot {title!r}: mixes proportions and means on one axis")
    scale = 100.0 if (percent and not means) else 1.0
    if digits is None:
        digits = 1 if (means or percent) else 2
    references = reference_pairs(reference_lines)
    intervals = [_interval(result, scale) for result in results]
    if means:
        xmin, xmax = nice_range(
            [v for iv in intervals if iv for v in iv if v is not None] + [value for value, _ in references]
        )
    else:
        xmin, xmax = 0.0, scale

    header_row = len(references)
    first_row = header_row + 1
    n_rows = first_row + len(rows) + 0.4
    single = column(width).name == "single"
    layout = TableLayout(n_rows, (1.45, 0.95, 1.0) if single else (3.1, 1.4, 2.6), title=title, footer="",
                         width=width)
    layout.format_x_axis(xmin, xmax, xlabel, percent and not means)
    counts_header = "Patients" if means else ("Events/N" if single else "Events/total")
    estimate_x = 0.98 if single else 0.55  # right edge of the estimate [CI] column
    layout.text(layout.left, 0.0, header_row + 0.5, label_header, weight="bold")
    if not single:
        layout.text(layout.left, 0.60, header_row + 0.5, "Studies", ha="right", weight="bold")
    layout.text(layout.left, 0.98, header_row + 0.5, counts_header, ha="right", weight="bold")
    layout.text(layout.right, estimate_x, header_row + 0.5, _estimate_header(means, scale, results[0]), ha="right",
                weight="bold")
    if not single:
        layout.text(layout.right, 0.58, header_row + 0.5, "Method", weight="bold")
    layout.rule(header_row + 1)
    first_column = [_summary_data_cells(list(result.get("studies") or []), means)[0] for result in results]
    if not single:
        first_number = 0.60 - _cells_span(layout, [str(result.get("k", "")) for result in results])
    else:
        first_number = 0.98 - _cells_span(layout, [f"{cell} / {cell}" for cell in first_column])

    for i, ((label, _), result, interval) in enumerate(zip(rows, results, intervals)):
        y = first_row + i + 0.5
        studies = list(result.get("studies") or [])
        layout.label(layout.left, 0.0, y, label or f"Row {i + 1}", first_number - 0.03)
        if not single:
            layout.text(layout.left, 0.60, y, str(result.get("k", len(studies))), ha="right")
        cells = _summary_data_cells(studies, means)
        layout.text(layout.left, 0.98, y, cells[0] if means else f"{cells[0]} / {cells[1]}", ha="right")
        bound = bool(result.get("lower_bound"))
        layout.text(layout.right, estimate_x, y, _estimate_text(interval, digits, bound), ha="right")
        if not single:
            layout.label(layout.right, 0.58, y, _short_method(result), 0.41, fontsize=layout.small,
                         colour="#444444")
        if interval is None:
            continue
        if bound:
            layout.whisker(y, interval[1], math.inf, colour=SUMMARY_COLOUR)
            layout.marker(interval[0], y, MARKER_EQUAL_SIDE, gid=f"overview-row-{i + 1}", colour=SUMMARY_COLOUR)
        elif len(studies) > 1:
            layout.diamond(y, interval, gid=f"overview-row-{i + 1}")
        else:
            layout.whisker(y, interval[1], interval[2], colour=SUMMARY_COLOUR)
            layout.marker(interval[0], y, MARKER_EQUAL_SIDE, gid=f"overview-row-{i + 1}", colour=SUMMARY_COLOUR)
    layout.reference_lines(references, scale, bottom=n_rows, digits=digits)
    return layout.figure


# -------------------------------------------------------------------------------------------- formatting


def _interval(record, scale):
    """(estimate, lower, upper) on the plotting scale, or None when there is no estimate."""
    estimate = record.get("estimate")
    if estimate is None or not math.isfinite(estimate):
        return None

    def scaled(value: float | None) -> float | None:
        return None if value is None or not math.isfinite(value) else value * scale

    return (estimate * scale, scaled(record.get("ci_lower")), scaled(record.get("ci_upper")))


def _prediction(result, scale):
    lower, upper = result.get("pi_lower"), result.get("pi_upper")
    estimate = result.get("estimate")
    if any(value is None or not math.isfinite(value) for value in (lower, upper, estimate)):
        return None
    return (estimate * scale, lower * scale, upper * scale)


def _estimate_text(interval, digits, lower_bound=False):
    """'0.25 [0.01, 0.81]'; a lower bound with its one-sided limit '≥ 0.48 [≥ 0.29]'."""
    if interval is None:
        return "not estimable"
    estimate, lower, upper = interval
    if lower_bound:
        return f"≥ {fixed(estimate, digits)}" + ("" if lower is None else f" [≥ {fixed(lower, digits)}]")
    if lower is None or upper is None:
        return fixed(estimate, digits)
    return f"{fixed(estimate, digits)} [{fixed(lower, digits)}, {fixed(upper, digits)}]"


def _weight_text(weight):
    return "–" if weight is None else f"{weight:.1f}%"


def _estimate_header(means, scale, result):
    name = "Mean" if means else ("Percent" if scale == 100 else "Proportion")
    return f"{name} [{_level(result)}% CI]"


def _level(result):
    level = result.get("level") or 0.95
    return f"{level * 100:g}"


def _left_columns(means, single=False):
    """(x, header, alignment) of the left table's columns; the first is the study label. In one journal column
    a proportion's events and total share a column ("9/17"), and a mean's SD is left to the estimate column."""
    if means:
        if single:
            return [(0.0, "Study", "left"), (0.98, "N", "right")]
        return [(0.0, "Study", "left"), (0.66, "N", "right"), (0.98, "Mean (SD)", "right")]
    if single:
        return [(0.0, "Study", "left"), (0.98, "Events/N", "right")]
    return [(0.0, "Study", "left"), (0.78, "Events", "right"), (0.98, "Total", "right")]


def _header_span(layout, header):
    """The share of the left table a bold header takes."""
    return _cells_span(layout, [header], bold=True)


def _cells_span(layout, cells, bold=False):
    """The share of the left table the widest of ``cells`` takes (digits are 0.64 em in DejaVu Sans)."""
    widest = max((len(str(cell)) for cell in cells), default=1)
    return widest * (0.7 if bold else 0.64) * layout.font / 72 / layout.inches(layout.left)


def _study_data_cells(study, means, single=False):
    if means:
        mean, sd = study.get("mean"), study.get("sd")
        text = "–" if mean is None else (f"{mean:.1f}" + ("" if sd is None else f" ({sd:.1f})"))
        return [count(study.get("n"))] + ([] if single else [text])
    if single:
        return [f"{count(study.get('events'))}/{count(study.get('total'))}"]
    return [count(study.get("events")), count(study.get("total"))]


def _summary_data_cells(studies, means, single=False):
    def total(key: str) -> str:
        values = [study.get(key) for study in studies]
        return "–" if any(v is None for v in values) else count(sum(values))

    if means:
        return [total("n")] + ([] if single else [""])
    return [f"{total('events')}/{total('total')}"] if single else [total("events"), total("total")]


def _summary_label(result):
    method = result.get("method")
    if method == "exact":
        return "Total (pooled count, a lower bound)" if result.get("lower_bound") else "Total (pooled count)"
    if result.get("k") == 1:
        return "Summary (one study)"
    if method == "glmm":
        return "Random-effects model (GLMM)"
    if _common_effect(result):
        return "Common-effect model"
    return "Random-effects model"


def _common_effect(result):
    return (result.get("tau2_method") or "").upper() in ("FE", "EE", "CE")


def _heterogeneity_text(result, chars=68):
    """Lines of text with only the statistics that exist for this method; a pooled count has none by design."""
    if result.get("method") == "exact":
        return ["Heterogeneity: not estimated (pooled count, exact CI)"]
    if (result.get("k") or 0) < 2:
        return ["Heterogeneity: not applicable (one study)"]
    parts = []
    if result.get("tau2") is not None:
        parts.append(f"τ² = {significant(result['tau2'])}{_tau2_interval(result)}")
    if result.get("i2") is not None:
        parts.append(f"I² = {result['i2']:.0f}%")
    glmm = result.get("method") == "glmm"
    for key, name in (("q", "Q (Wald)" if glmm else "Q"), ("q_lrt", "Q (likelihood ratio)")):
        if result.get(key) is None:
            continue
        q = f"{name} = {result[key]:.2f}"
        if result.get("q_df") is not None:
            q += f" (df = {result['q_df']})"
        if result.get(f"{key}_pvalue") is not None:
            q += f", {p_value(result[f'{key}_pvalue'])}"
        parts.append(q)
    if not parts:
        return ["Heterogeneity: not reported"]
    # One statistic is never split over two lines; the text must stay within the figure's width.
    lines = ["Heterogeneity: " + parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(part) + 2 <= chars:
            lines[-1] += "; " + part
        else:
            lines[-1] += ";"
            lines.append(part)
    return lines


def _tau2_interval(result):
    """' (95% CI 0.40 to >100)': the Q-profile interval of tau², a censored bound with metafor's sign."""
    bounds = result.get("tau2_ci")
    if not bounds or any(value is None for value in bounds):
        return ""
    signs = result.get("tau2_ci_censored") or ["", ""]
    lower, upper = (f"{sign}{significant(value)}" for sign, value in zip(signs, bounds))
    return f" ({_level(result)}% CI {lower} to {upper})"


def method_legend(result, with_reason=True):
    """The method in words (at the foot of the figure, or in its legend), with the reason it was chosen (unless
    ``with_reason`` is False: the report gives each reason once, in Methods) and any warning."""
    level = _level(result)
    method, measure, tau2 = result.get("method"), result.get("measure"), result.get("tau2_method")
    tau2_name = TAU2_NAMES.get((tau2 or "").upper(), tau2)
    if method == "exact" and result.get("lower_bound"):
        text = ("Method: pooled count (events / total over all patients); the count is a lower bound, so it is shown "
                f"as ≥ with its exact one-sided {level}% lower limit, and there is no upper limit.")
    elif method == "exact":
        text = f"Method: pooled count (events / total over all patients) with an exact {level}% confidence interval."
    elif method == "glmm":
        text = ("Method: binomial-normal generalised linear mixed model (random-intercept logistic regression, "
                "maximum likelihood); ")
        if result.get("estimand") == "population average":
            text += "the estimate is the population-average proportion E[expit(μ + τZ)] (all settings together); "
        else:
            text += "the estimate is the proportion in the median setting, expit(μ); "
        if result.get("ci_method") == "t":
            text += f"{level}% confidence interval with t on {count(result.get('ci_df'))} df."
        else:
            text += f"{level}% confidence interval."
    else:
        scale = SCALE_NAMES.get(measure, measure or "unknown")
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
    if result.get("reason") and with_reason:
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
        return "pooled count, lower bound" if result.get("lower_bound") else "pooled count, exact CI"
    if method == "glmm":
        return "GLMM (ML), population average" if result.get("estimand") == "population average" else "GLMM (ML)"
    parts = ["IV", SCALE_NAMES.get(result.get("measure"), result.get("measure") or "")]
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
