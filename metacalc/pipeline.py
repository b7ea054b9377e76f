"""The two steps of a review run, as the workflow runs them (one ``metacalc`` command each), and both in a row.

    analyse: extraction sheets --validate--> dataset --analysis plan--> results and tables --draw--> figures
    report:  results + figures --render--> index.html

The command line calls these functions; the tests and the golden outputs call ``run_review``, which runs the
two steps back to back into one output folder laid out as the workflow lays it out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from metacalc.render.figures import FigureOptions
from metacalc.review.settings import RunSettings


@dataclass(frozen=True)
class AnalyseOutputs:
    """What the analyse step wrote."""

    tables: list[str]
    figures: list[str] = field(default_factory=list)


def analyse(dataset_json: str, plan_dir: str, outdir: str, *, sheets: str | None = None,
            review_file: str | None = None, sources: str | None = None, run: RunSettings = RunSettings(),
            releases: str | None = None, jobs: int = 1, figures_dir: str | None = None,
            figure_options: FigureOptions = FigureOptions(), strict: bool = False) -> AnalyseOutputs:
    """The ``metacalc analyse`` step: validate (when ``sheets`` is given: a review folder or its sheets, with
    its review file and sources), analyse, write the tables, and draw the figures into ``figures_dir`` when
    given; ``strict`` refuses undecided likely duplicate patients. One process: starting Python with the scientific stack costs more than the work on a review of
    case reports."""
    from metacalc.render.figures import render_figures
    from metacalc.review.run import analyse_step

    results, written = analyse_step(dataset_json, plan_dir, outdir, sheets=sheets, review_file=review_file,
                                    sources=sources, run=run, releases=releases, jobs=jobs,
                                    strict=strict)
    drawn = []
    if figures_dir is not None:
        drawn = [entry["file"] for entry in render_figures(results, figures_dir, figure_options, jobs=jobs)]
    return AnalyseOutputs(written, drawn)


def report(results_json: str, figures_dir: str, output: str, title: str | None = None,
           provenance_inline_max: int | None = None) -> str:
    """The ``metacalc report`` step: index.html from the results and the figures (no scientific stack), and
    provenance.csv beside it."""
    from metacalc.render.report import render_report

    return render_report(results_json, figures_dir, output, title=title, provenance_inline_max=provenance_inline_max)


def run_review(sheets: str, plan_dir: str, outdir: str, run: RunSettings = RunSettings(), title: str | None = None,
               figure_options: FigureOptions = FigureOptions(), jobs: int = 1, review_file: str | None = None,
               sources: str | None = None, releases: str | None = None) -> str:
    """Both steps into ``outdir`` (dataset.json, tables/, figures/, index.html, provenance.csv); returns
    index.html. ``sheets`` is a review folder or its sheets (the review file and sources beside them unless
    named); ``releases`` its named versions, the latest of which the report's changes compare with (None: no
    comparison).

    Nothing is written when the inputs have problems (``UserError``, raised before any output).
    """
    dataset = os.path.join(outdir, "dataset.json")
    tables = os.path.join(outdir, "tables")
    figures = os.path.join(outdir, "figures")
    analyse(dataset, plan_dir, tables, sheets=sheets, review_file=review_file, sources=sources, run=run,
            releases=releases, jobs=jobs, figures_dir=figures,
            figure_options=figure_options)
    return report(os.path.join(tables, "results.json"), figures, os.path.join(outdir, "index.html"), title=title)
