"""CLI of a review folder: ``metacalc init DIR --title "..."`` (a new, empty review) and ``metacalc check [DIR]``
(the review's results against its expected findings)."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(subparsers: Any) -> None:
    init = subparsers.add_parser(
        "init", help="start a new review in its own folder",
        description="Write a new, empty review into DIR: review.yaml (its words, fields, categories, published "
                    "figures), extraction_sheets/ (CSV header rows and their dictionary), extraction_template.xlsx, "
                    "a neutral analysis plan, config.yaml, sources/ for the full texts, expected_findings.yaml and "
                    "a Snakefile that uses the workflow shipped with metacalc (Snakemake's module directive). "
                    "Then: cd DIR && snakemake")
    init.add_argument("folder", metavar="DIR", help="the new review's folder (absent, or empty)")
    init.add_argument("--title", required=True, help="the review's title (a colon is fine; quote it in the shell)")
    init.set_defaults(handler=run_init)

    check = subparsers.add_parser(
        "check", help="compare a review's results with its expected findings",
        description="Validate and analyse the review in DIR (as its workflow would, with the settings of its "
                    "config.yaml; nothing is written), or read --results, and compare the numbers with the "
                    "review's expected_findings.yaml. Lists every finding that differs, located in that file, and "
                    "exits 1; prints what was checked otherwise.")
    check.add_argument("folder", nargs="?", default=".", metavar="DIR", help="the review folder (default: .)")
    check.add_argument("--results", metavar="RESULTS_JSON",
                       help="check these results (reports/tables/results.json) instead of analysing the review")
    check.add_argument("--expectations", metavar="FILE",
                       help="the expected findings (default: DIR/expected_findings.yaml)")
    check.set_defaults(handler=run_check)


def run_init(args: argparse.Namespace) -> int:
    from metacalc.workflow.new_review import init_review

    written = init_review(args.folder, args.title)
    print(f"new review written to {args.folder} ({len(written)} files): fill review.yaml, the sheets and sources/, "
          f"then: cd {args.folder} && snakemake")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from metacalc.errors import UserError
    from metacalc.review.expectations import EXPECTATIONS_FILE, check_results, load_expectations, passed_lines

    path = args.expectations or os.path.join(args.folder, EXPECTATIONS_FILE)
    expectations = load_expectations(path)
    results = _results(args)
    outcomes = check_results(results, expectations, os.path.normpath(path))
    failed = [o.line() for o in outcomes if o.problem]
    if failed:
        raise UserError(failed + [f"{len(failed)} of {len(outcomes)} expected findings differ: update the review's "
                                  f"data, or {path} when the change is right"])
    for line in passed_lines(outcomes):
        print(line)
    print(f"{len(outcomes)} expected values, all as expected")
    return 0


def _results(args: argparse.Namespace) -> Any:
    from metacalc.data.dataset import load_dataset
    from metacalc.data.review_file import load_review
    from metacalc.review.plan import load_plan
    from metacalc.review.results_io import read_results
    from metacalc.review.run import analyse_review
    from metacalc.review.settings import RunSettings
    from metacalc.workflow import review_config

    if args.results:
        return read_results(args.results)
    config = review_config(args.folder)
    review = load_review(config["review"])
    analyses = load_plan(config["analyses"], review)
    dataset = load_dataset(config["sheets"], review=review, sources=config["sources"])
    run = RunSettings(level=config["level"], method=config["method"], measure=config["measure"],
                      tau2_method=config["tau2_method"], knha=config["knha"])
    return analyse_review(dataset, analyses, run)
