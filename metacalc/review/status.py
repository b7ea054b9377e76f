"""What is left to do in a review (``metacalc status``): a to-do list located by file and row, for a review in
progress (its sheets need not validate yet: every table that could be read is looked at).

    records to screen             records of the log not removed before screening and not decided
    included reports without patients   reports with no patient row and no aggregate figure
    patients without treatments   patients with no therapy course
    values without quotes         extracted values with no verbatim quote behind them
    reports not appraised         reports without an overall risk-of-bias judgement
    undecided duplicate pairs     pairs of patients likely to be one patient, not yet decided
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from metacalc.data.problems import Problem
from metacalc.data.record_matching import cell_text

if TYPE_CHECKING:
    import pandas as pd

    from metacalc.data.review_file import Review


@dataclass(frozen=True)
class Status:
    """The to-do list, by category (in the order above), and how many problems validation still finds."""

    items: dict[str, list[Problem]] = field(default_factory=dict)
    problems: int = 0

    @property
    def done(self) -> bool:
        return not any(self.items.values()) and not self.problems

    def lines(self) -> list[str]:
        out = []
        for category, items in self.items.items():
            out.append(f"{category}: {len(items) or 'none'}")
            out.extend(f"  {item}" for item in items)
        if self.problems:
            out.append(f"problems found by validation: {self.problems} (run `metacalc validate` to list them)")
        return out


def _rows(frame: pd.DataFrame) -> list[tuple[int, dict[str, Any]]]:
    """(spreadsheet row, plain row) of a typed frame (indexed by its spreadsheet rows)."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [(int(index), row) for index, row in zip(plain.index, plain.to_dict("records"))]


def _records(frame: pd.DataFrame, file: str) -> list[Problem]:
    out = []
    for row, record in _rows(frame):
        what = cell_text(record.get("title")) or cell_text(record.get("citation")) or ""
        if len(what) > 60:
            what = what[:60].rsplit(" ", 1)[0] + "…"
        named = f"record {record.get('record_id')}" + (f" ({what})" if what else "")
        if record.get("removed_before_screening"):
            continue
        if not record.get("screening"):
            out.append(Problem(file, row, "screening", f"{named}: to screen"))
        elif record["screening"] == "include" and not record.get("eligibility") and record.get("retrieved") != "no":
            out.append(Problem(file, row, "eligibility", f"{named}: full text to assess"))
        elif record.get("eligibility") == "include" and not record.get("study_id"):
            out.append(Problem(file, row, "study_id", f"{named}: included, not yet linked to a report (studies)"))
    return out


def _without(frame: pd.DataFrame, file: str, key: str, having: set, column: str, what: str) -> list[Problem]:
    return [Problem(file, row, column, f"{row_[key]}: {what}") for row, row_ in _rows(frame)
            if row_.get(key) and row_[key] not in having]


def _unquoted(review: Review, frames: dict[str, pd.DataFrame], files: dict[str, str]) -> list[Problem]:
    from metacalc.data.schema import load_schema

    schema = load_schema(review)
    quoted = {(q.get("table"), q.get("row_id"), q.get("column")) for _, q in _rows(frames["quotes"])}
    out = []
    for table, spec in schema.items():
        if not spec.quoted:
            continue
        columns = [c.name for c in spec.input_columns if c.provenance]
        key = spec.id or ""
        for row, values in _rows(frames[table]):
            for column in columns:
                if values.get(column) is not None and (table, values.get(key), column) not in quoted:
                    out.append(Problem(files[table], row, column, f"no quote for {values.get(key)}'s value "
                                                                   f"(got {values[column]})"))
    return out


def review_status(path: str | os.PathLike[str] = ".") -> Status:
    """The to-do list of the review at ``path`` (a review folder, or its sheets)."""
    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate
    from metacalc.data.validate import check_sheets
    from metacalc.review.duplicates import duplicate_screen
    from metacalc.review.patient_duplicates import undecided_problems
    from metacalc.review.tables import ReviewTables

    located = locate(path)
    review = load_review(located.review_file)
    checked = check_sheets(located.sheets, review=review, incomplete_appraisal="warning", sources=located.sources)
    if checked.frames is None:
        return Status({}, len(checked.out.problems))
    frames, files = checked.frames, checked.files
    studies, patients = frames["studies"], frames["patients"]
    reported = set(patients["study_id"].dropna()) | set(frames["aggregates"]["study_id"].dropna())
    treated = set(frames["treatments"]["patient_id"].dropna())
    judged = {row["study_id"] for _, row in _rows(frames["appraisal_overall"]) if row.get("judgement")}
    items = {
        "records to screen": _records(frames["records"], files["records"]),
        "included reports without patients": _without(studies, files["studies"], "study_id", reported, "study_id",
                                                      "no patient in patients and no figure in aggregates"),
        "patients without treatments": _without(patients, files["patients"], "patient_id", treated, "patient_id",
                                                "no therapy course in treatments"),
        "values without quotes": _unquoted(review, frames, files),
        "reports not appraised": _without(studies, files["studies"], "study_id", judged, "study_id",
                                          "no overall risk-of-bias judgement in appraisal_overall"),
    }
    derived = patients.assign(years_to_onset=checked.onset.years if checked.onset is not None else None)
    tables = ReviewTables({name: [row for _, row in _rows(frame)] for name, frame in
                           dict(frames, patients=derived).items()}, review)
    row_of = {row["study_id"]: number for number, row in _rows(studies)}
    items["undecided duplicate pairs"] = undecided_problems(duplicate_screen(tables), files["studies"], row_of)
    return Status(items, len(checked.out.problems))
