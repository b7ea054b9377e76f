"""Validation of extraction sheets, the one place where data problems are found: every problem at once, each
located by file, row and column.

The steps, in order: read the tables (``sheets``), type their columns (``columns``) by the review's effective
schema, the rules of each table (``column_rules``), the rules across tables and against the review file
(``table_rules``), every quote in its source document (``source_rules``), the derived times and their
chronology (``chronology``), the reviewer's duplicate decisions (``duplicate_checks``), the records log against itself and the sheets (``records_rules``), and the
risk-of-bias appraisal (``appraisal_rules``). Nothing after validation looks for data problems: a dataset that
validates is one every analysis can run on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from metacalc.data.appraisal_rules import Severity, check_appraisal, normalise_items
from metacalc.data.chronology import derive_times
from metacalc.data.column_rules import check_table
from metacalc.data.columns import empty_frame, typed_frame
from metacalc.data.derive import Derivation
from metacalc.data.duplicate_checks import check_decisions, check_duplicate_of
from metacalc.data.problems import Collector
from metacalc.data.records_rules import check_records
from metacalc.data.schema import load_schema
from metacalc.data.source_rules import check_sources
from metacalc.data.table_rules import (
    check_aggregate_outcomes,
    check_published_figures,
    check_quotes,
    check_references,
    check_study_duplicates,
    check_therapies,
)
from metacalc.data.vocabulary import Vocabulary, build_vocabulary

if TYPE_CHECKING:
    import pandas as pd

    from metacalc.data.review_file import Review


@dataclass
class CheckedSheets:
    """What validation found: typed input columns of every table (indexed by spreadsheet row number; absent
    optional tables are empty), the file each came from, the problems and warnings, the vocabulary and the
    derived times. ``frames`` is None when nothing could be read."""

    frames: dict[str, pd.DataFrame] | None
    files: dict[str, str]
    out: Collector
    vocabulary: Vocabulary | None = None
    onset: Derivation | None = None
    diagnosis: Derivation | None = None
    review: Review | None = None
    unappraised: dict[str, str] | None = None  # included reports not fully appraised -> what is missing


def check_sheets(path: str | os.PathLike[str], review: Review | None = None,
                 incomplete_appraisal: Severity | None = None, sources: str = "sources") -> CheckedSheets:
    """Read and validate the sheets at ``path`` against the effective schema of ``review`` (None: a review
    without a review file), its quotes against the documents in ``sources``. ``incomplete_appraisal`` ("error"
    or "warning", see ``metacalc.data.appraisal_rules``) overrides the review file's setting."""
    from metacalc.data.review_file import default_review
    from metacalc.data.sheets import read_sheets

    review = review if review is not None else default_review()
    incomplete: Severity = incomplete_appraisal or ("warning" if review.incomplete_appraisal == "warning" else "error")
    schema = load_schema(review)
    out = Collector()
    tables, problems, workbook = read_sheets(path)
    out.problems.extend(problems)
    if not tables and problems:
        return CheckedSheets(None, {}, out)

    path = os.fspath(path)
    files, frames, usable = {}, {}, {}
    for name, spec in schema.items():
        table = tables.get(name)
        if table is None:
            files[name] = f"{workbook}[{name}]" if workbook else os.path.join(path, f"{name}.csv")
            if spec.required and not workbook and not os.path.exists(files[name]):
                required = ", ".join(n for n, s in schema.items() if s.required)
                out.add(files[name], None, "", f"file missing (got no {name}.csv, expected the {name} table; required "
                                               f"tables: {required})")
            frames[name] = empty_frame(spec)
            # An absent optional table is an empty one; a missing or unreadable table cannot vouch for
            # references into it, so those are not checked (its own problem is already reported).
            usable[name] = not spec.required and not out.has_file(files[name])
            continue
        files[name] = table.file
        frames[name] = typed_frame(table, spec, out)
        usable[name] = table.complete
    for name, spec in schema.items():
        check_table(frames[name], spec, files[name], out)
    check_references(schema, frames, files, usable, out)
    check_study_duplicates(frames["studies"], files["studies"], out)
    _check_duplicate_decisions(frames, files, usable, out)
    frames["appraisal"] = normalise_items(frames["appraisal"], files["appraisal"], out)
    check_aggregate_outcomes(frames["aggregates"], files["aggregates"], out)
    vocabulary = build_vocabulary(review.vocabulary)
    for name in ("treatments", "aggregates"):
        check_therapies(frames[name], files[name], vocabulary, out)
    check_quotes(schema, frames, files, usable, out)
    check_sources(frames, files, usable, sources, out)
    check_published_figures(review, schema, frames, files, usable, out)
    onset, diagnosis = derive_times(frames["patients"], files["patients"], out, review.words)
    # The records log and the appraisal are checked against the whole review: only once every table was read
    # (a sheet that could not be read, or a file under an unknown name, may be the one they would miss).
    unappraised: dict[str, str] = {}
    if not problems and all(usable[name] for name in ("records", "studies", "patients", "aggregates")):
        flow = check_records(frames, files, out)  # None when the log does not tell which reports are included
        if all(usable[name] for name in ("appraisal", "appraisal_overall")):
            unappraised = check_appraisal(frames, files, out, flow, incomplete=incomplete)
    return CheckedSheets(frames, files, out, vocabulary, onset, diagnosis, review, unappraised)


def _plain_rows(frame: pd.DataFrame) -> list[dict]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _check_duplicate_decisions(frames: dict[str, pd.DataFrame], files: dict[str, str], usable: dict[str, bool],
                               out: Collector) -> None:
    """``duplicate_of`` without cycles or chains; duplicate_decisions rows that can stand (see duplicate_checks).
    Undecided likely pairs are not a data problem: the review's scoring finds them (``validate --strict``)."""
    studies = frames["studies"]
    out.problems.extend(check_duplicate_of(_plain_rows(studies), files["studies"], [int(r) for r in studies.index]))
    decisions = frames["duplicate_decisions"]
    if usable["studies"] and usable["patients"] and len(decisions):
        out.problems.extend(check_decisions(_plain_rows(decisions), _plain_rows(frames["patients"]),
                                            _plain_rows(studies), files["duplicate_decisions"],
                                            [int(r) for r in decisions.index]))
