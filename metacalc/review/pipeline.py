"""The whole review in one process: validate -> analyse -> figures -> report.

The Snakemake workflow runs these steps as separate jobs (so that a change reruns only what it must); this
function runs them back to back for tests, benchmarks and notebooks, with the same outputs in the same places.
"""

from __future__ import annotations

import os

from metacalc.review.analyse import RunSettings


def build_report(sheets, plan, outdir, run=RunSettings(), title=None, png=False, palette="colourblind"):
    """Write ``outdir``/dataset.json, tables/, figures/ and index.html; returns the path of index.html."""
    from metacalc.data import load_dataset
    from metacalc.review.analyse import analyse
    from metacalc.review.figures import render_figures
    from metacalc.review.report import render_report

    dataset = os.path.join(outdir, "dataset.json")
    tables = os.path.join(outdir, "tables")
    figures = os.path.join(outdir, "figures")
    load_dataset(sheets).to_json(dataset)
    analyse(dataset, plan, tables, run=run, history=os.path.join(outdir, ".history", "results.json"))
    results = os.path.join(tables, "results.json")
    render_figures(results, dataset, figures, png=png, palette=palette)
    return render_report(results, dataset, figures, os.path.join(outdir, "index.html"), title=title)
