"""Every figure of the report, drawn from the results alone: forest plots and overviews, time to onset, the
PRISMA flow diagram and the risk-of-bias plots.

Writes each figure as SVG (which the report embeds), PDF and PNG (for a manuscript: ``FigureOptions.formats``),
drawn at the width of a journal column, plus ``figures.json``, the manifest the report reads (id, file, the
files of every format, caption, analysis, group), so the report never guesses file names.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from metacalc.files import write_atomic
from metacalc.render.risk_of_bias import DEFAULT_PALETTE
from metacalc.render.style import COLUMNS, DEFAULT_COLUMN, DEFAULT_DPI, DEFAULT_FORMATS, DPI_CHOICES, FORMATS
from metacalc.review.document import ReviewResults
from metacalc.review.labels import RowNames
from metacalc.review.results import AnalysisResult, ProportionGroup, Reference, TimeGroup
from metacalc.review.results_io import dumps
from metacalc.review.words import measure_short, onset_axis_label, slug

if TYPE_CHECKING:
    from metacalc.data.review_file import Review

PERCENT = True  # proportions are percentages on the axes, as in the tables and the text
PENDING_BATCH = 12  # figures built before they are written (each batch shared out among the workers)
MAX_PLOT_ROWS = 60  # a figure with more rows (reports, patients) is unreadable on a page and slow to draw
Entry = dict[str, Any]


@dataclass(frozen=True)
class FigureOptions:
    """How figures are drawn: the formats written (SVG always: the report embeds it), the PNG's resolution,
    the journal column they are sized for (single or double), the risk-of-bias palette, the most rows a figure
    may have."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    dpi: int = DEFAULT_DPI
    width: str = DEFAULT_COLUMN
    palette: str = DEFAULT_PALETTE
    max_rows: int = MAX_PLOT_ROWS

    def problems(self) -> list[str]:
        """What is wrong with these options, worded for the command line's options."""
        out = []
        unknown = [fmt for fmt in self.formats if fmt not in FORMATS]
        if unknown or "svg" not in self.formats or len(set(self.formats)) != len(self.formats):
            out.append(f"--formats: got {','.join(self.formats)}, expected some of {','.join(FORMATS)}, each once, "
                       "svg included (the report embeds the SVG)")
        if self.dpi not in DPI_CHOICES:
            out.append(f"--dpi: got {self.dpi}, expected one of {', '.join(map(str, DPI_CHOICES))}")
        if self.width not in COLUMNS:
            out.append(f"--width: got {self.width}, expected one of {', '.join(COLUMNS)}")
        if self.max_rows < 1:
            out.append(f"--max-rows: got {self.max_rows}, expected at least 1")
        return out


def _reference_label(reference: Reference, review: Review, names: RowNames) -> str:
    """Who published the figure, for which population, and what it measures (onset or diagnosis)."""
    population = f", {names.text(reference.population)}" if reference.population else ""
    return f"{reference.label}{population} ({measure_short(reference.outcome, review)})"


def _reference_lines(analysis: AnalysisResult, review: Review, names: RowNames) -> list[dict[str, Any]]:
    return [{"value": reference.mean, "label": f"{_reference_label(reference, review, names)}: {reference.mean:g} y"}
            for reference in analysis.references]


def _onset_inputs(analysis: AnalysisResult, review: Review, names: RowNames) -> tuple[list[Entry], list[Entry]]:
    """Patients (by their labels, 'Tristano 2006, patient 1'), group summaries and published figures in the shape
    of ``metacalc.render.onset.onset_plot``."""
    groups = [g for g in analysis.groups if isinstance(g, TimeGroup)]
    overall, subgroups = groups[0], groups[1:]
    group_of = {patient.patient_id: group.group for group in subgroups for patient in group.contributors}
    patients = [{"label": names.of(p.patient_id), "years": p.value, "group": group_of.get(p.patient_id)}
                for p in overall.contributors]
    summaries = []
    for group in groups:
        summary = group.summary
        if not summary:
            continue
        # the time rule: the median with its exact interval (or its range below 6 patients), the mean with its
        # approximate t interval only where the rule gives one (from 10 patients)
        lower, upper = summary.median_ci or (None, None)
        spread = None if summary.median_ci or summary.n < 2 else {"range": (summary.min, summary.max)}
        summaries.append({"label": f"Median, {group.group}", "estimate": summary.median, "ci_lower": lower,
                          "ci_upper": upper, "n": summary.n, "kind": "pooled", **(spread or {})})
        if summary.mean_ci:
            lower, upper = summary.mean_ci
            summaries.append({"label": f"Mean, {group.group} (approximate CI)", "estimate": summary.mean,
                              "ci_lower": lower, "ci_upper": upper, "n": summary.n, "kind": "pooled"})
    if overall.pooled:
        summaries.append({"label": "Pooled with series (random effects)", "estimate": overall.pooled.estimate,
                          "ci_lower": overall.pooled.ci_lower, "ci_upper": overall.pooled.ci_upper, "n": None,
                          "kind": "pooled"})
    for reference in analysis.references:
        summaries.append({"label": f"{_reference_label(reference, review, names)}, published", "estimate": reference.mean,
                          "ci_lower": None, "ci_upper": None, "n": reference.n, "kind": "published"})
    return patients, summaries


# The figures to write, set in the parent before forking workers (which inherit them).
_PENDING: list[Callable[[], Any]] = []


def _write_pending(index: int) -> None:
    _PENDING[index]()


class _Manifest:
    """The figures drawn (in the order the report shows them) and the ones left out, with why."""

    def __init__(self, outdir: str, options: FigureOptions, jobs: int = 1) -> None:
        self.outdir, self.options, self.jobs = outdir, options, jobs
        self.figures: list[Entry] = []
        self.omitted: list[Entry] = []
        self.pending: list[Callable[[], Any]] = []  # what writes each figure's files, run by write_pending
        self.built: list[Any] = []  # the figures built in this process, closed once written

    def save(self, fig: Any, name: str, **entry: Any) -> None:
        """Enter a built figure; its files are written by ``write_pending``, a batch at a time shared among the workers."""
        from metacalc.render.style import save_figure

        self.built.append(fig)
        self.write_later(partial(save_figure, fig, os.path.join(self.outdir, f"{name}.svg"), self.options.formats,
                                 dpi=self.options.dpi))
        self.add(name, **entry)

    def write_later(self, writer: Callable[[], Any]) -> None:
        self.pending.append(writer)
        # Built figures wait in memory (several MB each) until written: a review of 1,000 patients draws over a
        # hundred, which held all at once took the job from 320 MB to 1.4 GB; in batches it stays near the first.
        if len(self.pending) >= PENDING_BATCH:
            self.write_pending()

    def write_pending(self) -> None:
        """Write the figures entered so far (a batch), in ``self.jobs`` worker processes when more than one.

        Building a figure is cheap; writing it (laying out its text three times: SVG, PDF with its fonts
        subset, PNG rasterised at 300 dpi) is most of the figures' time, and each figure is written on its own,
        so they are shared out among forked workers, which inherit the built figures instead of unpickling
        them. Each file is the same whichever process writes it (fixed metadata, no shared state)."""
        import matplotlib.pyplot as plt

        _PENDING[:] = self.pending
        try:
            if self.jobs <= 1 or len(self.pending) < 2:
                for index in range(len(self.pending)):
                    _write_pending(index)
            else:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                with ProcessPoolExecutor(min(self.jobs, len(self.pending)),
                                         mp_context=multiprocessing.get_context("fork")) as pool:
                    list(pool.map(_write_pending, range(len(self.pending))))
        finally:
            _PENDING.clear()
            for fig in self.built:
                plt.close(fig)
            self.pending, self.built = [], []

    def add(self, name: str, **entry: Any) -> None:
        """The manifest's entry of a figure written as ``name``.svg (and its other formats)."""
        files = {fmt: f"{name}.{fmt}" for fmt in self.options.formats}
        self.figures.append({"id": name, "file": files["svg"], "files": files, "width": self.options.width,
                             **({"dpi": self.options.dpi} if "png" in files else {}), **entry})

    def omit(self, name: str, reason: str, **entry: Any) -> None:
        self.omitted.append({"id": name, **entry, "reason": reason})


def render_figures(results: ReviewResults, outdir: str, options: FigureOptions = FigureOptions(),
                   jobs: int = 1) -> list[Entry]:
    """Draw every figure, writing them in ``jobs`` worker processes (``_Manifest.write_pending``; the files do
    not depend on it); returns the manifest entries (also written to ``figures.json``).

    Figures that would need more than ``options.max_rows`` rows (a forest plot of hundreds of reports, a
    traffic-light plot of hundreds of studies, one row per patient) are not drawn; the manifest lists them
    under ``omitted`` with the reason, and the report shows the same numbers as tables.
    """
    from metacalc.render.prisma import write_prisma
    from metacalc.render.style import use_reproducible_backend

    use_reproducible_backend()
    os.makedirs(outdir, exist_ok=True)
    manifest = _Manifest(outdir, options, jobs)
    names = RowNames(results)
    manifest.write_later(partial(write_prisma, os.path.join(outdir, "prisma.svg"),
                                 results.prisma.relabelled(names.text).counts(), options.formats, dpi=options.dpi,
                                 width=options.width))
    manifest.add("prisma", section="prisma", caption="PRISMA 2020 flow diagram, counted from the records log.",
                 title="PRISMA 2020 flow diagram of the study selection",
                 legend="Every count is computed from the records log (one row per record identified); each box "
                        "links to the records behind it.")
    _risk_of_bias(results, manifest)
    for analysis in results.analyses:
        if analysis.kind == "proportion":
            _response(analysis, manifest)
            _cumulative(analysis, manifest)
        else:
            _onset(analysis, manifest, results.review, names)
    manifest.write_pending()  # the last batch
    write_atomic(os.path.join(outdir, "figures.json"), dumps({"figures": manifest.figures,
                                                              "omitted": manifest.omitted}))
    return manifest.figures


def _risk_of_bias(results: ReviewResults, manifest: _Manifest) -> None:
    from metacalc.render.risk_of_bias import summary_plot, traffic_light_plot

    palette, max_rows, width = manifest.options.palette, manifest.options.max_rows, manifest.options.width
    for appraisal in results.appraisal:
        name, studies = appraisal.name, len(appraisal.studies)
        if studies <= max_rows:
            manifest.save(traffic_light_plot(appraisal, palette=palette, title=False, width=width),
                          f"rob-traffic-{slug(appraisal.tool)}", section="risk-of-bias",
                          caption=f"Risk of bias per report: {name}.", title=f"Risk of bias per report: {name}",
                          legend="One row per report, one column per item of the tool and the reviewer's overall "
                                 "judgement (not a summed score); the key gives each item's question.")
        else:
            manifest.omit(f"rob-traffic-{slug(appraisal.tool)}", section="risk-of-bias",
                          reason=f"traffic-light plot of {name} not drawn: {studies} reports (more than {max_rows}); "
                                 "the table below lists each judgement")
        manifest.save(summary_plot(appraisal, palette=palette, title=False, width=width),
                      f"rob-summary-{slug(appraisal.tool)}",
                      section="risk-of-bias", caption=f"Share of reports per answer: {name}.",
                      title=f"Share of reports per answer to each item: {name}",
                      legend="Each bar is one item of the tool (and the overall judgement), divided by the share "
                             "of the reports giving each answer.")


def _response(analysis: AnalysisResult, manifest: _Manifest) -> None:
    from metacalc.render.forest import forest_plot, method_legend, overview_plot

    width = manifest.options.width
    pooled = [g for g in analysis.groups if isinstance(g, ProportionGroup) and g.result]
    if pooled:
        # in one journal column the overview has no method column: the legend refers to Methods alone
        method = ("The method of each row is named in its last column and explained in Methods." if width == "double"
                  else "The method of each row is named in the table of this analysis and explained in Methods.")
        manifest.save(overview_plot([(g.group, g.result) for g in pooled if g.result], "", percent=PERCENT,
                                    xlabel="Patients responding (%)", width=width),
                      f"overview-{slug(analysis.id)}", section="results", analysis=analysis.id, group=None,
                      caption=f"{analysis.title}: one row per {analysis.group_by.replace('_', ' ')}.",
                      title=f"{analysis.title}: {analysis.outcome_label}, one row per "
                            f"{analysis.group_by.replace('_', ' ')}",
                      legend="Each row pools the patients of its reports; a diamond spans the pooled estimate's "
                             "confidence interval, a square with a line is a single report's estimate and "
                             f"interval. {method}")
    # A forest plot of one report repeats its overview row; draw one only when reports are pooled.
    for group in pooled:
        if group.k < 2 or group.result is None:
            continue
        name = f"forest-{slug(analysis.id)}-{slug(group.group)}"
        if group.k > manifest.options.max_rows:
            manifest.omit(name, section="results", analysis=analysis.id, group=group.group,
                          reason=f"forest plot of {group.group} not drawn: {group.k} reports (more than "
                                 f"{manifest.options.max_rows}); see the table and the overview")
            continue
        manifest.save(forest_plot(group.result, "", percent=PERCENT, method_text=False, width=width),
                      name, section="results", analysis=analysis.id, group=group.group,
                      caption=f"{group.group}: {analysis.outcome_label}, one row per report.",
                      title=f"{group.group}: {analysis.outcome_label}, one row per report",
                      legend="Squares: each report's estimate (area proportional to its weight) with its "
                             f"interval. {method_legend(group.result.fields, with_reason=False)} Why this method: see "
                             "Methods.")


def _cumulative(analysis: AnalysisResult, manifest: _Manifest) -> None:
    """A cumulative meta-analysis figure of every group with one (at least two reports, in order of year)."""
    from metacalc.render.cumulative import cumulative_legend, cumulative_plot

    for group in analysis.groups:
        if not isinstance(group, ProportionGroup) or not group.cumulative or not group.cumulative.steps:
            continue
        name = f"cumulative-{slug(analysis.id)}-{slug(group.group)}"
        steps = len(group.cumulative.steps)
        entry = {"section": "cumulative", "analysis": analysis.id, "cumulative_of": group.group}
        if steps > manifest.options.max_rows:
            manifest.omit(name, **entry, reason=f"cumulative meta-analysis of {group.group} not drawn: {steps} "
                                                f"steps (more than {manifest.options.max_rows}); see the table")
            continue
        level = (group.result.fields.get("level") if group.result else None) or 0.95  # the run's level
        manifest.save(cumulative_plot(group.cumulative, "", "Patients responding (%)", percent=PERCENT,
                                      method_text=False, level=level,
                                      width=manifest.options.width), name, **entry,
                      caption=f"{group.group}: {analysis.outcome_label}, pooled as each report is added in order "
                              "of publication year.",
                      title=f"{group.group}: {analysis.outcome_label}, cumulative meta-analysis by year of "
                            "publication",
                      legend=cumulative_legend(group.cumulative, level))


def _onset(analysis: AnalysisResult, manifest: _Manifest, review: Review, names: RowNames) -> None:
    from metacalc.render.forest import forest_plot, method_legend
    from metacalc.render.onset import onset_legend, onset_plot

    patients, summaries = _onset_inputs(analysis, review, names)
    if len(patients) > manifest.options.max_rows:
        manifest.omit(f"onset-{slug(analysis.id)}-patients", section="onset", analysis=analysis.id,
                      reason=f"one row per patient not drawn: {len(patients)} patients (more than "
                             f"{manifest.options.max_rows}); the figure shows the group summaries")
        patients = []
    if patients or summaries:
        manifest.save(onset_plot(patients, summaries, _reference_lines(analysis, review, names), "",
                                 xlabel=onset_axis_label(review), key_text=False, width=manifest.options.width),
                      f"onset-{slug(analysis.id)}", section="onset", analysis=analysis.id, group=None,
                      caption=f"{analysis.title}: each patient, group medians and published figures.",
                      title=f"{analysis.title}: each patient, the group medians and the published figures",
                      legend=onset_legend(summaries))
    overall = analysis.groups[0]
    if isinstance(overall, TimeGroup) and overall.pooled:
        manifest.save(forest_plot(overall.pooled, "", reference_lines=_reference_lines(analysis, review, names),
                                  method_text=False, width=manifest.options.width),
                      f"forest-{slug(analysis.id)}", section="onset", analysis=analysis.id, group="all patients",
                      caption="Case reports combined as one study and pooled with series (random effects).",
                      title=f"{analysis.title}: the case reports pooled with case series",
                      legend="The case reports are combined as one study and pooled with the series by "
                             f"inverse-variance random effects. {method_legend(overall.pooled.fields, with_reason=False)}")


def read_manifest(figures_dir: str) -> Mapping[str, Any]:
    """figures.json of a figures directory."""
    import json

    with open(os.path.join(figures_dir, "figures.json"), encoding="utf-8") as handle:
        return json.load(handle)
