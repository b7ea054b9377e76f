"""CLI of the data layer: `metacalc validate [PATH] [--output dataset.json]` and `metacalc template OUT.xlsx`.

PATH is a review folder (it holds review.yaml; its sheets are extraction_sheets/, its source texts sources/),
or the sheets themselves (a folder of CSV files or a workbook), whose review file and sources are beside them.
"""

from __future__ import annotations

import argparse
from typing import Any

from metacalc.data.problems import PER_COLUMN


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate", help="check a review's data and list every problem",
        description="Check a review: its review file, its extraction sheets (CSV files or an .xlsx workbook) "
                    "against the review's schema, the records log, the appraisal, and every quote against the "
                    "source document it cites. On success print a summary; on failure list every problem as "
                    "FILE:ROW:COLUMN: message and exit 1.")
    validate.add_argument("path", nargs="?", default=".", metavar="PATH",
                          help="a review folder (with review.yaml), or its sheets: a directory of CSV files, a "
                               "directory with one .xlsx, or an .xlsx file (default: the current folder)")
    _review_options(validate)
    validate.add_argument("--output", "-o", metavar="DATASET_JSON",
                          help="write the validated dataset, with derived columns, as JSON")
    validate.add_argument("--per-column", type=_count, default=PER_COLUMN, metavar="N",
                          help=f"list the first N problems of each column of a file, and count the others (default: "
                               f"{PER_COLUMN}; 0: list every problem)")
    validate.add_argument("--strict", action="store_true",
                          help="also refuse pairs of patients of different reports that are likely one patient, "
                               "until the reviewer decides (studies.duplicate_of, or a duplicate_decisions row)")
    validate.set_defaults(handler=run_validate)

    template = subparsers.add_parser(
        "template", help="write an empty Excel extraction template of a review",
        description="Write an empty .xlsx template of a review: a README sheet with the data dictionary, one "
                    "sheet per table with its header row (a comment and an input prompt on every column), "
                    "drop-down lists for enumerated columns, therapies and ids of other sheets.")
    template.add_argument("output", metavar="OUT.xlsx")
    template.add_argument("--review", metavar="REVIEW_YAML",
                          help="the review file whose fields, categories and vocabulary the template has (default: "
                               "review.yaml of the current folder, when there is one)")
    template.set_defaults(handler=run_template)


def _review_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--review", metavar="REVIEW_YAML",
                        help="the review file (default: review.yaml of the review folder, or beside the sheets)")
    parser.add_argument("--sources", metavar="DIR",
                        help="the folder of source documents the quotes are found in (default: sources/ of the "
                             "review folder, or beside the sheets)")


def run_validate(args: argparse.Namespace) -> int:
    from metacalc.data.dataset import load_dataset
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate

    located = locate(args.path, args.review, args.sources)
    dataset = load_dataset(located.sheets, review=load_review(located.review_file), sources=located.sources,
                           per_column=args.per_column or None)
    if args.strict:
        from metacalc.errors import UserError
        from metacalc.review.duplicates import duplicate_screen, undecided_pairs
        from metacalc.review.tables import ReviewTables

        tables = ReviewTables.of(dataset)
        problems = undecided_pairs(tables, duplicate_screen(tables), dataset.source)
        if problems:
            raise UserError(problems)
    if args.output:
        dataset.to_json(args.output)
    for line in dataset.summary():
        print(line)
    if args.output:
        print(f"dataset written to {args.output}")
    return 0


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number of 0 or more (got {text!r})")
    return int(text)


def run_template(args: argparse.Namespace) -> int:
    from metacalc.data.review_file import find_review, load_review
    from metacalc.data.template import write_template
    from metacalc.errors import UserError

    if not args.output.lower().endswith(".xlsx"):
        raise UserError([f"{args.output}: not an .xlsx name (expected OUT.xlsx)"])
    write_template(args.output, load_review(args.review or find_review(".")))
    print(f"template written to {args.output}")
    return 0
