"""The validated dataset: typed tables with derived columns, and its JSON form.

``load_dataset`` is the one way in: read, validate (raising ``UserError`` with every problem), derive.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metacalc.data.cells import json_cell
from metacalc.data.problems import PER_COLUMN
from metacalc.errors import UserError
from metacalc.files import write_atomic

if TYPE_CHECKING:
    import pandas as pd

    from metacalc.data.appraisal_rules import Severity
    from metacalc.data.vocabulary import Vocabulary

from metacalc.data.review_file import Review, default_review

TABLES = ("studies", "patients", "treatments", "aggregates", "records", "appraisal", "appraisal_overall",
          "quotes", "duplicate_decisions", "certainty")
JSON_FORMAT = "metacalc-dataset"
JSON_VERSION = 4


@dataclass(frozen=True, eq=False)
class Dataset:
    """The extraction tables after validation (RangeIndex, schema column order, derived columns filled), and the
    review file they were validated with (its words and settings travel with the data)."""

    studies: pd.DataFrame
    patients: pd.DataFrame
    treatments: pd.DataFrame
    aggregates: pd.DataFrame
    records: pd.DataFrame
    appraisal: pd.DataFrame
    appraisal_overall: pd.DataFrame
    quotes: pd.DataFrame
    duplicate_decisions: pd.DataFrame  # pairs of patients the reviewer judged to be different people
    certainty: pd.DataFrame  # the reviewer's GRADE-style judgements of each outcome's certainty
    review: Review = default_review()
    source: str = ""
    warnings: tuple[str, ...] = ()
    unappraised: tuple[tuple[str, str], ...] = ()  # (study_id, what is missing): an unfinished appraisal accepted

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def rows(self, name: str) -> list[dict[str, Any]]:
        """The rows of one table as dicts of JSON values (None when blank): exactly what its JSON form holds,
        the form in which the review walks over the data."""
        frame = getattr(self, name)
        columns = list(frame.columns)
        if not columns:
            return [{} for _ in frame.index]
        return [dict(zip(columns, row)) for row in zip(*(_column_to_json(frame[name]) for name in columns))]

    def equals(self, other: object) -> bool:
        """Same tables (values and dtypes), review, source and warnings."""
        return (
            isinstance(other, Dataset)
            and self.review == other.review
            and self.source == other.source
            and tuple(self.warnings) == tuple(other.warnings)
            and self.unappraised == other.unappraised
            and all(getattr(self, n).equals(getattr(other, n))
                    and list(getattr(self, n).dtypes) == list(getattr(other, n).dtypes) for n in TABLES)
        )

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the dataset as JSON, atomically and byte-identically for the same data."""
        document = {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "source": self.source,
            "review": self.review.to_dict(),
            "warnings": list(self.warnings),
            "unappraised": [list(pair) for pair in self.unappraised],
            "tables": {name: _table_to_json(frame) for name, frame in self.tables().items()},
        }
        # Compact separators keep json's C encoder (indent falls back to the pure-Python one: 1.55 against 0.79 s
        # CPU for the tables of 10,000 patients); sorted keys keep the bytes stable. An Arrow IPC file would write
        # in 0.33 s, but no later job reads this file (figures are drawn in the same process, the report reads
        # results.json), so a new dependency and a binary format would save a second in a minute's run.
        text = json.dumps(document, separators=(",", ":"), sort_keys=True, ensure_ascii=False,
                          allow_nan=False) + "\n"
        write_atomic(path, text)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Dataset:
        from metacalc.data.schema import load_schema

        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        if document.get("format") != JSON_FORMAT:
            raise UserError([f"{path}: not a metacalc dataset (got format {document.get('format')!r}, expected "
                             f"{JSON_FORMAT!r})"])
        if document.get("version") != JSON_VERSION:
            raise UserError([f"{path}: dataset written by another version of metacalc (got version "
                             f"{document.get('version')}, expected {JSON_VERSION}); validate the sheets again"])
        review = Review.from_dict(document["review"])
        schema = load_schema(review)
        tables = {name: _table_from_json(document["tables"][name], schema[name]) for name in TABLES}
        return cls(**tables, review=review, source=document["source"], warnings=tuple(document["warnings"]),
                   unappraised=tuple((study, missing) for study, missing in document["unappraised"]))

    def summary(self) -> list[str]:
        """A few lines for the terminal: rows per table, patients, therapies, classes, warnings."""
        lines = [f"{self.source}: valid"]
        where = self.review.source or "none (neutral words, default response categories)"
        lines.append(f"review file: {where}; {self.review.title}")
        lines.append("rows: " + ", ".join(f"{n} {len(getattr(self, n))}" for n in TABLES))
        duplicates = self.studies["duplicate_of"].notna()
        lines.append(f"studies: {len(self.studies)} ({int(duplicates.sum())} marked as duplicate publications)")
        lines.append(f"patients: {len(self.patients)}; with years from {self.review.clock.start} to the "
                     f"{self.review.clock.onset}: {int(self.patients['years_to_onset'].notna().sum())}")
        therapies = self.treatments["drug"].value_counts().sort_index()
        lines.append(f"therapy courses: {len(self.treatments)}; therapies: "
                     + (", ".join(f"{d} {c}" for d, c in therapies.items()) or "none"))
        classes = sorted(set(self.treatments["drug_class"].dropna()) | set(self.aggregates["drug_class"].dropna()))
        lines.append(f"drug classes: {len(classes)} ({', '.join(classes) or 'none'})")
        lines.append(f"quotes: {len(self.quotes)}, each found in its source document")
        if self.unappraised:
            lines.append("appraisal unfinished (accepted as a warning by the review file): "
                         + "; ".join(f"{study} ({missing})" for study, missing in self.unappraised))
        lines.append(f"warnings: {len(self.warnings)}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


def _table_to_json(frame: pd.DataFrame) -> dict[str, list[Any]]:
    columns = list(frame.columns)
    cells = [_column_to_json(frame[name]) for name in columns]
    return {"columns": columns, "rows": [list(row) for row in zip(*cells)] if columns else [[] for _ in frame.index]}


def _column_to_json(column: pd.Series) -> list[Any]:
    """One column's cells as ``json_cell`` gives them, a column at a time: a column of one numpy or pandas dtype
    comes out of ``tolist`` as plain Python values with NaN or pd.NA for a blank, so only those need replacing
    (10 times faster than ``json_cell`` cell by cell on 100,000 patients); an object column, which may hold
    anything, goes cell by cell."""
    import pandas as pd

    if not (column.dtype.kind in "biuf" or isinstance(column.dtype, pd.StringDtype)):
        return [json_cell(v) for v in column.tolist()]
    NA = pd.NA
    return [None if v is None or v is NA or (type(v) is float and not math.isfinite(v)) else v
            for v in column.tolist()]


def _table_from_json(table: dict[str, Any], spec: Any) -> pd.DataFrame:
    import pandas as pd

    columns = [c.name for c in spec.columns]
    if table["columns"] != columns:
        raise UserError([f"dataset JSON: table {spec.name} has columns {table['columns']}, expected {columns}"])
    data = {}
    for i, column in enumerate(spec.columns):
        values = [row[i] for row in table["rows"]]
        data[column.name] = (pd.Series(values, dtype=object).astype(column.pandas_dtype) if values
                             else pd.Series([], dtype=column.pandas_dtype))
    return pd.DataFrame(data, columns=columns)


def load_dataset(path: str | os.PathLike[str] = ".", review: Review | None = None, sources: str | None = None,
                 incomplete_appraisal: Severity | None = None, per_column: int | None = PER_COLUMN) -> Dataset:
    """Read and validate a review's extraction sheets: ``path`` is the review folder, or the sheets themselves (a
    directory of CSVs, or an .xlsx workbook). ``review`` is its review file (default: the review.yaml of the
    folder, or beside the sheets; none there: the default review), ``sources`` the folder of source documents
    the quotes are checked against (default: sources/ of the folder). See ``metacalc.data.review_folder``.

    Raises ``UserError`` listing every problem, one line each, sorted by file and row (the review file's first):
    of each column of a file the first ``per_column`` (None: all), then a line counting the others.
    An incomplete risk-of-bias appraisal is a problem, or a warning of the dataset when the review file (or
    ``incomplete_appraisal="warning"``) says so.
    """
    from metacalc.data.derive import response_flags
    from metacalc.data.problems import sorted_lines
    from metacalc.data.schema import load_schema
    from metacalc.data.validate import check_sheets

    from metacalc.data.review_file import load_review
    from metacalc.data.review_folder import locate

    located = locate(path, sources=sources)
    if review is None:
        review = load_review(located.review_file)
    checked = check_sheets(located.sheets, review=review, incomplete_appraisal=incomplete_appraisal,
                           sources=located.sources)
    if checked.frames is None or checked.out.problems:
        raise UserError(sorted_lines(checked.out.problems, per_column))
    frames, vocabulary, onset, diagnosis = checked.frames, checked.vocabulary, checked.onset, checked.diagnosis
    review = checked.review
    assert vocabulary is not None and onset is not None and diagnosis is not None  # set whenever frames are
    assert review is not None
    patients = frames["patients"].assign(
        years_to_onset=onset.years, years_to_onset_derivation=onset.text,
        years_to_diagnosis=diagnosis.years, years_to_diagnosis_derivation=diagnosis.text)
    treatments = frames["treatments"]
    any_response, complete = response_flags(treatments["response"], review.response)
    treatments = treatments.assign(**_drugs(treatments["therapy"], vocabulary),
                                   any_response=any_response, complete_response=complete)
    aggregates = frames["aggregates"].assign(**_drugs(frames["aggregates"]["therapy"], vocabulary))
    frames = dict(frames, patients=patients, treatments=treatments, aggregates=aggregates)

    schema = load_schema(review)
    tables = {}
    for name in TABLES:
        spec = schema[name]
        frame = frames[name][[c.name for c in spec.columns]].reset_index(drop=True)
        tables[name] = frame.astype({c.name: c.pandas_dtype for c in spec.columns})
    return Dataset(**tables, review=review, source=str(located.sheets), warnings=tuple(sorted_lines(checked.out.warnings)),
                   unappraised=tuple(sorted((checked.unappraised or {}).items())))


def _drugs(therapy: Any, vocabulary: Vocabulary) -> dict[str, Any]:
    found = therapy.map(lambda n: vocabulary.lookup(n) if isinstance(n, str) else None)
    drug = found.map(lambda e: e[0] if e else None).astype("str")
    drug_class = found.map(lambda e: e[1] if e else None).astype("str")
    return {"drug": drug, "drug_class": drug_class}
