"""CLI of the review's steps: ``metacalc analyse``, ``metacalc figures``, ``metacalc report``, ``metacalc
synthesize``.

Each of the first three is a step of the workflow (a Snakemake rule calls ``analyse`` and ``report``); the
handlers only turn options into settings and call ``metacalc.pipeline``. Imports happen inside the handlers,
so that ``metacalc --help`` and the other commands do not pay for the scientific stack.
"""

from __future__ import annotations

import argparse
from typing import Any

from metacalc.meta.options import MEASURES, PROPORTION_METHODS, TAU2_METHODS
from metacalc.errors import UserError
from metacalc.render.figures import FigureOptions
from metacalc.render.risk_of_bias import PALETTES
from metacalc.render.style import DPI_CHOICES, FORMATS
from metacalc.review.settings import RunSettings

DEFAULTS = RunSettings()
FIGURE_DEFAULTS = FigureOptions()


def register(subparsers: Any) -> None:
    _register_analyse(subparsers)
    figures = subparsers.add_parser(
        "figures", help="draw every figure of the report",
        description="Draw the forest plots, the overview, time to onset, the PRISMA flow diagram and the "
        "risk-of-bias plots from results.json into OUTDIR, as SVG, PDF and PNG sized for a journal column.",
    )
    _results_arguments(figures)
    figures.add_argument("--outdir", default="reports/figures")
    figures.add_argument("--jobs", type=int, default=1,
                         help="write the figures' files in this many worker processes (default: 1; the files do "
                              "not change)")
    _figure_options(figures)
    figures.set_defaults(handler=run_figures)

    report = subparsers.add_parser(
        "report", help="render the review report (one self-contained HTML file)",
        description="Render reports/index.html from results.json and the figures: inline SVG and CSS, no "
        "JavaScript, nothing loaded from the network; the provenance of every pooled number as provenance.csv "
        "beside it, and the report's numbered tables in manuscript_tables/ (a CSV per table, tables.xlsx, "
        "tables.docx).",
    )
    _results_arguments(report)
    report.add_argument("--figures", default="reports/figures", metavar="DIR")
    report.add_argument("--output", default="reports/index.html")
    report.add_argument("--title", default=None, help="title of the review (default: the review file's title)")
    report.add_argument("--provenance-inline-max", type=int, default=None, metavar="ROWS",
                        help="largest number of provenance rows shown inline in the report (beyond it, the report "
                             "links to provenance.csv; default 5000)")
    report.set_defaults(handler=run_report)

    synthesize = subparsers.add_parser(
        "synthesize", help="write a synthetic review folder (for scale tests)",
        description="Write a new review folder (as `metacalc init` does) holding a valid synthetic review: its "
        "review file, every extraction table (quotes and records log included) and a source document per "
        "report, with the given number of patients and therapies, reproducibly from a seed.",
    )
    synthesize.add_argument("outdir", metavar="OUTDIR")
    synthesize.add_argument("--patients", type=int, default=10000)
    synthesize.add_argument("--therapies", type=int, default=50)
    synthesize.add_argument("--seed", type=int, default=1)
    synthesize.set_defaults(handler=run_synthesize)


def _results_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS_JSON")


def _register_analyse(subparsers: Any) -> None:
    analyse = subparsers.add_parser(
        "analyse",
        help="run the analysis plan on a validated dataset",
        description="Fit every analysis in the plan directory (analyses/*.yaml) on the dataset written by "
        "`metacalc validate --output` (or validate --sheets first), and write results.json, one CSV per "
        "analysis and excluded_rows.csv to OUTDIR. Nothing is written when the sheets or the plan have problems.",
    )
    analyse.add_argument("dataset", metavar="DATASET_JSON")
    analyse.add_argument("--plan", default="analyses", help="directory of analysis files (default: analyses)")
    analyse.add_argument("--outdir", default="reports/tables", help="output directory (default: reports/tables)")
    analyse.add_argument("--level", type=float, default=DEFAULTS.level,
                         help=f"confidence level (default: {DEFAULTS.level})")
    analyse.add_argument("--method", default=DEFAULTS.method, choices=PROPORTION_METHODS, metavar="METHOD",
                         help="pooling method for analyses whose method is 'default': one of %(choices)s "
                              "(default: %(default)s)")
    analyse.add_argument("--measure", default=DEFAULTS.measure, choices=MEASURES, metavar="MEASURE",
                         help="transformation for --method iv: one of %(choices)s (default: %(default)s)")
    analyse.add_argument("--tau2", default=DEFAULTS.tau2_method, choices=TAU2_METHODS, metavar="ESTIMATOR",
                         help="tau^2 estimator for inverse-variance models: one of %(choices)s (default: %(default)s)")
    analyse.add_argument("--knha", action="store_true", default=DEFAULTS.knha,
                         help="Hartung-Knapp adjustment for inverse-variance models")
    analyse.add_argument(
        "--releases", metavar="DIR",
        help="the review's named versions (releases/, written by `metacalc release`): the report's changes compare "
             "with the latest of them",
    )
    analyse.add_argument("--strict", action="store_true",
                         help="refuse to run while a pair of patients that is likely one patient is undecided "
                              "(what `metacalc validate --strict` refuses); nothing is written")
    analyse.add_argument("--jobs", type=int, default=1,
                         help="fit the analyses and write the figures in this many worker processes, and bound the "
                              "duplicate screen in as many threads (default: 1; results do not change)")
    analyse.add_argument(
        "--sheets", metavar="PATH",
        help="validate this review (a review folder, or its sheets) first and write the dataset to DATASET_JSON "
        "(what `metacalc validate --output` does), in the same process",
    )
    analyse.add_argument("--review", metavar="REVIEW_YAML",
                         help="with --sheets: the review file (default: review.yaml of the folder, or beside the sheets)")
    analyse.add_argument("--sources", metavar="DIR",
                         help="with --sheets: the source documents (default: sources/ of the folder, or beside the sheets)")
    analyse.add_argument(
        "--figures", metavar="DIR",
        help="draw the figures into DIR afterwards (what `metacalc figures` does), in the same process",
    )
    _figure_options(analyse)
    analyse.set_defaults(handler=run_analyse)


def _figure_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--formats", default=",".join(FIGURE_DEFAULTS.formats), metavar="LIST",
                        help=f"formats of every figure, comma-separated, some of {','.join(FORMATS)}; svg is always "
                             "needed (the report embeds it) (default: %(default)s)")
    parser.add_argument("--dpi", type=int, default=FIGURE_DEFAULTS.dpi, metavar="DPI",
                        help=f"resolution of the PNG files: {' or '.join(map(str, DPI_CHOICES))} (default: %(default)s)")
    parser.add_argument("--width", default=FIGURE_DEFAULTS.width, metavar="COLUMN",
                        help="journal column the figures are drawn for: single (3.35 in, 85 mm) or double "
                             "(6.9 in, 175 mm); every text is at least 7 pt at that size (default: %(default)s)")
    parser.add_argument("--palette", default=FIGURE_DEFAULTS.palette, choices=tuple(PALETTES),
                        help="colours of the risk-of-bias plots: colourblind (Okabe-Ito) or cochrane (robvis) "
                             "(default: %(default)s)")
    parser.add_argument("--max-rows", type=int, default=FIGURE_DEFAULTS.max_rows,
                        help="largest number of rows (reports or patients) a figure is drawn with "
                             "(default: %(default)s)")


def _figure_settings(args: argparse.Namespace) -> FigureOptions:
    formats = tuple(fmt.strip().lower() for fmt in args.formats.split(",") if fmt.strip())
    options = FigureOptions(formats=formats, dpi=args.dpi, width=args.width, palette=args.palette,
                            max_rows=args.max_rows)
    if options.problems():
        raise UserError(options.problems())
    return options


def run_analyse(args: argparse.Namespace) -> int:
    from metacalc.pipeline import analyse

    problems = []
    if not 0 < args.level < 1:
        problems.append(f"--level: got {args.level}, expected a number between 0 and 1 (e.g. 0.95)")
    if args.jobs < 1:
        problems.append(f"--jobs: got {args.jobs}, expected at least 1")
    if problems:
        raise UserError(problems)
    run = RunSettings(level=args.level, method=args.method, measure=args.measure, tau2_method=args.tau2,
                      knha=args.knha)
    options = _figure_settings(args)
    written = analyse(args.dataset, args.plan, args.outdir, sheets=args.sheets, review_file=args.review,
                      sources=args.sources, run=run, releases=args.releases, jobs=args.jobs, strict=args.strict,
                      figures_dir=args.figures, figure_options=options)
    if args.sheets:
        print(f"dataset written to {args.dataset}")
    print(f"{len(written.tables)} files written to {args.outdir}")
    if args.figures:
        print(f"{len(written.figures)} figures written to {args.figures}")
    return 0


def run_figures(args: argparse.Namespace) -> int:
    from metacalc.render.figures import render_figures
    from metacalc.review.results_io import read_results

    if args.jobs < 1:
        raise UserError([f"--jobs: got {args.jobs}, expected at least 1"])
    options = _figure_settings(args)
    written = render_figures(read_results(args.results), args.outdir, options, jobs=args.jobs)
    print(f"{len(written)} figures written to {args.outdir}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from metacalc.pipeline import report

    report(args.results, args.figures, args.output, title=args.title,
           provenance_inline_max=args.provenance_inline_max)
    print(f"report written to {args.output}")
    return 0


def run_synthesize(args: argparse.Namespace) -> int:
    from metacalc.review.synthetic import REVIEW, write_synthetic_review
    from metacalc.workflow.new_review import init_review

    problems = []
    if args.patients < 1:
        problems.append(f"--patients: got {args.patients}, expected at least 1")
    if args.therapies < 1:
        problems.append(f"--therapies: got {args.therapies}, expected at least 1")
    if problems:
        raise UserError(problems)
    counts = []
    init_review(args.outdir, str(REVIEW["title"]), fill=lambda folder: counts.append(write_synthetic_review(
        folder, patients=args.patients, therapies=args.therapies, seed=args.seed)))
    print(f"synthetic review written to {args.outdir}: {counts[0]}")
    return 0
