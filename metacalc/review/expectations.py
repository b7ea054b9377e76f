"""A review's expected findings (``expected_findings.yaml`` in its folder), checked against its results by
``metacalc check``: the check of a review lives with the review, so that an update of its data that moves a
finding is seen, and the file is updated with the data, never the package's tests.

The file holds ``rows`` (table -> number of rows), ``prisma`` (box id of the flow diagram -> count) and
``findings``: each names an ``analysis``, a ``group`` (a drug, a class, "all patients", a subgroup), optionally
a sensitivity ``variant`` (its id) or a published figure it is compared with (``reference``: its aggregate_id,
and ``measure``: the patients' measure, default the analysis' outcome), and ``expect``: the values. A number
matches to the decimals it is written with (8.0 is anything from 7.95 to 8.05), a whole number exactly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metacalc.errors import UserError
from metacalc.review.document import ReviewResults
from metacalc.review.results import AnalysisResult, Comparison, Group, Headline, ProportionGroup, TimeGroup

EXPECTATIONS_FILE = "expected_findings.yaml"
GROUP_FIELDS = {
    "proportion": ("k", "patients", "events", "total", "method", "estimate", "ci_lower", "ci_upper", "lower_bound"),
    "time": ("n", "mean", "ci_lower", "ci_upper", "median", "sd", "min", "max", "pooled_estimate"),
}
COMPARISON_FIELDS = ("n", "mean", "difference", "ci_lower", "ci_upper", "pvalue", "same_measure", "tested")
FINDING_KEYS = ("analysis", "group", "variant", "reference", "measure", "expect", "note")


@dataclass(frozen=True)
class Outcome:
    """One expected value against the results: where it is written, what it is about, and the problem if any."""

    where: str  # expected_findings.yaml:findings.3.expect.events
    about: str  # response_per_drug / diltiazem
    field: str
    expected: Any
    got: Any
    problem: str | None  # None when as expected

    def line(self) -> str:
        """The problem, located in the expectations file (only for a value that differs)."""
        return f"{self.where}: {self.problem} ({self.about})"


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)) and not value:
        return f"an empty {type(value).__name__}"
    return "blank" if value is None else str(value)


def passed_lines(outcomes: list[Outcome]) -> list[str]:
    """One line per finding (per row count, per box): what was checked and found as expected."""
    grouped: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        grouped.setdefault(outcome.where.split(".expect.")[0], []).append(outcome)
    return [f"ok: {group[0].about}: " + ", ".join(f"{o.field} {_shown(o.got)}" for o in group)
            for group in grouped.values()]


def load_expectations(path: str) -> dict[str, Any]:
    """The expectations file, checked for its shape (every problem located ``FILE:KEY.PATH: ...``)."""
    import yaml

    if not os.path.isfile(path):
        raise UserError([f"{path}: expectations file not found (expected {EXPECTATIONS_FILE} in the review folder; "
                         "`metacalc init` writes an empty one)"])
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise UserError([f"{path}{f':{mark.line + 1}' if mark else ''}: not valid YAML "
                         f"(got {getattr(error, 'problem', error)}, expected key: value lines)"]) from None
    problems = []
    if not isinstance(document, dict):
        raise UserError([f"{path}: not an expectations file (got {type(document).__name__}, expected a mapping "
                         "with rows, prisma and findings)"])
    for key in sorted(set(document) - {"rows", "prisma", "findings"}):
        problems.append(f"{path}:{key}: unknown key (got {key}, expected one of: findings, prisma, rows)")
    for key in ("rows", "prisma"):
        if not isinstance(document.get(key, {}), dict):
            problems.append(f"{path}:{key}: not a mapping (got {type(document[key]).__name__}, expected name: count)")
    findings = document.get("findings", [])
    if not isinstance(findings, list):
        problems.append(f"{path}:findings: not a list (got {type(findings).__name__}, expected a list of findings)")
        findings = []
    for index, finding in enumerate(findings):
        where = f"{path}:findings.{index}"
        if not isinstance(finding, dict):
            problems.append(f"{where}: not a finding (got {_shown(finding)}, expected analysis, group, expect)")
            continue
        for key in sorted(set(finding) - set(FINDING_KEYS)):
            problems.append(f"{where}.{key}: unknown key (got {key}, expected one of: {', '.join(FINDING_KEYS)})")
        for key in ("analysis", "group", "expect"):
            if key not in finding:
                problems.append(f"{where}.{key}: required key missing (got no {key})")
        if "expect" in finding and (not isinstance(finding["expect"], dict) or not finding["expect"]):
            problems.append(f"{where}.expect: no values (got {_shown(finding['expect'])}, expected field: value)")
    if problems:
        raise UserError(problems)
    return {"rows": document.get("rows") or {}, "prisma": document.get("prisma") or {}, "findings": findings}


def matches(expected: Any, got: Any) -> bool:
    """Whether a result is the expected value: numbers to the decimals written, anything else exactly."""
    if isinstance(expected, bool) or isinstance(got, bool) or not isinstance(expected, (int, float)):
        return type(expected) is type(got) and expected == got
    if isinstance(got, bool) or not isinstance(got, (int, float)) or math.isnan(got):
        return False
    if isinstance(expected, int):
        return float(got) == expected
    text = repr(expected)
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return abs(got - expected) <= 0.5 * 10 ** -decimals + 1e-12


def check_results(results: ReviewResults, expectations: Mapping[str, Any], path: str) -> list[Outcome]:
    """Every expected value against the results, in the order of the file."""
    outcomes = []
    for table, expected in expectations["rows"].items():
        counts = results.row_counts.get(table)
        got = None if counts is None else counts.rows
        outcomes.append(_outcome(f"{path}:rows.{table}", f"rows of {table}", "rows", expected, got))
    boxes = {box.box_id: box.n for box in results.prisma.boxes}
    for box, expected in expectations["prisma"].items():
        outcomes.append(_outcome(f"{path}:prisma.{box}", f"PRISMA box {box}", "n", expected, boxes.get(box),
                                 missing=None if box in boxes else f"no such box (got {box}, expected one of: "
                                                                   f"{', '.join(boxes)})"))
    for index, finding in enumerate(expectations["findings"]):
        outcomes.extend(_finding(results, finding, f"{path}:findings.{index}"))
    return outcomes


def _outcome(where: str, about: str, field: str, expected: Any, got: Any, missing: str | None = None) -> Outcome:
    if missing:
        return Outcome(where, about, field, expected, None, missing)
    problem = None if matches(expected, got) else f"got {_shown(got)}, expected {_shown(expected)}"
    return Outcome(where, about, field, expected, got, problem)


def _finding(results: ReviewResults, finding: Mapping[str, Any], where: str) -> list[Outcome]:
    analysis = next((a for a in results.analyses if a.id == finding["analysis"]), None)
    about = " / ".join(str(finding[k]) for k in ("analysis", "variant", "group", "reference") if finding.get(k))
    if finding.get("measure"):
        about += f" ({finding['measure']})"
    if analysis is None:
        ids = ", ".join(a.id for a in results.analyses)
        return [Outcome(f"{where}.analysis", about, "analysis", finding["analysis"], None,
                        f"no such analysis (got {finding['analysis']}, expected one of: {ids})")]
    groups: tuple[Group, ...] = analysis.groups
    if finding.get("variant"):
        variant = next((v for v in analysis.sensitivity if v.id == finding["variant"]), None)
        if variant is None:
            ids = ", ".join(v.id for v in analysis.sensitivity) or "none"
            return [Outcome(f"{where}.variant", about, "variant", finding["variant"], None,
                            f"no such sensitivity variant (got {finding['variant']}, expected one of: {ids})")]
        groups = variant.groups
    group = next((g for g in groups if g.group == finding["group"]), None)
    if group is None:
        names = ", ".join(g.group for g in groups) or "none"
        return [Outcome(f"{where}.group", about, "group", finding["group"], None,
                        f"no such group (got {finding['group']}, expected one of: {names})")]
    if finding.get("reference"):
        values = _comparison_values(analysis, group, finding)
        allowed: tuple[str, ...] = COMPARISON_FIELDS
        if values is None:
            return [Outcome(f"{where}.reference", about, "reference", finding["reference"], None,
                            f"no comparison of {group.group} with {finding['reference']} on "
                            f"{finding.get('measure') or analysis.outcome}")]
    else:
        values, allowed = _group_values(group, analysis.kind), GROUP_FIELDS[analysis.kind]
    out = []
    for field, expected in finding["expect"].items():
        if field not in allowed:
            out.append(Outcome(f"{where}.expect.{field}", about, field, expected, None,
                               f"not a field of this finding (got {field}, expected one of: {', '.join(allowed)})"))
        else:
            out.append(_outcome(f"{where}.expect.{field}", about, field, expected, values.get(field)))
    return out


def _group_values(group: Group, kind: str) -> dict[str, Any]:
    headline = Headline.of_group(group.to_dict(), "proportion" if kind == "proportion" else "time")
    values = dict(headline.fields)
    if isinstance(group, ProportionGroup):
        values.update(patients=group.patients, lower_bound=bool(group.lower_bounds))
    elif isinstance(group, TimeGroup) and group.summary:
        values.update({key: group.summary.to_dict().get(key) for key in ("sd", "min", "max")})
        values["pooled_estimate"] = group.pooled.estimate if group.pooled else None
    return values


def _comparison_values(analysis: AnalysisResult, group: Group, finding: Mapping[str, Any]) -> dict[str, Any] | None:
    measure = finding.get("measure") or analysis.outcome
    comparisons: tuple[Comparison, ...] = group.comparisons if isinstance(group, TimeGroup) else ()
    found = next((c for c in comparisons if c.reference.aggregate_id == finding["reference"] and c.measure == measure),
                 None)
    if found is None:
        return None
    return {field: getattr(found, field) for field in COMPARISON_FIELDS}
