"""``metacalc init DIR --title "..."``: a new, empty review folder that runs as it is.

It holds the review file (neutral words, the default response categories, for the reviewer to fill), the
extraction sheets (CSV header rows of the review's effective schema, and their data dictionary), the Excel
template beside them (not inside: a workbook among the CSV files is read, and the two would conflict), a
neutral analysis plan, the workflow's config, a Snakefile that uses the workflow shipped with metacalc through
Snakemake's ``module`` directive, its profile, ``sources/`` for the full texts and an empty expectations file
for ``metacalc check``. Nothing is written when the folder exists and is not empty; the folder is built under a
temporary name and renamed into place, so a failure leaves nothing half-made.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from metacalc.errors import UserError
from metacalc.workflow import skeleton_folder

TEMPLATE_FILE = "extraction_template.xlsx"
# Skeleton files renamed on the way (a dotfile is awkward as package data).
RENAMED = {"gitignore": ".gitignore"}
TITLE = "__TITLE__"


def init_review(folder: str, title: str, fill: Callable[[str], Any] | None = None) -> list[str]:
    """Write a new review into ``folder`` (absent, or an empty directory); returns the files written, relative
    to it. ``fill(path)``, when given, adds to the review before it is moved into place (``metacalc synthesize``
    writes its data that way)."""
    import yaml

    folder = os.path.normpath(folder)
    if not title.strip():
        raise UserError(["--title: blank (got an empty title, expected the review's title)"])
    if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise UserError([f"{folder}: already exists and is not empty (expected a new folder; nothing was written)"])
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.", suffix=".tmp", dir=parent)
    try:
        _copy_skeleton(staging, yaml.safe_dump(title.strip(), allow_unicode=True, width=10_000).splitlines()[0])
        if fill is not None:
            fill(staging)
        _write_generated(staging)
        written = sorted(os.path.relpath(os.path.join(d, n), staging) for d, _, names in os.walk(staging)
                         for n in names)
        if os.path.isdir(folder):
            os.rmdir(folder)  # empty, checked above
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _copy_skeleton(target: str, quoted_title: str) -> None:
    skeleton = skeleton_folder()
    for directory, dirs, names in os.walk(skeleton):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if name.startswith(".") or name.endswith((".pyc", ".tmp")) or name == "__init__.py":
                continue
            source = os.path.join(directory, name)
            relative = os.path.relpath(source, skeleton)
            destination = os.path.join(target, os.path.dirname(relative), RENAMED.get(name, name))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
            with open(destination, "w", encoding="utf-8") as handle:
                handle.write(text.replace(TITLE, quoted_title) if name == "review.yaml" else text)


def _write_generated(target: str) -> None:
    """What is made from the review file: the sheets' header rows (of the tables not yet written), their
    dictionary, the template, the plan's schema."""
    from metacalc.data.dictionary import BEGIN, END, dictionary_markdown
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import ANALYSES_DIR, SHEETS_DIR
    from metacalc.data.schema import load_schema
    from metacalc.data.template import write_template
    from metacalc.review.plan import schema_json

    review = load_review(os.path.join(target, "review.yaml"))  # the skeleton is a valid review file
    sheets = os.path.join(target, SHEETS_DIR)
    os.makedirs(sheets, exist_ok=True)
    for name, spec in load_schema(review).items():
        if os.path.exists(os.path.join(sheets, f"{name}.csv")):
            continue
        with open(os.path.join(sheets, f"{name}.csv"), "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerow([c.name for c in spec.input_columns])
    with open(os.path.join(sheets, "README.md"), "w", encoding="utf-8") as handle:
        handle.write("# Extraction sheets: data dictionary\n\nOne CSV file per table (or, instead of them, one .xlsx "
                     "workbook: `../extraction_template.xlsx` filled in). Blank = unknown; every extracted value has "
                     "a quote in quotes.csv, found in its source document in `../sources/`. After editing "
                     "review.yaml (its patient fields, categories, vocabulary), refresh the tables below with "
                     "`python -m metacalc.data.dictionary extraction_sheets/README.md` and the header rows of the "
                     f"sheets.\n\n## Tables and columns\n\n{BEGIN}\n{dictionary_markdown(review)}{END}\n")
    write_template(os.path.join(target, TEMPLATE_FILE), review)
    with open(os.path.join(target, ANALYSES_DIR, "schema.json"), "w", encoding="utf-8") as handle:
        handle.write(schema_json())
