"""CLI of the data layer: `metacalc validate [DIR] [--output dataset.json]` and `metacalc template OUT.xlsx`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    validate = subparsers.add_parser(
        "validate", help="check the extraction sheets and list every problem",
        description="Check extraction sheets (a directory of CSV files, or an .xlsx workbook). On success print a "
                    "summary; on failure list every problem as FILE:ROW:COLUMN: message and exit 1.")
    validate.add_argument("sheets", nargs="?", default="extraction_sheets",
                          help="directory of CSV files, a directory with one .xlsx, or an .xlsx file (default: extraction_sheets)")
    validate.add_argument("--output", "-o", metavar="DATASET_JSON",
                          help="write the validated dataset, with derived columns, as JSON")
    validate.set_defaults(handler=run_validate)

    template = subparsers.add_parser(
        "template", help="write an empty Excel extraction template",
        description="Write an empty .xlsx template: a README sheet with the data dictionary, one sheet per table "
                    "with its header row, drop-down lists on enumerated columns.")
    template.add_argument("output", metavar="OUT.xlsx")
    template.set_defaults(handler=run_template)


def run_validate(args: argparse.Namespace) -> int:
    from metacalc.data.dataset import load_dataset

    dataset = load_dataset(args.sheets)
    if args.output:
        dataset.to_json(args.output)
    for line in dataset.summary():
        print(line)
    if args.output:
        print(f"dataset written to {args.output}")
    return 0


def run_template(args: argparse.Namespace) -> int:
    from metacalc.data.template import write_template
    from metacalc.errors import UserError

    if not args.output.lower().endswith(".xlsx"):
        raise UserError([f"{args.output}: not an .xlsx name (expected OUT.xlsx)"])
    write_template(args.output)
    print(f"template written to {args.output}")
    return 0
