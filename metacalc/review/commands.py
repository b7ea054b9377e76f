"""CLI of the review pipeline: `metacalc analyse`, `metacalc figures`, `metacalc report`, `metacalc synthesize`.

Each command is one workflow step (one Snakemake rule); imports happen inside the handlers so that
`metacalc --help` and the other commands do not pay for the scientific stack.
"""


def register(subparsers):
    analyse = subparsers.add_parser(
        "analyse",
        help="run the analysis plan on a validated dataset",
        description="Fit every analysis in the plan directory (analyses/*.yaml) on the dataset written by "
        "`metacalc validate --output`, check the PRISMA records log, and write results.json, one CSV per "
        "analysis and excluded_rows.csv to OUTDIR. Nothing is written when the plan or the log has problems.",
    )
    analyse.add_argument("dataset", metavar="DATASET_JSON")
    analyse.add_argument("--plan", default="analyses", help="directory of analysis files (default: analyses)")
    analyse.add_argument("--outdir", default="reports/tables", help="output directory (default: reports/tables)")
    analyse.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")
    analyse.add_argument(
        "--method", default="auto", choices=["auto", "exact", "glmm", "iv"],
        help="pooling method for analyses whose method is 'default' (default: auto)",
    )
    analyse.add_argument("--measure", default="PLO", choices=["PLO", "PR", "PAS", "PFT"],
                         help="transformation for --method iv (default: PLO)")
    analyse.add_argument("--tau2", default="REML", choices=["DL", "REML", "ML", "PM", "HE", "SJ"],
                         help="tau^2 estimator for inverse-variance models (default: REML)")
    analyse.add_argument("--knha", action="store_true", help="Hartung-Knapp adjustment for inverse-variance models")
    analyse.add_argument(
        "--history", metavar="FILE",
        help="copy of the last run's results.json, for 'what changed since the last run' (updated after the run)",
    )
    analyse.add_argument("--jobs", type=int, default=1,
                         help="fit the analyses in this many worker processes (default: 1; results do not change)")
    analyse.add_argument(
        "--sheets", metavar="DIR",
        help="validate these extraction sheets first and write the dataset to DATASET_JSON (what `metacalc "
        "validate --output` does), in the same process",
    )
    analyse.add_argument(
        "--figures", metavar="DIR",
        help="draw the figures into DIR afterwards (what `metacalc figures` does), in the same process",
    )
    _figure_options(analyse)
    analyse.set_defaults(handler=run_analyse)

    figures = subparsers.add_parser(
        "figures", help="draw every figure of the report",
        description="Draw the forest plots, the overview, time to onset, the PRISMA flow diagram and the "
        "risk-of-bias plots from results.json (and the dataset) as SVG (and PNG) into OUTDIR.",
    )
    figures.add_argument("results", metavar="RESULTS_JSON")
    figures.add_argument("--dataset", required=True, metavar="DATASET_JSON")
    figures.add_argument("--outdir", default="reports/figures")
    _figure_options(figures)
    figures.set_defaults(handler=run_figures)

    report = subparsers.add_parser(
        "report", help="render the review report (one self-contained HTML file)",
        description="Render reports/index.html from results.json, the dataset and the figures: inline SVG and "
        "CSS, no JavaScript, nothing loaded from the network.",
    )
    report.add_argument("results", metavar="RESULTS_JSON")
    report.add_argument("--dataset", required=True, metavar="DATASET_JSON")
    report.add_argument("--figures", default="reports/figures", metavar="DIR")
    report.add_argument("--output", default="reports/index.html")
    report.add_argument("--title", default=None, help="title of the review (default: from the data)")
    report.set_defaults(handler=run_report)

    synthesize = subparsers.add_parser(
        "synthesize", help="write a synthetic review (for scale tests)",
        description="Write a valid synthetic review (every extraction table, quotes and records log included) "
        "with the given number of patients and therapies, reproducibly from a seed.",
    )
    synthesize.add_argument("outdir", metavar="OUTDIR")
    synthesize.add_argument("--patients", type=int, default=10000)
    synthesize.add_argument("--therapies", type=int, default=50)
    synthesize.add_argument("--seed", type=int, default=1)
    synthesize.set_defaults(handler=run_synthesize)


def _figure_options(parser):
    parser.add_argument("--png", action="store_true", help="also write PNG files")
    parser.add_argument("--palette", default="colourblind", choices=["colourblind", "cochrane"],
                        help="colours of the risk-of-bias plots: colourblind (Okabe-Ito, default) or cochrane (robvis)")
    parser.add_argument("--max-rows", type=int, default=60,
                        help="largest number of rows (reports or patients) a figure is drawn with (default: 60)")


def _draw(args, results, outdir):
    from metacalc.errors import UserError
    from metacalc.review.figures import render_figures

    if args.max_rows < 1:
        raise UserError([f"--max-rows: got {args.max_rows}, expected at least 1"])
    return render_figures(results, args.dataset, outdir, png=args.png, palette=args.palette,
                          max_rows=args.max_rows)


def run_analyse(args):
    from metacalc.errors import UserError
    from metacalc.review.analyse import RunSettings, analyse

    if not 0 < args.level < 1:
        raise UserError([f"--level: got {args.level}, expected a number between 0 and 1 (e.g. 0.95)"])
    run = RunSettings(level=args.level, method=args.method, measure=args.measure, tau2_method=args.tau2,
                      knha=args.knha)
    if args.jobs < 1:
        raise UserError([f"--jobs: got {args.jobs}, expected at least 1"])
    # The workflow runs validation, analyses and figures in this one process: each Python process that imports
    # the scientific stack costs about a second, more than the work itself on a review of case reports.
    if args.sheets:
        from metacalc.data import load_dataset

        load_dataset(args.sheets).to_json(args.dataset)
        print(f"dataset written to {args.dataset}")
    written = analyse(args.dataset, args.plan, args.outdir, run=run, history=args.history, jobs=args.jobs)
    print(f"{len(written)} files written to {args.outdir}")
    if args.figures:
        import os

        drawn = _draw(args, os.path.join(args.outdir, "results.json"), args.figures)
        print(f"{len(drawn)} figures written to {args.figures}")
    return 0


def run_figures(args):
    written = _draw(args, args.results, args.outdir)
    print(f"{len(written)} figures written to {args.outdir}")
    return 0


def run_report(args):
    from metacalc.review.report import render_report

    render_report(args.results, args.dataset, args.figures, args.output, title=args.title)
    print(f"report written to {args.output}")
    return 0


def run_synthesize(args):
    from metacalc.errors import UserError
    from metacalc.review.synthetic import write_synthetic_review

    problems = []
    if args.patients < 1:
        problems.append(f"--patients: got {args.patients}, expected at least 1")
    if args.therapies < 1:
        problems.append(f"--therapies: got {args.therapies}, expected at least 1")
    if problems:
        raise UserError(problems)
    summary = write_synthetic_review(args.outdir, patients=args.patients, therapies=args.therapies, seed=args.seed)
    print(summary)
    return 0
