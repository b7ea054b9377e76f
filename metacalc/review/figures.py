"""The `metacalc figures` step: every figure of the report, drawn from results.json and the dataset.

Writes SVG (and PNG) files plus ``figures.json``, the manifest the report reads (id, file, caption,
analysis, group), so the report never guesses file names.
"""

from __future__ import annotations

import json
import os
import re

from metacalc.files import write_atomic
from metacalc.review.analyse import MEASURE_SHORT, dumps

PERCENT = False  # proportions are shown as 0-1 on the axes and as percentages in the text
MAX_PLOT_ROWS = 60  # a figure with more rows (reports, patients) is unreadable on a page and slow to draw


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "all"


def _reference_label(reference):
    """Who published the figure, for which population, and what it measures (onset or diagnosis)."""
    population = f", {reference['population']}" if reference.get("population") else ""
    measure = MEASURE_SHORT.get(reference.get("outcome"))
    return f"{reference['label']}{population}" + (f" ({measure})" if measure else "")


def _reference_lines(analysis):
    return [{"value": reference["mean"], "label": f"{_reference_label(reference)}: {reference['mean']:g} y"}
            for reference in analysis.get("references", [])]


def _onset_inputs(analysis):
    """Patients, group summaries and published figures in the shape of ``metacalc.plots.onset.onset_plot``."""
    groups = analysis["groups"]
    overall = groups[0]
    subgroups = groups[1:]
    group_of = {}
    for group in subgroups:
        for patient in group["contributors"]:
            group_of[patient["patient_id"]] = group["group"]
    patients = [
        {"label": f"{p['label']} ({p['patient_id']})", "years": p["value"], "group": group_of.get(p["patient_id"])}
        for p in overall["contributors"]
    ]
    summaries = []
    for group in groups:
        summary = group.get("summary")
        if not summary:
            continue
        lower, upper = summary.get("mean_ci") or (None, None)
        summaries.append({"label": f"Mean, {group['group']}", "estimate": summary["mean"], "ci_lower": lower,
                          "ci_upper": upper, "n": summary["n"], "kind": "pooled"})
    pooled = overall.get("pooled")
    if pooled:
        summaries.append({"label": "Pooled with series (random effects)", "estimate": pooled["estimate"],
                          "ci_lower": pooled["ci_lower"], "ci_upper": pooled["ci_upper"], "n": None, "kind": "pooled"})
    for reference in analysis.get("references", []):
        summaries.append({"label": f"{_reference_label(reference)}, published", "estimate": reference["mean"],
                          "ci_lower": None, "ci_upper": None, "n": reference.get("n"), "kind": "published"})
    return patients, summaries


def _save(fig, outdir, name, png, manifest, **entry):
    from metacalc.plots import save_figure

    svg = os.path.join(outdir, f"{name}.svg")
    save_figure(fig, svg, os.path.join(outdir, f"{name}.png") if png else None)
    manifest.append({"id": name, "file": f"{name}.svg", **entry})


def render_figures(results_path, dataset_path, outdir, png=False, palette="colourblind", max_rows=MAX_PLOT_ROWS):
    """Draw every figure; returns the list of manifest entries (also written to ``figures.json``).

    Figures that would need more than ``max_rows`` rows (a forest plot of hundreds of reports, a traffic-light
    plot of hundreds of studies, one row per patient) are not drawn; the manifest lists them under
    ``omitted`` with the reason, and the report shows the same numbers as tables.
    """
    from metacalc.data import Dataset
    from metacalc.plots import use_reproducible_backend
    from metacalc.plots.forest import forest_plot, overview_plot
    from metacalc.plots.onset import onset_plot
    from metacalc.plots.risk_of_bias import summary_plot, traffic_light_plot
    from metacalc.review.appraisal import TOOLS
    from metacalc.review.prisma import flow_counts, write_prisma_svg

    use_reproducible_backend()
    with open(results_path, encoding="utf-8") as handle:
        results = json.load(handle)
    ds = Dataset.from_json(dataset_path)
    os.makedirs(outdir, exist_ok=True)
    manifest, omitted = [], []

    write_prisma_svg(os.path.join(outdir, "prisma.svg"), flow_counts(ds.records, ds.studies))
    manifest.append({"id": "prisma", "file": "prisma.svg", "section": "prisma",
                     "caption": "PRISMA 2020 flow diagram, counted from the records log."})

    labels = {study["study_id"]: study["label"] for study in results["studies"]}
    for tool in TOOLS:
        rows = ds.appraisal[ds.appraisal["tool"] == tool] if len(ds.appraisal) else ds.appraisal
        if not len(rows):
            continue
        overall = ds.appraisal_overall[ds.appraisal_overall["tool"] == tool]
        name = TOOLS[tool].name if hasattr(TOOLS[tool], "name") else tool
        studies = rows["study_id"].nunique()
        if studies <= max_rows:
            _save(traffic_light_plot(rows, overall, tool, palette=palette, labels=labels), outdir,
                  f"rob-traffic-{slug(tool)}", png, manifest, section="risk-of-bias",
                  caption=f"Risk of bias per report: {name}.")
        else:
            omitted.append({"id": f"rob-traffic-{slug(tool)}", "section": "risk-of-bias",
                            "reason": f"traffic-light plot of {name} not drawn: {studies} reports (more than "
                                      f"{max_rows}); the table below lists each judgement"})
        _save(summary_plot(rows, tool, palette=palette, overall=overall), outdir, f"rob-summary-{slug(tool)}", png,
              manifest, section="risk-of-bias", caption=f"Share of reports per answer: {name}.")

    for analysis in results["analyses"]:
        if analysis["kind"] == "proportion":
            pooled = [g for g in analysis["groups"] if g.get("result")]
            if pooled:
                rows = [{"label": g["group"], "result": g["result"]} for g in pooled]
                _save(overview_plot(rows, analysis["title"], percent=PERCENT), outdir,
                      f"overview-{slug(analysis['id'])}", png, manifest, section="results",
                      analysis=analysis["id"], group=None,
                      caption=f"{analysis['title']}: one row per {analysis['group_by'].replace('_', ' ')}.")
            # A forest plot of one report repeats its overview row; draw one only when reports are pooled.
            for group in (g for g in pooled if g["k"] >= 2):
                if group["k"] > max_rows:
                    omitted.append({"id": f"forest-{slug(analysis['id'])}-{slug(group['group'])}",
                                    "section": "results", "analysis": analysis["id"], "group": group["group"],
                                    "reason": f"forest plot of {group['group']} not drawn: {group['k']} reports "
                                              f"(more than {max_rows}); see the table and the overview"})
                    continue
                _save(forest_plot(group["result"], f"{group['group']}: {analysis['outcome_label']}",
                                  percent=PERCENT),
                      outdir, f"forest-{slug(analysis['id'])}-{slug(group['group'])}", png, manifest,
                      section="results", analysis=analysis["id"], group=group["group"],
                      caption=f"{group['group']}: {analysis['outcome_label']}, one row per report.")
        else:
            patients, summaries = _onset_inputs(analysis)
            if len(patients) > max_rows:
                omitted.append({"id": f"onset-{slug(analysis['id'])}-patients", "section": "onset",
                                "analysis": analysis["id"],
                                "reason": f"one row per patient not drawn: {len(patients)} patients (more than "
                                          f"{max_rows}); the figure shows the group summaries"})
                patients = []
            if patients or summaries:
                _save(onset_plot(patients, summaries, _reference_lines(analysis), analysis["title"]), outdir,
                      f"onset-{slug(analysis['id'])}", png, manifest, section="onset", analysis=analysis["id"],
                      group=None, caption=f"{analysis['title']}: each patient, group means and published figures.")
            pooled = analysis["groups"][0].get("pooled")
            if pooled:
                _save(forest_plot(pooled, f"{analysis['title']}: pooled with case series",
                                  reference_lines=_reference_lines(analysis)),
                      outdir, f"forest-{slug(analysis['id'])}", png, manifest, section="onset",
                      analysis=analysis["id"], group="all patients",
                      caption="Case reports combined as one study and pooled with series (random effects).")
    write_atomic(os.path.join(outdir, "figures.json"), dumps({"figures": manifest, "omitted": omitted}))
    return manifest
