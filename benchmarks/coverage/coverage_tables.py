"""The coverage study's tables: one CSV row per scenario and method, and results.md summarising them.

Coverage is the share of replicates whose interval contains the truth, among the replicates where the method
returned an interval (``returned`` is that share of all replicates); its Monte-Carlo standard error is
sqrt(c (1 - c) / returned). Numbers are written with fixed decimals so that a rerun gives byte-identical files.
"""

from __future__ import annotations

import math
from collections import defaultdict

import proportion_coverage as proportions
import time_coverage as times

from metacalc.meta.auto_rule import RULE

BRANCH_KEYS = tuple(branch.key for branch in RULE)  # the rule's branches, in the order they are tried
SHAPES = ("reports only", "one series alone", "reports + 1 series", "reports + 2 series",
          "reports + several series", "series only")


def _fmt(value, digits=4):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:.{digits}f}"


def _share(count, total):
    return count / total if total else math.nan


def _coverage(covered, returned):
    c = _share(covered, returned)
    return _fmt(c), _fmt(math.sqrt(c * (1 - c) / returned) if returned else math.nan)


def flatten(run_data: dict) -> tuple[list[dict], list[dict], list[dict], list[dict]]:
    """The four CSV tables: proportions, times, GLMM fits by estimated tau^2, branches of the proposed rule."""
    results = run_data["results"]
    prop_rows, time_rows, branches = [], [], []
    diag: dict = defaultdict(lambda: defaultdict(int))
    for kind, scenario, _ in run_data["tasks"]:
        result = results[scenario.key]
        reps = result["reps"]
        if kind == "prop":
            design = scenario.design
            for row in result["rows"]:
                coverage, mcse = _coverage(row["covered"], row["returned"])
                prop_rows.append({
                    "shape": design.shape, "design": design.label, "k": design.k, "series": len(design.series),
                    "average": _fmt(scenario.average, 3), "median_truth": _fmt(result["median_truth"]),
                    "tau": _fmt(scenario.tau, 2), "method": row["method"], "reps": reps,
                    "returned": _fmt(_share(row["returned"], reps)), "coverage": coverage, "mcse": mcse,
                    "coverage_median": _fmt(_share(row["covered_median"], row["returned"])),
                    "below": _fmt(_share(row["below"], row["returned"])),
                    "median_width": _fmt(row["median_width"]),
                    "wide": _fmt(_share(row["wide"], row["returned"])),
                })
            if design.series:
                for d in result["diagnostics"]:
                    bucket = diag[(SHAPES.index(design.shape), d["tau2_bin"])]
                    for name, value in d.items():
                        if name != "tau2_bin":
                            bucket[name] += value
            branches.append({"shape": design.shape, "design": design.label, "average": _fmt(scenario.average, 3),
                             "tau": _fmt(scenario.tau, 2), "reps": reps}
                            | {key: _fmt(_share(result["branches"].get(key, 0), reps)) for key in BRANCH_KEYS})
        else:
            for row in result["rows"]:
                coverage, mcse = _coverage(row["covered"], row["returned"])
                below = _share(row["below"], row["returned"])
                time_rows.append({
                    "family": scenario.family, "cv": _fmt(scenario.cv, 2), "mean": _fmt(scenario.mean, 1),
                    "n": scenario.n, "method": row["method"], "target": row["target"], "reps": reps,
                    "returned": _fmt(_share(row["returned"], reps)), "coverage": coverage, "mcse": mcse,
                    "below": _fmt(below),
                    "above": _fmt(1 - _share(row["covered"], row["returned"]) - below),
                    "median_width_over_mean": _fmt(row["median_width"]),
                    "negative_lower": _fmt(_share(row["negative"], reps)),
                    "nominal": _fmt(row.get("nominal")),
                })
    bins = proportions.TAU2_BINS
    diagnostics = [
        {"shape": SHAPES[shape], "tau2_from": _fmt(bins[b], 2), "tau2_to": _fmt(bins[b + 1], 2), "fits": v["fits"],
         "coverage_median": _fmt(_share(v["covered_median"], v["fits"])),
         "coverage_pa": _fmt(_share(v["covered_pa"], v["fits"])),
         "coverage_pa_ts": _fmt(_share(v["covered_pa_ts"], v["fits_ts"])),
         "wider_than_exact": _fmt(_share(v["wider_than_exact"], v["fits"]))}
        for (shape, b), v in sorted(diag.items()) if v["fits"]
    ]
    return prop_rows, time_rows, diagnostics, branches


# --------------------------------------------------------------------------------------------------------------
# results.md
# --------------------------------------------------------------------------------------------------------------


def _number(value):
    return float(value) if value != "" else math.nan


def _pct(value):
    value = _number(value) if isinstance(value, str) else value
    return "" if not math.isfinite(value) else f"{100 * value:.1f}"


def _mean(rows, field):
    values = [v for v in (_number(r[field]) for r in rows) if math.isfinite(v)]
    return sum(values) / len(values) if values else math.nan


def _min(rows, field):
    values = [v for v in (_number(r[field]) for r in rows) if math.isfinite(v)]
    return min(values) if values else math.nan


def _group(rows, keys):
    groups = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return groups


def _table(header, rows):
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c) for c in row) + " |" for row in rows] + [""]


def _by_shape_and_tau(rows, methods, cell):
    """One line per (shape, tau) with ``cell(rows of one method)`` for each method."""
    groups = _group(rows, ("shape", "tau"))
    lines = []
    for shape in SHAPES:
        for tau in sorted({r["tau"] for r in rows}):
            group = groups.get((shape, tau))
            if group:
                by_method = _group(group, ("method",))
                lines.append([shape, tau] + [cell(by_method.get((m,), [])) for m in methods])
    return lines


def _mean_worst(field):
    return lambda rows: f"{_pct(_mean(rows, field))} ({_pct(_min(rows, field))})" if rows else ""


def markdown(prop_rows, time_rows, diagnostics, branches, settings, environment) -> str:
    lines = ["# Coverage study: results", "",
             f"Rerun: `{environment['command']}` ({environment['runtime']}). How to read these tables and the rules "
             "they support: [README.md](../README.md).", ""]
    lines += _table(["", ""], [[key, value] for key, value in environment.items() if key != "command"]
                    + [["replicates", f"{settings['prop_reps']} per proportion scenario, {settings['time_reps']} "
                                      f"per time scenario, {settings['n_boot']} bootstrap resamples"]])
    lines += ["Raw tables beside this file: `proportions.csv`, `times.csv` (one row per scenario and method), "
              "`glmm_tau2.csv`, `auto_branches.csv`. Coverage in percent, as \"mean (worst)\" over the scenarios "
              "of a group: the mean over true proportions (and designs of that shape), and the lowest single "
              "scenario. Monte-Carlo standard error of one scenario's coverage: 0.7 points at 95%, 1.1 at 85%, "
              "1.6 at 50% (column `mcse` of the CSV); of a group mean, about half that or less.", ""]
    lines += _proportion_tables(prop_rows, branches, diagnostics)
    lines += _time_tables(time_rows)
    return "\n".join(lines).rstrip("\n") + "\n"


def _proportion_tables(rows, branches, diagnostics):
    main, iv = proportions.MAIN_METHODS, tuple(m for m in proportions.METHODS if m not in proportions.MAIN_METHODS)
    out = []
    for title, methods, field, truth in (
            ("P1", main, "coverage", "population-average proportion"),
            ("P2", main, "coverage_median", "median-setting proportion expit(mu)"),
            ("P3", iv, "coverage", "population-average proportion"),
            ("P4", iv, "coverage_median", "median-setting proportion expit(mu)")):
        out += [f"## {title}. Pooled proportion: coverage of the {truth}, by design shape and tau", ""]
        out += _table(["shape", "tau"] + list(methods), _by_shape_and_tau(rows, methods, _mean_worst(field)))
    out += ["## P5. Pooled proportion: median interval width (proportion scale), mean over scenarios", ""]
    out += _table(["shape", "tau"] + list(proportions.METHODS), _by_shape_and_tau(
        rows, proportions.METHODS, lambda r: _fmt(_mean(r, "median_width"), 2) if r else ""))
    out += ["## P6. Pooled proportion, per design: coverage of the population average, mean (worst) over p and tau",
            ""]
    lines = []
    for (design,), group in _group(rows, ("design",)).items():
        by_method = _group(group, ("method",))
        lines.append([design] + [_mean_worst("coverage")(by_method[(m,)]) for m in main])
    out += _table(["design"] + list(main), lines)
    out += ["## P7. Pooled proportion, per design and tau: coverage of the population average, mean (worst) over p",
            ""]
    lines = []
    for (design, tau), group in _group(rows, ("design", "tau")).items():
        by_method = _group(group, ("method",))
        lines.append([design, tau] + [_mean_worst("coverage")(by_method[(m,)]) for m in main])
    out += _table(["design", "tau"] + list(main), lines)
    out += ["## B1. Branches of the auto rule: share of replicates (%), by design shape", ""]
    lines = []
    for shape in SHAPES:
        group = [b for b in branches if b["shape"] == shape]
        if group:
            lines.append([shape] + [_pct(_mean(group, key)) for key in BRANCH_KEYS])
    out += _table(["shape"] + list(BRANCH_KEYS), lines)
    out += ["## G1. GLMM fits by estimated tau^2, all scenarios with a case series (coverage %)", ""]
    out += _table(["shape", "tau^2 from", "to", "fits", "glmm (median)", "glmm-pa", "glmm-pa-ts",
                   "glmm wider than exact"],
                  [[d["shape"], d["tau2_from"], d["tau2_to"], d["fits"], _pct(d["coverage_median"]),
                    _pct(d["coverage_pa"]), _pct(d["coverage_pa_ts"]), _pct(d["wider_than_exact"])]
                   for d in diagnostics])
    return out


def _time_tables(rows):
    methods = times.MEAN_METHODS + (times.MEDIAN_METHOD,)
    main = [r for r in rows if r["mean"] == "10.0"]
    out = ["## T1. Time to onset: coverage (%) of the mean (of the median for the last column), by distribution "
           "and n", "",
           "`time-rule` covers only the samples where the rule shows a mean interval; `shown` is how often."]
    lines = []
    for (family, cv, n), group in _group(main, ("family", "cv", "n")).items():
        by_method = {r["method"]: r for r in group}
        lines.append([family, cv, n] + [_pct(by_method[m]["coverage"]) for m in methods]
                     + [_pct(by_method["time-rule"]["returned"]), _pct(by_method["t"]["negative_lower"])])
    out += [""] + _table(["family", "cv", "n"] + list(methods) + ["shown", "t below 0"], lines)
    out += ["## T2. Time to onset: median interval width divided by the true mean", ""]
    lines = []
    for (family, cv, n), group in _group(main, ("family", "cv", "n")).items():
        by_method = {r["method"]: r for r in group}
        lines.append([family, cv, n] + [_fmt(_number(by_method[m]["median_width_over_mean"]), 2)
                                        for m in methods])
    out += _table(["family", "cv", "n"] + list(methods), lines)
    check = [r for r in rows if r["cv"] == "1.00" and r["n"] in (3, 10)]
    if {r["mean"] for r in check} - {"10.0"}:
        out += ["## T3. Scale check: coverage (%) with means 5, 10 and 20 years (cv 1)", ""]
        lines = []
        for (family, n, mean), group in sorted(_group(check, ("family", "n", "mean")).items(),
                                               key=lambda item: (item[0][0], item[0][1], float(item[0][2]))):
            by_method = {r["method"]: r for r in group}
            lines.append([family, n, mean] + [_pct(by_method[m]["coverage"]) for m in methods])
        out += _table(["family", "n", "mean"] + list(methods), lines)
    return out
