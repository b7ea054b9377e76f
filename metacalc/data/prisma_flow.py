"""PRISMA 2020 flow of records, counted from the records log (never from typed-in totals).

Page MJ et al. The PRISMA 2020 statement. BMJ 2021;372:n71. The diagram's boxes are counted here from
one row per record, so the diagram cannot disagree with the log; ``metacalc.data.records_rules`` lists every
way in which the log contradicts itself or the extraction sheets, as part of validating the sheets. The box
labels are the wording of the PRISMA 2020 template.

Conventions of the log (``records`` table, see docs/architecture.md):
- a record passes the stages in order: removed before screening, or screened (include/exclude); a record
  included at screening is sought for retrieval (``retrieved`` yes/no); a retrieved report is assessed
  (``eligibility`` include/exclude). In the other-methods arm title/abstract screening is optional, as in
  the PRISMA template: a record with no screening decision there goes straight to retrieval.
- records with ``previous_review = yes`` are the studies of the previous version of the review: they form
  the previous-version boxes, not part of this version's search flow (a new hit of such a report is a
  duplicate of it).
- a report is a document (``study_id`` of an included record); a study is a patient or series, which
  several reports can describe: reports joined by ``studies.duplicate_of`` count as one study.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metacalc.data.cells import as_text, as_texts

ARMS = ("databases_registers", "other_methods")
# Which source types belong to which arm (PRISMA 2020 template).
ARM_SOURCE_TYPES = {
    "databases_registers": ("database", "register"),
    "other_methods": ("website", "organisation", "citation_searching", "other"),
}
SOURCE_TYPE_LABELS = {
    "database": "Databases",
    "register": "Registers",
    "website": "Websites",
    "organisation": "Organisations",
    "citation_searching": "Citation searching",
    "other": "Other sources",
    "": "Source type not given",
}
REMOVAL_KINDS = ("duplicate", "automation", "other")
REMOVAL_LABELS = {
    "duplicate": "Duplicate records removed",
    "automation": "Records marked as ineligible by automation tools",
    "other": "Records removed for other reasons",
}
NO_REASON = "reason not given"
# The boxes of an arm and the boxes of included studies, in the diagram's order.
ARM_BOXES = ("identified", "removed", "screened", "excluded_at_screening", "sought", "not_retrieved", "assessed",
             "excluded", "included")
TOTAL_BOXES = ("previous_studies", "previous_reports", "new_studies", "new_reports", "studies", "reports")


@dataclass(frozen=True)
class Box:
    """One count of the flow diagram and the records behind it.

    ``parts`` break the count down (by source, removal kind or exclusion reason); each part is itself a
    box with its own id so that the report can list its records.
    """

    box_id: str
    label: str
    record_ids: tuple[str, ...] = ()
    parts: tuple[Box, ...] = ()

    @property
    def n(self) -> int:
        return len(self.record_ids)


@dataclass(frozen=True)
class ArmCounts:
    """The boxes of one arm of the diagram (databases and registers, or other methods)."""

    arm: str
    identified: Box  # parts: one box per source type, each with parts per source
    removed: Box  # parts: duplicate, automation, other
    screened: Box
    excluded_at_screening: Box  # parts: one per screening reason
    sought: Box
    not_retrieved: Box
    assessed: Box
    excluded: Box  # parts: one per exclusion reason
    included: Box  # reports included through this arm
    has_screening: bool  # draw the removal/screening boxes (always for databases and registers)


@dataclass(frozen=True)
class PrismaCounts:
    """All boxes of the PRISMA 2020 flow diagram, computed by ``flow_counts``."""

    databases_registers: ArmCounts
    other_methods: ArmCounts
    studies: Box  # studies included in the review (totals when the review is an update)
    reports: Box  # reports of included studies
    previous_studies: Box | None = None
    previous_reports: Box | None = None
    new_studies: Box | None = None
    new_reports: Box | None = None
    study_of_report: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def is_update(self) -> bool:
        return self.previous_studies is not None

    def arms(self) -> tuple[ArmCounts, ArmCounts]:
        return (self.databases_registers, self.other_methods)

    def boxes(self) -> dict[str, Box]:
        """Every box (parts included) by box id, in diagram order."""
        found: dict[str, Box] = {}

        def add(box: Box | None) -> None:
            if box is None:
                return
            found[box.box_id] = box
            for part in box.parts:
                add(part)

        for arm in self.arms():
            for name in ARM_BOXES:
                add(getattr(arm, name))
        for name in TOTAL_BOXES:
            add(getattr(self, name))
        return found

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """JSON-ready form: box id -> {label, n, record_ids}."""
        return {box_id: {"label": box.label, "n": box.n, "record_ids": list(box.record_ids)}
                for box_id, box in self.boxes().items()}

    def layout(self) -> dict[str, Any]:
        """Which box is which, by box id: with the boxes of ``to_dict`` it rebuilds the diagram (``from_json``)."""
        def box_id(box: Box | None) -> str | None:
            return None if box is None else box.box_id

        return {
            "arms": [{"arm": arm.arm, "has_screening": arm.has_screening,
                      **{name: getattr(arm, name).box_id for name in ARM_BOXES}} for arm in self.arms()],
            "totals": {name: box_id(getattr(self, name)) for name in TOTAL_BOXES},
            "parts": {key: [part.box_id for part in box.parts] for key, box in self.boxes().items() if box.parts},
        }

    @classmethod
    def from_json(cls, boxes: dict[str, dict[str, Any]], layout: dict[str, Any]) -> PrismaCounts:
        """The counts again from ``to_dict()`` and ``layout()`` (as the results hold them)."""
        def build(key: str | None) -> Box | None:
            if key is None:
                return None
            box = boxes[key]
            parts = tuple(build(part) for part in layout["parts"].get(key, ()))
            return Box(key, box["label"], tuple(box["record_ids"]), tuple(p for p in parts if p is not None))

        def arm(entry: dict[str, Any]) -> ArmCounts:
            built = {name: build(entry[name]) for name in ARM_BOXES}
            return ArmCounts(entry["arm"], has_screening=entry["has_screening"], **built)  # type: ignore[arg-type]

        arms = {entry["arm"]: arm(entry) for entry in layout["arms"]}
        totals = {name: build(key) for name, key in layout["totals"].items()}
        return cls(arms["databases_registers"], arms["other_methods"], **totals)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# reading the log


class TextRows(list[dict[str, str]]):
    """Rows as dicts of stripped text, as ``text_rows`` returns them: given to it again (validation and the
    analyses read the records log in several steps), they are handed back as they are, not converted again."""


def text_rows(table: Any) -> TextRows:
    """Rows of a table (a DataFrame, or row dicts as in a dataset's JSON) as dicts of stripped text."""
    if table is None:
        return TextRows()
    if isinstance(table, TextRows):
        return table
    if hasattr(table, "itertuples"):
        # Columns as lists, not itertuples: iterating a pandas text column costs a few µs a cell.
        columns = list(table.columns)
        values = [as_texts(table.iloc[:, k].tolist()) for k in range(len(columns))]
        return TextRows(dict(zip(columns, row)) for row in zip(*values))
    return TextRows({column: as_text(value) for column, value in row.items()} for row in table)


def _low(row: dict[str, str], column: str) -> str:
    return row.get(column, "").lower()


def study_roots(studies_rows: list[dict[str, str]]) -> dict[str, str]:
    """study_id -> the study_id that its duplicate_of chain ends at (the study it belongs to)."""
    pointer = {row["study_id"]: row.get("duplicate_of", "") for row in studies_rows if row.get("study_id")}

    def root(study_id: str) -> str:
        seen: list[str] = []
        while pointer.get(study_id) and study_id not in seen:
            seen.append(study_id)
            study_id = pointer[study_id]
        return study_id

    return {study_id: root(study_id) for study_id in pointer}


def _numbered_parts(prefix: str, label_of_key: Any, grouped: dict[str, list[str]]) -> tuple[Box, ...]:
    """Boxes for a breakdown, largest first then alphabetical, ids numbered in that order."""
    ordered = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))
    return tuple(Box(f"{prefix}-{number}", label_of_key(key), tuple(ids))
                 for number, (key, ids) in enumerate(ordered, start=1))


def _arm_counts(arm: str, rows: list[dict[str, str]]) -> ArmCounts:
    every_id = tuple(row["record_id"] for row in rows)

    by_type: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_type.setdefault(_low(row, "source_type"), []).append(row)
    type_order = list(ARM_SOURCE_TYPES[arm]) + sorted(t for t in by_type if t not in ARM_SOURCE_TYPES[arm])
    type_boxes = []
    for source_type in type_order:
        if source_type not in by_type:
            continue
        by_source: dict[str, list[str]] = {}
        for row in by_type[source_type]:
            by_source.setdefault(row.get("source", "") or "source not named", []).append(row["record_id"])
        key = source_type or "unspecified"
        sources = tuple(
            Box(f"{arm}-identified-{key}-{number}", source, tuple(record_ids))
            for number, (source, record_ids) in enumerate(sorted(by_source.items()), start=1)
        )
        type_boxes.append(Box(f"{arm}-identified-{key}", SOURCE_TYPE_LABELS.get(source_type, source_type),
                              tuple(r["record_id"] for r in by_type[source_type]), sources))
    identified = Box(f"{arm}-identified", "Records identified", every_id, tuple(type_boxes))

    removed_rows = [row for row in rows if _low(row, "removed_before_screening")]
    removal_parts = tuple(
        Box(f"{arm}-removed-{kind}", REMOVAL_LABELS[kind],
            tuple(r["record_id"] for r in removed_rows if _low(r, "removed_before_screening") == kind))
        for kind in REMOVAL_KINDS
    )
    unknown_kinds = sorted({_low(r, "removed_before_screening") for r in removed_rows} - set(REMOVAL_KINDS))
    removal_parts += tuple(
        Box(f"{arm}-removed-{kind}", f"Records removed ({kind})",
            tuple(r["record_id"] for r in removed_rows if _low(r, "removed_before_screening") == kind))
        for kind in unknown_kinds
    )
    removed = Box(f"{arm}-removed", "Records removed before screening",
                  tuple(r["record_id"] for r in removed_rows), removal_parts)

    # Each box counts what the log records at that stage (not the complement of the boxes above), so
    # that the arithmetic between boxes checks the log instead of holding by construction. In the
    # other-methods arm a record with no screening decision went straight to retrieval (PRISMA template).
    def ids(selected: Any) -> tuple[str, ...]:
        return tuple(r["record_id"] for r in selected)

    kept = [r for r in rows if not _low(r, "removed_before_screening")]
    if arm == "other_methods":
        screened_rows = kept
    else:
        screened_rows = [r for r in rows if _low(r, "screening")]
    screened = Box(f"{arm}-screened", "Records screened", ids(screened_rows))

    excluded_screening_rows = [r for r in rows if _low(r, "screening") == "exclude"]
    reasons: dict[str, list[str]] = {}
    for row in excluded_screening_rows:
        reasons.setdefault(row.get("screening_reason", "") or NO_REASON, []).append(row["record_id"])
    excluded_at_screening = Box(
        f"{arm}-excluded-screening", "Records excluded", ids(excluded_screening_rows),
        _numbered_parts(f"{arm}-excluded-screening", str, reasons) if any(
            row.get("screening_reason") for row in excluded_screening_rows) else (),
    )

    sought = Box(f"{arm}-sought", "Reports sought for retrieval",
                 ids(r for r in rows if _low(r, "retrieved") in ("yes", "no")))
    not_retrieved = Box(f"{arm}-not-retrieved", "Reports not retrieved",
                        ids(r for r in rows if _low(r, "retrieved") == "no"))
    assessed = Box(f"{arm}-assessed", "Reports assessed for eligibility",
                   ids(r for r in rows if _low(r, "eligibility") in ("include", "exclude")))
    excluded_rows = [r for r in rows if _low(r, "eligibility") == "exclude"]
    reasons = {}
    for row in excluded_rows:
        reasons.setdefault(row.get("exclusion_reason", "") or NO_REASON, []).append(row["record_id"])
    excluded = Box(f"{arm}-excluded", "Reports excluded", ids(excluded_rows),
                   _numbered_parts(f"{arm}-excluded-reason", str, reasons))
    included = Box(f"{arm}-included", "Reports included", ids(r for r in rows if _low(r, "eligibility") == "include"))

    has_screening = arm == "databases_registers" or any(
        _low(r, "removed_before_screening") or _low(r, "screening") for r in rows)
    return ArmCounts(arm, identified, removed, screened, excluded_at_screening, sought, not_retrieved,
                     assessed, excluded, included, has_screening)


def _studies_box(box_id: str, label: str, record_ids: tuple[str, ...], report_of: dict[str, str],
                 study_of_report: dict[str, str]) -> Box:
    """Studies behind a set of included records: one entry (the first record) per study."""
    first_record: dict[str, str] = {}
    for record_id in record_ids:
        first_record.setdefault(study_of_report.get(report_of[record_id], report_of[record_id]), record_id)
    return Box(box_id, label, tuple(first_record.values()))


def flow_counts(records: Any, studies: Any) -> PrismaCounts:
    """Count every box of the PRISMA 2020 flow diagram from the records log.

    ``records`` and ``studies`` are DataFrames or lists of row dicts with the columns of docs/architecture.md
    (in log order). Returns a
    ``PrismaCounts``; each box keeps the record_ids behind it, in log order.
    """
    record_rows = text_rows(records)
    roots = study_roots(text_rows(studies))
    previous_rows = [r for r in record_rows if _low(r, "previous_review") == "yes"]
    current_rows = [r for r in record_rows if _low(r, "previous_review") != "yes"]

    arms = {arm: _arm_counts(arm, [r for r in current_rows if _low(r, "arm") == arm]) for arm in ARMS}
    report_of = {r["record_id"]: r.get("study_id", "") or f"record {r['record_id']}" for r in record_rows}

    def unique_reports(record_ids: tuple[str, ...]) -> tuple[str, ...]:
        # one record per report: a report found twice is counted once (validation flags it)
        seen, kept = set(), []
        for record_id in record_ids:
            if report_of[record_id] not in seen:
                seen.add(report_of[record_id])
                kept.append(record_id)
        return tuple(kept)

    new_ids = unique_reports(arms["databases_registers"].included.record_ids
                             + arms["other_methods"].included.record_ids)
    previous_ids = unique_reports(tuple(r["record_id"] for r in previous_rows))
    all_ids = unique_reports(previous_ids + new_ids)

    if not previous_rows:
        return PrismaCounts(
            arms["databases_registers"], arms["other_methods"],
            studies=_studies_box("included-studies", "Studies included in review", all_ids, report_of, roots),
            reports=Box("included-reports", "Reports of included studies", all_ids),
            study_of_report=roots,
        )

    previous_studies = _studies_box("previous-studies", "Studies included in previous version of review",
                                    previous_ids, report_of, roots)
    studies = _studies_box("included-studies", "Total studies included in review", all_ids, report_of, roots)
    previous_study_keys = {roots.get(report_of[i], report_of[i]) for i in previous_ids}
    new_studies = Box("new-studies", "New studies included in review", tuple(
        i for i in studies.record_ids if roots.get(report_of[i], report_of[i]) not in previous_study_keys))
    previous_report_keys = {report_of[i] for i in previous_ids}
    return PrismaCounts(
        arms["databases_registers"], arms["other_methods"],
        studies=studies,
        reports=Box("included-reports", "Reports of total included studies", all_ids),
        previous_studies=previous_studies,
        previous_reports=Box("previous-reports", "Reports of studies included in previous version of review",
                             previous_ids),
        new_studies=new_studies,
        new_reports=Box("new-reports", "Reports of new included studies",
                        tuple(i for i in new_ids if report_of[i] not in previous_report_keys)),
        study_of_report=roots,
    )


# ---------------------------------------------------------------------------------------------------
# the records behind each box (for the report's lists)


def records_behind_boxes(counts: PrismaCounts, records: Any) -> dict[str, list[dict[str, str]]]:
    """box_id -> list of {record_id, citation, reason} for every box of the diagram, in log order."""
    by_id = {row["record_id"]: row for row in text_rows(records)}
    listing = {}
    for box_id, box in counts.boxes().items():
        entries = []
        for record_id in box.record_ids:
            row = by_id.get(record_id, {})
            entries.append({
                "record_id": record_id,
                "citation": row.get("citation", "") or row.get("study_id", ""),
                "reason": _reason(row),
            })
        listing[box_id] = entries
    return listing


def _reason(row: dict[str, str]) -> str:
    removed = _low(row, "removed_before_screening")
    if removed == "duplicate" and row.get("duplicate_of"):
        return f"duplicate of {row['duplicate_of']}"
    if removed:
        return f"removed before screening ({removed})"
    if _low(row, "screening") == "exclude":
        return row.get("screening_reason", "") or "excluded at screening"
    if _low(row, "retrieved") == "no":
        return "full text not retrieved"
    if _low(row, "eligibility") == "exclude":
        return row.get("exclusion_reason", "") or NO_REASON
    return ""


def included_report_ids(counts: PrismaCounts, records: Any) -> list[str]:
    """study_ids of the reports of included studies (previous version included), in log order.

    The reports that the appraisal must cover and that analyses may use.
    """
    study_of_record = {row["record_id"]: row.get("study_id", "") for row in text_rows(records)}
    return [study_of_record[i] for i in counts.reports.record_ids if study_of_record.get(i)]
