"""Where a review's inputs are: a review is a folder.

    review.yaml          what is specific to the review (metacalc.data.review_file)
    extraction_sheets/   the tables, as CSV files or one .xlsx workbook
    sources/             the full texts (or the reviewer's transcriptions) the quotes are found in
    analyses/            the analysis plan
    config.yaml          the workflow's settings; Snakefile, profiles/: the workflow (shipped with metacalc)

Commands take the review folder, or the sheets themselves (a folder of CSV files or a workbook): the review file
and the sources are then those beside the sheets, in the folder that holds them, unless named.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from metacalc.data.review_file import REVIEW_FILE

SHEETS_DIR = "extraction_sheets"
SOURCES_DIR = "sources"
ANALYSES_DIR = "analyses"


@dataclass(frozen=True)
class ReviewPaths:
    """The inputs of one review: the sheets, the review file (None: none, the default review) and sources/."""

    sheets: str
    review_file: str | None
    sources: str


def is_review_folder(path: str | os.PathLike[str]) -> bool:
    return os.path.isfile(os.path.join(os.fspath(path), REVIEW_FILE))


def locate(path: str | os.PathLike[str] = ".", review_file: str | None = None,
           sources: str | None = None) -> ReviewPaths:
    """The inputs of the review at ``path``: a review folder (it holds review.yaml, or at least
    extraction_sheets/), or its sheets (a folder of CSV files or a workbook), whose review file and sources are
    looked for in the folder above them.
    ``review_file`` and ``sources`` name them when they are elsewhere."""
    path = os.fspath(path)
    if os.path.isdir(path) and (is_review_folder(path) or os.path.isdir(os.path.join(path, SHEETS_DIR))):
        folder, sheets = path, os.path.normpath(os.path.join(path, SHEETS_DIR))
    else:
        folder, sheets = os.path.dirname(os.path.abspath(path)), path
        folder = os.path.relpath(folder) if not os.path.isabs(path) else folder
    if review_file is None and is_review_folder(folder):
        review_file = os.path.normpath(os.path.join(folder, REVIEW_FILE))
    return ReviewPaths(sheets=sheets, review_file=review_file,
                       sources=sources if sources is not None else os.path.normpath(os.path.join(folder, SOURCES_DIR)))
