"""Nothing is lost: every row of the analysis tables is used by a main analysis or listed with the reason it is
not, and every used row brings the quotes that back it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from metacalc.data.cells import as_text
from metacalc.review.document import ExcludedRow, Quote, RowCount
from metacalc.review.results import Group, ProportionGroup
from metacalc.review.tables import ReviewTables

LEDGER_TABLES = ("studies", "patients", "treatments", "aggregates")


@dataclass(frozen=True)
class RowsOfAnalysis:
    """What one main analysis used, and why it left the other rows out (table -> row id -> reason)."""

    analysis_id: str
    used: Mapping[str, Sequence[str]]
    reasons: Mapping[str, Mapping[str, str]]


def ledger(review: ReviewTables, analyses: Sequence[RowsOfAnalysis]
           ) -> tuple[list[ExcludedRow], dict[str, RowCount]]:
    """Every row of the analysis tables: used by a main analysis, or why not (one line per row)."""
    used: dict[str, set[str]] = {table: set() for table in LEDGER_TABLES}
    reasons: dict[str, dict[str, list[str]]] = {table: {} for table in LEDGER_TABLES}
    for entry in analyses:
        for table, ids in entry.used.items():
            used[table].update(ids)
        for table, by_row in entry.reasons.items():
            for row_id, reason in by_row.items():
                reasons[table].setdefault(row_id, []).append(f"{entry.analysis_id}: {reason}")
    # A patient used in a response analysis is used; a patient of a used course is used.
    used["patients"].update(c["patient_id"] for c in review.treatments if c["treatment_id"] in used["treatments"])
    used["studies"].update(review.patient[p]["study_id"] for p in used["patients"] if p in review.patient)
    tables = (
        ("studies", "study_id", review.studies, lambda r: r["study_id"]),
        ("patients", "patient_id", review.patients, lambda r: r["study_id"]),
        ("treatments", "treatment_id", review.treatments,
         lambda r: review.patient.get(r["patient_id"], {}).get("study_id")),
        ("aggregates", "aggregate_id", review.aggregates, lambda r: r["study_id"]),
    )
    rows = []
    for table, id_column, records, study_of in tables:
        for record in records:
            row_id = record[id_column]
            if row_id in used[table]:
                continue
            why = sorted(set(reasons[table].get(row_id, []))) or [_unused_reason(review, table, record, row_id)]
            rows.append(ExcludedRow(table, row_id, as_text(study_of(record)), "; ".join(why)))
    counts = {table: RowCount(len(records), len(used[table] & {r[id_column] for r in records}))
              for table, id_column, records, _ in tables}
    return rows, counts


def _unused_reason(review: ReviewTables, table: str, record: Mapping[str, object], row_id: str) -> str:
    """Why a row that no analysis named is not used."""
    if table == "studies":
        duplicate = review.duplicate_of(row_id)
        return f"duplicate report of {review.label_of(duplicate)}" if duplicate else "no patient or figure of this report is analysed"
    if table == "patients":
        return "no therapy course or time value of this patient is used by any analysis"
    if table == "aggregates":
        return f"outcome {record.get('outcome')} is not analysed by any analysis in the plan"
    return "therapy not in any analysis"


def provenance_quotes(review: ReviewTables, analyses: Sequence[RowsOfAnalysis], variant_groups: Iterable[Group]
                      ) -> dict[str, list[Quote]]:
    """Quotes of every row a main analysis used, and of the series figures sensitivity variants add, keyed
    'table/row_id' (stored once, referenced by id)."""
    wanted: set[tuple[str, str]] = set()
    for entry in analyses:
        for table, ids in entry.used.items():
            wanted.update((table, row_id) for row_id in ids)
    for group in variant_groups:
        if isinstance(group, ProportionGroup):
            for contributor in group.contributors:
                wanted.update(("aggregates", a) for a in contributor.aggregate_ids)
    out = {}
    for table, row_id in sorted(wanted):
        quotes = review.quotes_of.get((table, row_id))
        if quotes:
            # One sentence often supports several values (therapy, dose, duration): show it once with its columns.
            merged: dict[tuple[str, str | None], tuple[list[str], str, str | None]] = {}
            for q in quotes:
                columns, _, _ = merged.setdefault((q["quote"], q.get("location")), ([], q["quote"], q.get("location")))
                if q["column"] not in columns:
                    columns.append(q["column"])
            out[f"{table}/{row_id}"] = [Quote(tuple(c), text, location) for c, text, location in merged.values()]
    return out
