"""Results on disk: results.json (the typed results' JSON form), one CSV per analysis, the cumulative and
comparison tables and excluded_rows.csv. Written atomically; the same results give the same bytes."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.review.document import RESULTS_FORMAT, ReviewResults
from metacalc.review.results import AnalysisResult, ProportionGroup, TimeGroup

PROPORTION_COLUMNS = (
    "analysis", "variant", "group", "k", "patients", "events", "total", "method", "measure", "tau2_method",
    "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2", "q", "q_pvalue", "reason", "not_pooled",
)
TIME_COLUMNS = (
    "analysis", "variant", "group", "n", "mean", "sd", "mean_ci_lower", "mean_ci_upper", "median", "q1", "q3",
    "min", "max", "median_ci_lower", "median_ci_upper", "pooled_estimate", "pooled_ci_lower", "pooled_ci_upper",
)
CUMULATIVE_COLUMNS = (
    "analysis", "group", "step", "added", "study_id", "year", "k", "events", "total", "method", "estimate",
    "ci_lower", "ci_upper",
)
COMPARISON_COLUMNS = (
    "analysis", "group", "reference", "reference_population", "reference_measure", "reference_mean", "measure", "n",
    "mean", "difference", "method", "ci_lower", "ci_upper", "pvalue", "note",
)
EXCLUDED_COLUMNS = ("table", "row_id", "study_id", "reason")


def dumps(document: Mapping[str, Any]) -> str:
    # Compact separators keep json's C encoder (indent would fall back to the pure-Python one: slow on a large
    # review); sorted keys keep the bytes stable. The CSV tables are the human-readable form.
    return json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def read_results(path: str | os.PathLike[str]) -> ReviewResults:
    """results.json as typed results."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if not isinstance(document, dict) or "analyses" not in document:
        raise UserError([f"{path}: not a metacalc results file (expected the results.json of `metacalc analyse`)"])
    if document.get("format") != RESULTS_FORMAT:
        raise UserError([f"{path}: results written by another version of metacalc (got format "
                         f"{document.get('format')}, expected {RESULTS_FORMAT}); run `metacalc analyse` again"])
    return ReviewResults.from_dict(document)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    return str(value)


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _table_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    variants = [("main", analysis.groups)] + [(v.id, v.groups) for v in analysis.sensitivity]
    rows = []
    for variant, groups in variants:
        for group in groups:
            row: dict[str, Any] = {"analysis": analysis.id, "variant": variant, "group": group.group}
            if isinstance(group, ProportionGroup):
                result = group.result.fields if group.result else {}
                row.update({key: result.get(key) for key in PROPORTION_COLUMNS if key in result})
                row.update({"k": group.k, "patients": group.patients, "events": group.events, "total": group.total,
                            "not_pooled": group.not_pooled})
            else:
                summary = group.summary.fields if group.summary else {}
                pooled = group.pooled.fields if group.pooled else {}
                row.update({key: summary.get(key) for key in ("n", "mean", "sd", "median", "q1", "q3", "min", "max")})
                row["mean_ci_lower"], row["mean_ci_upper"] = summary.get("mean_ci") or (None, None)
                row["median_ci_lower"], row["median_ci_upper"] = summary.get("median_ci") or (None, None)
                row["pooled_estimate"] = pooled.get("estimate")
                row["pooled_ci_lower"], row["pooled_ci_upper"] = pooled.get("ci_lower"), pooled.get("ci_upper")
            rows.append(row)
    return rows


def _cumulative_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    return [{"analysis": analysis.id, "group": group.group, "step": number, **step.to_dict()}
            for group in analysis.groups if isinstance(group, ProportionGroup) and group.cumulative
            for number, step in enumerate(group.cumulative.steps, start=1)]


def _comparison_rows(analysis: AnalysisResult) -> list[dict[str, Any]]:
    rows = []
    for group in analysis.groups:
        if not isinstance(group, TimeGroup):
            continue
        for comparison in group.comparisons:
            reference = comparison.reference
            rows.append({
                "analysis": analysis.id, "group": group.group,
                "reference": f"{reference.label} ({reference.aggregate_id})",
                "reference_population": reference.population, "reference_mean": reference.mean,
                **{key: getattr(comparison, key) for key in ("reference_measure", "measure", "n", "mean", "difference",
                                                              "method", "ci_lower", "ci_upper", "pvalue")},
                "note": "; ".join(filter(None, [comparison.caveat, comparison.note])),
            })
    return rows


def write_results(results: ReviewResults, outdir: str) -> list[str]:
    """Write results.json, one CSV per analysis, the comparisons and excluded_rows.csv (atomically); returns
    the paths written."""
    written = []

    def write(name: str, text: str) -> None:
        path = os.path.join(outdir, name)
        write_atomic(path, text)
        written.append(path)

    for analysis in results.analyses:
        columns = PROPORTION_COLUMNS if analysis.kind == "proportion" else TIME_COLUMNS
        write(f"{analysis.id}.csv", csv_text(_table_rows(analysis), columns))
        if analysis.kind == "proportion":
            write(f"{analysis.id}_cumulative.csv", csv_text(_cumulative_rows(analysis), CUMULATIVE_COLUMNS))
        else:
            write(f"{analysis.id}_comparisons.csv", csv_text(_comparison_rows(analysis), COMPARISON_COLUMNS))
    write("excluded_rows.csv", csv_text((row.to_dict() for row in results.excluded_rows), EXCLUDED_COLUMNS))
    write("results.json", dumps(results.to_dict()))
    return written
