"""The provenance of every pooled number as a table: one row per patient, therapy course or series figure behind
each group, with the sentences quoted from its report.

The report always writes it beside itself as ``provenance.csv`` (searchable, sortable, opens in any spreadsheet).
Up to ``INLINE_MAX`` rows the report also shows it inline, as lists under each group; beyond that size a browser
would have to lay out hundreds of megabytes of lists (a review of 100,000 patients), so the report shows one line
per pooled number instead, linking to its rows of the CSV (``provenance.csv#row=A-B``, the CSV fragment
identifiers of RFC 7111) and giving their row numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metacalc.files import write_atomic
from metacalc.review.document import Quote, ReviewResults
from metacalc.review.words import slug

FILE_NAME = "provenance.csv"
# Rows of provenance the report shows inline; beyond them, it links to the CSV (about 30 patients' courses with
# quotes make 25 kB of HTML, so this keeps the section to a few megabytes).
INLINE_MAX = 5000
COLUMNS = ("analysis", "variant", "group", "report", "study_id", "kind", "patient_id", "row_id", "value", "quotes")


@dataclass(frozen=True)
class Span:
    """The rows of one pooled group in the CSV, numbered as a spreadsheet shows them and as RFC 7111 counts
    them: the header line is row 1, so the first data row is row 2."""

    anchor: str  # the id of the group's provenance entry in the report
    analysis: str
    variant: str
    group: str
    first: int
    last: int

    @property
    def rows(self) -> int:
        return self.last - self.first + 1


def _quotes(quotes: Mapping[str, Sequence[Quote]], key: str, columns: Sequence[str] | None = None) -> str:
    texts = [q.quote for q in quotes.get(key, ()) if columns is None or set(q.columns) & set(columns)]
    return " | ".join(texts)


def _group_rows(results: ReviewResults, kind: str, group: Any, timing_columns: Sequence[str],
                courses: Mapping[str, Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    quotes = results.quotes
    for c in group.contributors:
        if kind != "proportion":
            yield {"report": c.label, "study_id": c.study_id, "kind": "patient", "patient_id": c.patient_id,
                   "row_id": c.patient_id, "value": c.value,
                   "quotes": _quotes(quotes, f"patients/{c.patient_id}", timing_columns)}
        elif c.kind == "series":
            for aggregate_id in c.aggregate_ids:
                yield {"report": c.label, "study_id": c.study_id, "kind": "series figure", "patient_id": "",
                       "row_id": aggregate_id, "value": f"{c.events} of {c.total}",
                       "quotes": _quotes(quotes, f"aggregates/{aggregate_id}")}
        else:
            for patient in c.patients:
                for course_id in patient.courses:
                    course = courses.get(course_id, {})
                    yield {"report": c.label, "study_id": c.study_id, "kind": "therapy course",
                           "patient_id": patient.patient_id, "row_id": course_id,
                           "value": f"{course.get('therapy') or ''}: {course.get('response') or ''}; patient "
                                    f"{'responded' if patient.responded else 'did not respond'}",
                           "quotes": _quotes(quotes, f"treatments/{course_id}")}


def provenance_rows(results: ReviewResults, timing_columns: Sequence[str]) -> tuple[list[dict[str, Any]], list[Span]]:
    """The rows of the CSV, and each group's span of them, in the order the report lists the groups: each
    analysis' groups, then the groups of its sensitivity variants that add case series."""
    rows: list[dict[str, Any]] = []
    spans: list[Span] = []
    courses = {course["treatment_id"]: course for course in results.treatments}
    for analysis in results.analyses:
        entries = [("", analysis.id, g) for g in analysis.groups]
        entries += [(v.label, f"{analysis.id}-{v.id}", g) for v in analysis.sensitivity for g in v.groups
                    if g.contributors]
        for variant, prefix, group in entries:
            first = len(rows) + 2
            for row in _group_rows(results, analysis.kind, group, timing_columns, courses):
                rows.append({"analysis": analysis.title, "variant": variant, "group": group.group, **row})
            if len(rows) + 1 >= first:
                spans.append(Span(f"prov-{prefix}-{slug(group.group)}", analysis.title, variant, group.group,
                                  first, len(rows) + 1))
    return rows, spans


def provenance_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    # Rows as lists: csv.DictWriter checks every row's keys against the columns, a third of the time at scale.
    writer.writerows([row.get(column, "") for column in COLUMNS] for row in rows)
    return buffer.getvalue()


def summary(rows: Sequence[Mapping[str, Any]], spans: Sequence[Span], inline_max: int = INLINE_MAX
            ) -> dict[str, Any]:
    """What the report's provenance section needs: the file's name, the number of rows, whether they are shown
    inline, and each group's span (in report order)."""
    return {"file": FILE_NAME, "rows": len(rows), "inline": len(rows) <= inline_max, "inline_max": inline_max,
            "groups": list(spans)}


def write_provenance(results: ReviewResults, path: str, timing_columns: Sequence[str],
                     inline_max: int = INLINE_MAX) -> dict[str, Any]:
    """Write the CSV to ``path`` (named ``FILE_NAME`` beside the report); returns the section's ``summary``."""
    rows, spans = provenance_rows(results, timing_columns)
    write_atomic(path, provenance_csv(rows))
    return summary(rows, spans, inline_max)
