"""``metacalc meta proportions|means FILE``: pool a table of studies without the review workflow.

FILE is a CSV file or an .xlsx workbook (first sheet), one row per study; options name its columns. Every
problem in the file is reported at once, one line each, as ``FILE:ROW:COLUMN: what is wrong`` (ROW counts the
header as row 1, like a spreadsheet). With ``--by`` every group is one analysis, and all of them are fitted
together by the core's batch engines (``pool_proportions_many``, ``pool_means_many``): a group gives the numbers
it gives alone. The core's refusals (``ValueError`` subclasses) become located messages here. Heavy libraries
are imported inside the handlers: ``metacalc --help`` must stay fast.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from typing import Any

from metacalc.data.problems import Problem, sorted_lines
from metacalc.errors import UserError
from metacalc.files import write_atomic
from metacalc.meta.options import CORRECTIONS, MEASURES, PROPORTION_METHODS, TAU2_METHODS, ProportionSettings

PROPORTIONS = ProportionSettings()  # the core's defaults
# The command line offers the random-effects estimators; a common-effect model is not what case data need.
CLI_TAU2_METHODS = tuple(method for method in TAU2_METHODS if method != "FE")
QUANTILE_OPTIONS = ("median", "q1", "q3", "min", "max")


def register(subparsers: Any) -> None:
    meta = subparsers.add_parser(
        "meta",
        help="pool proportions or means from a table of studies (CSV or XLSX)",
        description="Pool a table of studies (one row per study) without running the review workflow.",
    )
    analyses = meta.add_subparsers(dest="meta_analysis", metavar="ANALYSIS")

    proportions = analyses.add_parser(
        "proportions",
        help="pool response rates (events out of totals)",
        description="Pool proportions: pooled count with an exact interval, binomial-normal GLMM, or "
        "inverse-variance random effects on a transformed proportion.",
    )
    _add_common(proportions)
    proportions.add_argument("--events", required=True, metavar="COL", help="column with the number of events")
    proportions.add_argument("--total", required=True, metavar="COL", help="column with the number of patients")
    proportions.add_argument("--method", choices=PROPORTION_METHODS, default=PROPORTIONS.method,
                             help="auto (default): pooled count when every study has one patient, else GLMM")
    proportions.add_argument("--measure", choices=MEASURES, default=PROPORTIONS.measure,
                             help=f"scale of the inverse-variance model (default {PROPORTIONS.measure}, the logit)")
    proportions.add_argument("--cc", choices=CORRECTIONS, default=PROPORTIONS.cc,
                             help=f"continuity correction of 0.5, with metafor's semantics (default {PROPORTIONS.cc})")
    proportions.set_defaults(handler=run_proportions)

    means = analyses.add_parser(
        "means",
        help="pool means (e.g. years from diagnosis to onset)",
        description="Pool study means by inverse-variance random effects (metafor's measure MN).",
    )
    _add_common(means)
    means.add_argument("--mean", required=True, metavar="COL", help="column with each study's mean")
    means.add_argument("--sd", required=True, metavar="COL", help="column with each study's standard deviation")
    means.add_argument("--n", required=True, metavar="COL", help="column with each study's number of patients")
    for name, what in (("median", "median"), ("q1", "first quartile"), ("q3", "third quartile"),
                       ("min", "minimum"), ("max", "maximum")):
        means.add_argument(f"--{name}", metavar="COL",
                           help=f"column with the {what}: rows without mean/SD get them estimated from the "
                           "median with range and/or quartiles (Luo 2018 mean, Wan 2014 SD)")
    means.set_defaults(handler=run_means)

    meta.set_defaults(handler=lambda args: _print_help(meta))


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="CSV file or .xlsx workbook (first sheet), one row per study")
    parser.add_argument("--study", metavar="COL", help="column with study labels (default: row numbers)")
    parser.add_argument("--by", metavar="COL", help="fit one analysis per value of this column")
    parser.add_argument("--tau2", choices=CLI_TAU2_METHODS, default=PROPORTIONS.tau2_method,
                        help=f"between-study variance estimator (default {PROPORTIONS.tau2_method})")
    parser.add_argument("--knha", action="store_true", help="Hartung-Knapp adjustment of the pooled interval")
    parser.add_argument("--level", type=_level, default=PROPORTIONS.level,
                        help=f"confidence level (default {PROPORTIONS.level})")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    parser.add_argument("--indent", type=_indent, metavar="N",
                        help="indent JSON by N spaces for reading (default: compact, one line)")
    parser.add_argument("--output", metavar="PATH", help="write to this file (atomically) instead of stdout")


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {text})")
    return value


def _indent(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of spaces: {text!r}")
    return int(text)


# ----------------------------------------------------------------------------------------------------------------
# Reading the table
# ----------------------------------------------------------------------------------------------------------------


class Table:
    """The file's cells as stripped text, column by column, with each row's spreadsheet row number (header = 1)."""

    def __init__(self, path: str, columns: dict[str, list[str]], row_numbers: list[int]):
        self.path = path
        self.columns = columns
        self.row_numbers = row_numbers

    def __len__(self) -> int:
        return len(self.row_numbers)


def read_table(path: str) -> Table:
    """Read FILE (CSV, or the first sheet of an .xlsx workbook) with the reader the extraction sheets use."""
    from metacalc.data.reader import read_table as read

    name = str(path)
    table, problems = read(name)
    if problems or table is None:
        raise UserError(sorted_lines(problems))
    header = list(table.header)
    messages = []
    if "" in header:
        messages.append(f"{table.file}:1: the header has an empty column name (column {header.index('') + 1})")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        messages.append(f"{table.file}:1: duplicate column names: {', '.join(duplicates)}")
    if messages:
        raise UserError(messages)
    if not table.rows:
        raise UserError(f"{table.file}: no data rows (the file has only a header)")
    columns = {column: ["" if cell is None else cell for cell in table.column(column)] for column in header}
    return Table(table.file, columns, list(table.row_numbers))


def _check_columns(table: Table, wanted: Sequence[tuple[str, str | None]]) -> None:
    missing = [f"{table.path}: no column {column!r} (given as {option}); the columns are: "
               f"{', '.join(table.columns)}"
               for option, column in wanted if column is not None and column not in table.columns]
    if missing:
        raise UserError(missing)


Problems = list[Problem]  # located; printed capped per column (metacalc.data.problems.sorted_lines)


def _numbers(table: Table, column: str | None, problems: Problems, whole: bool = False, minimum: float | None = None,
             above: float | None = None, blank_ok: bool = False) -> list[float | None]:
    """The column as floats (None where blank or a problem was recorded as ``(row, message)`` in ``problems``)."""
    texts = table.columns[column] if column is not None else [""] * len(table)
    fast = _numbers_fast(texts, whole, minimum, above)
    if fast is not None:
        return fast
    values: list[float | None] = []
    for text, number in zip(texts, table.row_numbers):
        where = (table.path, number, column or "")
        if text == "":
            if not blank_ok:
                problems.append(Problem(*where, "blank (a number is needed)"))
            values.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(Problem(*where, f"not a number (got {text!r})"))
            values.append(None)
            continue
        if not math.isfinite(value):
            problems.append(Problem(*where, f"not a finite number (got {text!r})"))
            values.append(None)
        elif whole and not value.is_integer():
            problems.append(Problem(*where, f"not a whole number (got {text})"))
            values.append(None)
        elif minimum is not None and value < minimum:
            problems.append(Problem(*where, f"must be at least {minimum:g} (got {text})"))
            values.append(None)
        elif above is not None and value <= above:
            problems.append(Problem(*where, f"must be above {above:g} (got {text})"))
            values.append(None)
        else:
            values.append(value)
    return values


def _numbers_fast(texts: list[str], whole: bool, minimum: float | None, above: float | None) -> list[float | None] | None:
    """The whole column at once when every cell is a good number (the usual case), else None (then each cell is
    checked on its own, to say which are wrong)."""
    import numpy as np

    try:
        values = np.array([float(text) for text in texts])
    except ValueError:
        return None
    ok = np.isfinite(values)
    if whole:
        ok &= values == np.round(values)
    if minimum is not None:
        ok &= values >= minimum
    if above is not None:
        ok &= values > above
    return values.tolist() if ok.all() else None


def _raise_problems(problems: Problems) -> None:
    """All problems at once, in row order (a stable sort keeps a row's columns in option order), the first of
    each column, then a count of the others."""
    if problems:
        raise UserError(sorted_lines(problems))


def _labels_and_groups(table: Table, study: str | None, by: str | None,
                       problems: Problems) -> tuple[list[str], list[str] | None]:
    if study is None:
        labels = [f"row {number}" for number in table.row_numbers]
    else:
        labels = [text or f"row {number}" for text, number in zip(table.columns[study], table.row_numbers)]
    groups = None
    if by is not None:
        groups = table.columns[by]
        for value, number in zip(groups, table.row_numbers):
            if value == "":
                problems.append(Problem(table.path, number, by, "blank (every row needs a group value for --by)"))
    return labels, groups


def _split(groups: list[str] | None, count: int) -> list[tuple[str | None, list[int]]]:
    """Row positions per analysis: one analysis, or one per group value in order of first appearance."""
    if groups is None:
        return [(None, list(range(count)))]
    order: dict[str, list[int]] = {}
    for position, value in enumerate(groups):
        order.setdefault(value, []).append(position)
    return list(order.items())


# ----------------------------------------------------------------------------------------------------------------
# Handlers
# ----------------------------------------------------------------------------------------------------------------


def run_proportions(args: argparse.Namespace) -> int:
    table = read_table(args.file)
    _check_columns(table, [("--events", args.events), ("--total", args.total), ("--study", args.study),
                           ("--by", args.by)])
    problems: Problems = []
    events = _numbers(table, args.events, problems, whole=True, minimum=0)
    totals = _numbers(table, args.total, problems, whole=True, minimum=1)
    for x, n, number in zip(events, totals, table.row_numbers):
        if x is not None and n is not None and x > n:
            problems.append(Problem(table.path, number, args.events, "more events than patients "
                                    f"(got {x:g} > {n:g} in {args.total!r})"))
    labels, groups = _labels_and_groups(table, args.study, args.by, problems)
    _raise_problems(problems)

    from metacalc.meta.proportions import pool_proportions_many

    analyses = _split(groups, len(table))
    results = _fitted(args, analyses, pool_proportions_many(
        _per_analysis(events, analyses), _per_analysis(totals, analyses),
        [[labels[i] for i in rows] for _, rows in analyses], method=args.method, measure=args.measure,
        tau2_method=args.tau2, knha=args.knha, cc=args.cc, level=args.level))
    return _emit(args, analyses, results, "proportions")


def run_means(args: argparse.Namespace) -> int:
    table = read_table(args.file)
    quantile_columns = {name: getattr(args, name) for name in QUANTILE_OPTIONS}
    _check_columns(table, [("--mean", args.mean), ("--sd", args.sd), ("--n", args.n), ("--study", args.study),
                           ("--by", args.by)] + [(f"--{name}", column) for name, column in quantile_columns.items()])
    estimating = any(column is not None for column in quantile_columns.values())
    problems: Problems = []
    # With quantile columns, a row may leave mean and SD blank when its median and range/quartiles are given.
    means = _numbers(table, args.mean, problems, blank_ok=estimating)
    sds = _numbers(table, args.sd, problems, above=0, blank_ok=estimating)
    ns = _numbers(table, args.n, problems, minimum=1)
    quantiles = {name: _numbers(table, column, problems, blank_ok=True) for name, column in quantile_columns.items()}
    labels, groups = _labels_and_groups(table, args.study, args.by, problems)
    estimated = _estimate_means(table, means, sds, ns, quantiles, problems) if estimating else {}
    _raise_problems(problems)

    from dataclasses import replace

    from metacalc.meta.means import pool_means_many

    analyses = _split(groups, len(table))
    results = _fitted(args, analyses, pool_means_many(
        _per_analysis(means, analyses), _per_analysis(sds, analyses), _per_analysis(ns, analyses),
        [[labels[i] for i in rows] for _, rows in analyses],
        tau2_method=args.tau2, knha=args.knha, level=args.level))
    for position, ((_, rows), result) in enumerate(zip(analyses, results)):
        notes = [f"{labels[i]}: mean and SD {estimated[i].source}" for i in rows if i in estimated]
        if notes:
            notes.append("Estimates from medians assume roughly normal data (Wan et al. 2014; Luo et al. 2018); "
                         "skewed times to onset make them less reliable.")
            results[position] = replace(result, warnings=result.warnings + tuple(notes))
    return _emit(args, analyses, results, "means")


def _per_analysis(values: list[float | None], analyses: list[tuple[str | None, list[int]]]) -> list[list[float]]:
    """A checked column split by analysis (no blanks are left once the problems have been raised)."""
    out = []
    for _, rows in analyses:
        part = [values[i] for i in rows]
        out.append([value for value in part if value is not None])
        assert len(out[-1]) == len(part), "a blank cell got past the checks"
    return out


def _estimate_means(table: Table, means: list[float | None], sds: list[float | None], ns: list[float | None],
                    quantiles: dict[str, list[float | None]], problems: Problems) -> dict[int, Any]:
    """Mean and SD from the median with range/quartiles for rows that lack them (filled in ``means``/``sds``)."""
    from metacalc.meta.quantiles import mean_sd_from_quantiles

    estimated = {}
    for i, number in enumerate(table.row_numbers):
        if (means[i] is not None and sds[i] is not None) or ns[i] is None:
            continue  # nothing to estimate, or n already reported
        given = {name: quantiles[name][i] for name in QUANTILE_OPTIONS}
        try:
            estimate = mean_sd_from_quantiles(n=ns[i], median=given["median"], min=given["min"], max=given["max"],
                                              q1=given["q1"], q3=given["q3"])
        except ValueError as error:
            problems.append(Problem(table.path, number, "", "no mean and SD, and they cannot be estimated "
                                    f"from the median and range/quartiles ({error})"))
            continue
        means[i], sds[i] = estimate.mean, estimate.sd
        estimated[i] = estimate
    return estimated


def _fitted(args: argparse.Namespace, analyses: list[tuple[str | None, list[int]]],
            results: Sequence[Any]) -> list[Any]:
    """The results, or one UserError naming every analysis the model refused (e.g. an estimator that does not
    converge): those are the user's to act on."""
    problems = []
    for (group, _), result in zip(analyses, results):
        if isinstance(result, ValueError):
            where = args.file if group is None else f"{args.file}: {args.by} = {group!r}"
            problems += [f"{where}: {problem}" for problem in getattr(result, "problems", [str(result)])]
    if problems:
        raise UserError(problems)
    return list(results)


def _emit(args: argparse.Namespace, analyses: list[tuple[str | None, list[int]]], results: list[Any],
          kind: str) -> int:
    if args.format == "json":
        if args.by is None:
            payload: Any = results[0].to_dict()
        else:
            payload = [{"by": group, **result.to_dict()} for (group, _), result in zip(analyses, results)]
        # compact by default: json's C encoder is used only without indent
        separators = None if args.indent is not None else (",", ":")
        text = json.dumps(payload, indent=args.indent, separators=separators, allow_nan=False,
                          ensure_ascii=False) + "\n"
    else:
        blocks = []
        for (group, _), result in zip(analyses, results):
            title = None if group is None else f"{args.by} = {group}"
            blocks.append(render_table(result.to_dict(), kind, title))
        text = "\n".join(blocks)
    if args.output:
        write_atomic(args.output, text)
    else:
        print(text, end="")
    return 0


# ----------------------------------------------------------------------------------------------------------------
# Table rendering
# ----------------------------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None, digits: int) -> str:
    if low is None and high is None:
        return "-"
    return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"


def _align(rows: list[list[str]], right: list[bool]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(width) if right[i] else cell.ljust(width) for i, (cell, width) in
                 enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_table(result: dict[str, Any], kind: str, title: str | None = None) -> str:
    """Readable aligned text: one row per study, the pooled row, prediction interval, heterogeneity."""
    level = f"{100 * result.get('level', 0.95):g}%"
    digits = 3 if kind == "proportions" else 2
    if kind == "proportions":
        header = ["study", "events", "total", "proportion", f"{level} CI", "weight"]
        rows = [[s["label"], str(s["events"]), str(s["total"]), _fmt(s["estimate"], digits),
                 _interval(s["ci_lower"], s["ci_upper"], digits),
                 "-" if s["weight"] is None else f"{s['weight']:.1f}%"] for s in result["studies"]]
        pooled = ["pooled", str(sum(s["events"] for s in result["studies"])),
                  str(sum(s["total"] for s in result["studies"])), _fmt(result["estimate"], digits)]
    else:
        header = ["study", "n", "mean", "sd", f"{level} CI", "weight"]
        rows = [[s["label"], f"{s['n']:g}", _fmt(s["mean"], digits), _fmt(s["sd"], digits),
                 _interval(s["ci_lower"], s["ci_upper"], digits),
                 "-" if s["weight"] is None else f"{s['weight']:.1f}%"] for s in result["studies"]]
        pooled = ["pooled", f"{sum(s['n'] for s in result['studies']):g}", _fmt(result["estimate"], digits), ""]
    weighted = any(s["weight"] is not None for s in result["studies"])
    pooled += [_interval(result["ci_lower"], result["ci_upper"], digits), "100.0%" if weighted else "-"]
    lines = _align([header] + rows + [pooled], right=[False, True, True, True, False, True])

    if result["method"] == "exact":
        model = "pooled count, exact interval"
    else:
        model = ", ".join(part for part in (result["method"], result.get("measure"), result.get("tau2_method"))
                          if part)
    if result.get("estimand") == "population average":
        model += ", population-average proportion"
    noun = "Pooled proportion" if kind == "proportions" else "Pooled mean"
    out = ([title] if title else []) + [f"{noun} ({model}), k = {result['k']}"] + lines
    if result.get("pi_lower") is not None or result.get("pi_upper") is not None:
        out.append(f"prediction interval: {_interval(result['pi_lower'], result['pi_upper'], digits)}")
    out.append("heterogeneity: " + _heterogeneity_line(result))
    if result.get("reason"):
        out.append(f"method: {result['reason']}")
    for warning in result.get("warnings", []):
        out.append(f"note: {warning}")
    return "\n".join(out) + "\n"


def _heterogeneity_line(result: dict[str, Any]) -> str:
    if result.get("tau2") is None:
        return str(result.get("nulls", {}).get("tau2", "not estimated"))
    tau2 = f"tau2 = {result['tau2']:.4g}"
    if result.get("tau2_ci"):
        # a bound beyond the end of the Q-profile search keeps metafor's sign (">100")
        signs = result.get("tau2_ci_censored") or ["", ""]
        low, high = ("-" if v is None else f"{sign}{v:.4g}" for sign, v in zip(signs, result["tau2_ci"]))
        tau2 += f" [{low}, {high}]"
    parts = [tau2]
    if result.get("i2") is not None:
        parts.append(f"I2 = {result['i2']:.1f}%")
    if result.get("h2") is not None:
        parts.append(f"H2 = {result['h2']:.2f}")
    glmm = result.get("method") == "glmm"
    for key, name in (("q", "Q (Wald)" if glmm else "Q"), ("q_lrt", "Q (LRT)")):
        if result.get(key) is not None:
            p = result.get(f"{key}_pvalue")
            parts.append(f"{name} = {result[key]:.2f} on {result['q_df']} df"
                         + ("" if p is None else (", p < 0.001" if p < 0.001 else f", p = {p:.3f}")))
    return ", ".join(parts)
