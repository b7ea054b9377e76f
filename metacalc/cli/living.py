"""CLI of a living review's updates: ``metacalc release NAME`` (a named version, what the report's changes
compare with) and ``metacalc status`` (what is left to do).

Both take the review folder (``--review DIR`` / ``DIR``, default the current folder) and read its config.yaml as
the workflow does, so a release holds the numbers the workflow's report shows.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    release = subparsers.add_parser(
        "release", help="record the review's current results as a named version",
        description="Validate and analyse the review (with the settings of its config.yaml, as the workflow does) "
                    "and write releases/NAME/release.json inside the review folder, to commit with the review: the "
                    "hash of every input file, the reports and patients by label, the PRISMA counts and every "
                    "analysis' numbers. The report's 'Changes since version NAME' compares with the latest release. "
                    "No date or time is written unless given as --label; a release of an existing name replaces it "
                    "and becomes the latest.")
    release.add_argument("name", metavar="NAME", help="the version's name, a folder name (e.g. v1, living)")
    release.add_argument("--review", default=".", metavar="DIR", help="the review folder (default: the current one)")
    release.add_argument("--label", default=None,
                         help="a free text kept with the version (e.g. 'searches to March 2027')")
    release.set_defaults(handler=run_release)

    status = subparsers.add_parser(
        "status", help="list what is left to do in a review",
        description="List, with FILE:ROW:COLUMN, what is incomplete in a review in progress: records to screen, "
                    "included reports without patients, patients without treatments, values without quotes, "
                    "reports not appraised, undecided duplicate pairs (and how many problems validation finds). "
                    "Exit 0: it is a to-do list; with --check, exit 1 while anything is left.")
    status.add_argument("path", nargs="?", default=".", metavar="DIR",
                        help="a review folder, or its sheets (default: the current folder)")
    status.add_argument("--check", action="store_true", help="exit 1 while anything is left to do")
    status.set_defaults(handler=run_status)


def run_release(args: argparse.Namespace) -> int:
    import os

    from metacalc.data.dataset import load_dataset
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate
    from metacalc.review.plan import load_plan
    from metacalc.review.release import check_name, review_inputs, write_release
    from metacalc.review.run import analyse_review
    from metacalc.review.settings import RunSettings
    from metacalc.workflow import review_config

    check_name(args.name)
    config = review_config(args.review)
    located = locate(config["sheets"], config["review"] if os.path.isfile(config["review"]) else None,
                     config["sources"])
    review = load_review(located.review_file)
    analyses = load_plan(config["analyses"], review)
    dataset = load_dataset(located.sheets, review=review, sources=located.sources)
    run = RunSettings(level=config["level"], method=config["method"], measure=config["measure"],
                      tau2_method=config["tau2_method"], knha=config["knha"])
    results = analyse_review(dataset, analyses, run)
    files = review_inputs(args.review, located.review_file, located.sheets, located.sources, config["analyses"])
    path, document = write_release(config["releases"], results, args.name, files, args.label)
    print(f"release {args.name} written to {path}: {len(document['reports'])} reports, "
          f"{len(document['patients'])} patients, {len(files)} input files (sha256 {document['inputs']['sha256'][:12]})")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from metacalc.review.status import review_status

    status = review_status(args.path)
    for line in status.lines():
        print(line)
    return 1 if args.check and not status.done else 0
