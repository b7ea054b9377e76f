"""PRISMA 2020 flow of records, computed from the records log (never from typed-in totals).

Page MJ et al. The PRISMA 2020 statement. BMJ 2021;372:n71. The diagram's boxes are counted here from
one row per record, so the diagram cannot disagree with the log; ``reconcile`` lists every way in which
the log contradicts itself or the extraction sheets, and the workflow refuses to write a report until
that list is empty.

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

import re
import textwrap
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from metacalc.files import write_atomic

ARMS = ("databases_registers", "other_methods")
ARM_TITLES = {
    "databases_registers": "Identification of studies via databases and registers",
    "other_methods": "Identification of studies via other methods",
}
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
NBSP = "\u00a0"


@dataclass(frozen=True)
class Box:
    """One count of the flow diagram and the records behind it.

    ``parts`` break the count down (by source, removal kind or exclusion reason); each part is itself a
    box with its own id so that the report can list its records.
    """

    box_id: str
    label: str
    record_ids: tuple = ()
    parts: tuple = ()

    @property
    def n(self):
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
    study_of_report: dict = field(default_factory=dict, compare=False)

    @property
    def is_update(self):
        return self.previous_studies is not None

    def arms(self):
        return (self.databases_registers, self.other_methods)

    def boxes(self):
        """Every box (parts included) by box id, in diagram order."""
        found = {}

        def add(box):
            if box is None:
                return
            found[box.box_id] = box
            for part in box.parts:
                add(part)

        for arm in self.arms():
            for name in ("identified", "removed", "screened", "excluded_at_screening", "sought",
                         "not_retrieved", "assessed", "excluded", "included"):
                add(getattr(arm, name))
        for box in (self.previous_studies, self.previous_reports, self.new_studies, self.new_reports,
                    self.studies, self.reports):
            add(box)
        return found

    def to_dict(self):
        """JSON-ready form: box id -> {label, n, record_ids}."""
        return {box_id: {"label": box.label, "n": box.n, "record_ids": list(box.record_ids)}
                for box_id, box in self.boxes().items()}


# ---------------------------------------------------------------------------------------------------
# reading the log


def _text(value):
    """A cell as stripped text; blank for every kind of missing value."""
    if value is None:
        return ""
    try:
        import pandas as pd

        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _rows(frame):
    """Rows of a DataFrame as dicts of text, with their spreadsheet row number (header = row 1)."""
    if frame is None:
        return []
    columns = list(frame.columns)
    rows = []
    for position, values in enumerate(frame.itertuples(index=False, name=None)):
        row = {column: _text(value) for column, value in zip(columns, values)}
        row["_row"] = position + 2
        rows.append(row)
    return rows


def _low(row, column):
    return row.get(column, "").lower()


def _study_roots(studies_rows):
    """study_id -> the study_id that its duplicate_of chain ends at (the study it belongs to)."""
    pointer = {row["study_id"]: row.get("duplicate_of", "") for row in studies_rows if row.get("study_id")}

    def root(study_id):
        seen = []
        while pointer.get(study_id) and study_id not in seen:
            seen.append(study_id)
            study_id = pointer[study_id]
        return study_id

    return {study_id: root(study_id) for study_id in pointer}


def _numbered_parts(prefix, label_of_key, grouped):
    """Boxes for a breakdown, largest first then alphabetical, ids numbered in that order."""
    ordered = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[0]))
    return tuple(Box(f"{prefix}-{number}", label_of_key(key), tuple(ids))
                 for number, (key, ids) in enumerate(ordered, start=1))


def _arm_counts(arm, rows):
    ids = [row["record_id"] for row in rows]

    by_type = {}
    for row in rows:
        by_type.setdefault(_low(row, "source_type"), []).append(row)
    type_order = list(ARM_SOURCE_TYPES[arm]) + sorted(t for t in by_type if t not in ARM_SOURCE_TYPES[arm])
    type_boxes = []
    for source_type in type_order:
        if source_type not in by_type:
            continue
        by_source = {}
        for row in by_type[source_type]:
            by_source.setdefault(row.get("source", "") or "source not named", []).append(row["record_id"])
        key = source_type or "unspecified"
        sources = tuple(
            Box(f"{arm}-identified-{key}-{number}", source, tuple(record_ids))
            for number, (source, record_ids) in enumerate(sorted(by_source.items()), start=1)
        )
        type_boxes.append(Box(f"{arm}-identified-{key}", SOURCE_TYPE_LABELS.get(source_type, source_type),
                              tuple(r["record_id"] for r in by_type[source_type]), sources))
    identified = Box(f"{arm}-identified", "Records identified", tuple(ids), tuple(type_boxes))

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
    def ids(selected):
        return tuple(r["record_id"] for r in selected)

    kept = [r for r in rows if not _low(r, "removed_before_screening")]
    if arm == "other_methods":
        screened_rows = kept
    else:
        screened_rows = [r for r in rows if _low(r, "screening")]
    screened = Box(f"{arm}-screened", "Records screened", ids(screened_rows))

    excluded_screening_rows = [r for r in rows if _low(r, "screening") == "exclude"]
    reasons = {}
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


def _studies_box(box_id, label, record_ids, report_of, study_of_report):
    """Studies behind a set of included records: one entry (the first record) per study."""
    first_record = {}
    for record_id in record_ids:
        first_record.setdefault(study_of_report.get(report_of[record_id], report_of[record_id]), record_id)
    return Box(box_id, label, tuple(first_record.values()))


def flow_counts(records, studies):
    """Count every box of the PRISMA 2020 flow diagram from the records log.

    ``records`` and ``studies`` are DataFrames with the columns of docs/architecture.md. Returns a
    ``PrismaCounts``; each box keeps the record_ids behind it, in log order.
    """
    record_rows = _rows(records)
    roots = _study_roots(_rows(studies))
    previous_rows = [r for r in record_rows if _low(r, "previous_review") == "yes"]
    current_rows = [r for r in record_rows if _low(r, "previous_review") != "yes"]

    arms = {arm: _arm_counts(arm, [r for r in current_rows if _low(r, "arm") == arm]) for arm in ARMS}
    report_of = {r["record_id"]: r.get("study_id", "") or f"record {r['record_id']}" for r in record_rows}

    def unique_reports(record_ids):
        # one record per report: a report found twice is counted once (reconcile flags it)
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
# reconciliation


def reconcile(records, studies, patients, treatments, aggregates):
    """Every inconsistency of the records log, alone and against the extraction sheets.

    Returns a list of one-line messages (empty when the log is consistent); row-located ones read
    ``records.csv:ROW:COLUMN: ...`` with ROW the spreadsheet row (header = 1), taken from the row's
    position in the DataFrame (so pass the tables in file order). An empty log is itself a problem.
    """
    record_rows = _rows(records)
    if not record_rows:
        return ["records.csv: the records log is empty or missing; the PRISMA 2020 flow diagram is computed "
                "from one row per record identified"]
    problems = []
    study_rows = _rows(studies)
    known_records = {r["record_id"] for r in record_rows}
    known_studies = {r["study_id"] for r in study_rows if r.get("study_id")}
    roots = _study_roots(study_rows)

    def at(row, column, message, table="records"):
        problems.append(f"{table}.csv:{row['_row']}:{column}: {message}")

    included_by_report = {}
    for row in record_rows:
        rid = row["record_id"]
        arm = _low(row, "arm")
        source_type = _low(row, "source_type")
        removed = _low(row, "removed_before_screening")
        screening = _low(row, "screening")
        retrieved = _low(row, "retrieved")
        eligibility = _low(row, "eligibility")
        previous = _low(row, "previous_review") == "yes"
        duplicate_of = row.get("duplicate_of", "")
        study_id = row.get("study_id", "")

        if arm in ARM_SOURCE_TYPES and source_type and source_type not in ARM_SOURCE_TYPES[arm]:
            owner = [other for other, types in ARM_SOURCE_TYPES.items() if source_type in types]
            belongs = f"belongs to the {owner[0]} arm, not to" if owner else "is not a source type of"
            at(row, "source_type", f"record {rid}: source type '{source_type}' {belongs} arm '{arm}' "
                                   f"(expected one of {', '.join(ARM_SOURCE_TYPES[arm])})")
        if duplicate_of and duplicate_of not in known_records:
            at(row, "duplicate_of", f"record {rid} is marked a duplicate of record {duplicate_of}, "
                                    "which is not in the records log")
        elif duplicate_of == rid:
            at(row, "duplicate_of", f"record {rid} is marked a duplicate of itself")
        if removed == "duplicate" and not duplicate_of:
            at(row, "duplicate_of", f"record {rid} was removed as a duplicate but duplicate_of does not say "
                                    "which record it duplicates")
        if study_id and known_studies and study_id not in known_studies:
            at(row, "study_id", f"record {rid} names study {study_id}, which is not in studies.csv")

        if previous:
            if not study_id:
                at(row, "study_id", f"record {rid} was included in the previous version of the review "
                                    "(previous_review = yes) but names no study_id")
            else:
                included_by_report.setdefault(study_id, []).append(row)
            continue

        # a record's later stages must follow from its earlier ones
        if removed:
            for column in ("screening", "retrieved", "eligibility"):
                if _low(row, column):
                    at(row, column, f"record {rid} was removed before screening ({removed}) "
                                    f"yet has {column} = {_low(row, column)}")
        elif not screening and arm == "databases_registers":
            at(row, "screening", f"record {rid} was neither removed before screening nor given a "
                                 "screening decision (include or exclude)")
        if screening == "exclude":
            if eligibility == "include":
                at(row, "eligibility", f"record {rid} is included but was excluded at screening")
            elif retrieved:
                at(row, "retrieved", f"record {rid} was excluded at screening yet sought for retrieval "
                                     f"(retrieved = {retrieved})")
            elif eligibility:
                at(row, "eligibility", f"record {rid} was excluded at screening yet assessed for eligibility")
        elif not removed and not retrieved and (screening == "include" or eligibility
                                                 or arm != "databases_registers"):
            at(row, "retrieved", f"record {rid} was not excluded at screening but retrieved is blank "
                                 "(yes if the full text was obtained, no if not)")
        if retrieved == "no" and eligibility:
            at(row, "eligibility", f"record {rid} was not retrieved yet assessed for eligibility "
                                   f"(eligibility = {eligibility})")
        if retrieved == "yes" and not eligibility and screening != "exclude" and not removed:
            at(row, "eligibility", f"record {rid} was retrieved but has no eligibility decision")
        if eligibility == "exclude" and not row.get("exclusion_reason"):
            at(row, "exclusion_reason", f"record {rid} was excluded at eligibility without a reason "
                                        "(PRISMA 2020 reports each reason with its count)")
        if eligibility == "include" and not removed and screening != "exclude":
            if not study_id:
                at(row, "study_id", f"record {rid} is included but names no study_id")
            else:
                included_by_report.setdefault(study_id, []).append(row)

    for study_id, rows in included_by_report.items():
        for row in rows[1:]:
            at(row, "study_id", f"report {study_id} is included through records "
                                f"{', '.join(r['record_id'] for r in rows)}; mark all but one as duplicates")

    # included studies (patients or series) need extraction rows; several reports count once
    extracted = {r.get("study_id", "") for r in _rows(patients)} | {r.get("study_id", "") for r in _rows(aggregates)}
    by_study = {}
    for study_id, rows in included_by_report.items():
        by_study.setdefault(roots.get(study_id, study_id), []).append((study_id, rows[0]))
    for study, reports in by_study.items():
        if not any(report in extracted for report, _ in reports):
            names = study if len(reports) == 1 else (
                f"{study} (reports {', '.join(report for report, _ in reports)})")
            first = reports[0][1]
            at(first, "study_id", f"included study {names} has no extraction rows "
                                  "(no patients.csv or aggregates.csv row with this study_id)")

    # the reverse: extraction sheets describing studies that the log never included
    included_reports = set(included_by_report)
    for row in study_rows:
        study_id = row.get("study_id", "")
        if study_id and study_id not in included_reports:
            at(row, "study_id", f"study {study_id} is in the extraction sheets but no record in "
                                "records.csv includes it", table="studies")
    for table, frame in (("patients", patients), ("aggregates", aggregates)):
        for row in _rows(frame):
            study_id = row.get("study_id", "")
            if study_id and study_id not in included_reports and study_id not in known_studies:
                at(row, "study_id", f"study {study_id} has extraction rows but no record in records.csv "
                                    "includes it", table=table)
    patient_ids = {r.get("patient_id", "") for r in _rows(patients)}
    for row in _rows(treatments):
        if row.get("patient_id") and row["patient_id"] not in patient_ids:
            at(row, "patient_id", f"treatment of patient {row['patient_id']}, who is not in patients.csv",
               table="treatments")

    problems.extend(_box_arithmetic(flow_counts(records, studies)))
    return problems


def _box_arithmetic(counts):
    """Check that each box is what the boxes above it leave, as a reader of the diagram would.

    The boxes count the decisions the log records at each stage, so a record that skips or repeats a
    stage makes two neighbouring boxes disagree here (besides its row message from ``reconcile``).
    """
    problems = []
    for arm in counts.arms():
        a = arm
        checks = [
            ("records screened", a.screened.n, "records identified - removed before screening",
             a.identified.n - a.removed.n),
            ("reports sought for retrieval", a.sought.n, "records screened - records excluded",
             a.screened.n - a.excluded_at_screening.n),
            ("reports assessed for eligibility", a.assessed.n, "reports sought - reports not retrieved",
             a.sought.n - a.not_retrieved.n),
        ]
        for name, got, expected_name, expected in checks:
            if got != expected:
                problems.append(f"records.csv: {a.arm}: {name} ({got}) does not equal "
                                f"{expected_name} ({expected})")
    return problems


# ---------------------------------------------------------------------------------------------------
# the records behind each box (for the report's lists)


def records_behind_boxes(counts, records):
    """box_id -> list of {record_id, citation, reason} for every box of the diagram, in log order."""
    by_id = {row["record_id"]: row for row in _rows(records)}
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


def _reason(row):
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


# ---------------------------------------------------------------------------------------------------
# the diagram

FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
FONT_SIZE = 12
LINE_HEIGHT = 15
CHARS_PER_LINE = 44  # fits the box width in the widest of the listed fonts
BOX_WIDTH = 270
PHASE_WIDTH = 28
GAP_X = 34
GAP_Y = 26
PAD = 8
MARGIN = 10


def _wrap(text, indent=0):
    """Lines of at most CHARS_PER_LINE characters; leading spaces mark indentation (continuations deeper)."""
    prefix = "  " * indent
    # keep "(n = 12)" on one line: textwrap does not break at no-break spaces
    text = re.sub(r"\(n = (\d+)\)", "(n\u00a0=\u00a0\\1)", text)
    lines = textwrap.wrap(text, CHARS_PER_LINE - len(prefix) - 2, break_long_words=True,
                          break_on_hyphens=False) or [""]
    return [prefix + lines[0]] + [prefix + "  " + line for line in lines[1:]]


def _lines(label, n, details=()):
    lines = _wrap(f"{label} (n = {n})")
    for detail in details:
        lines.extend(_wrap(detail, indent=1))
    return lines


def _box_texts(counts):
    """box_id -> (lines of text, tooltip) of every drawn box."""
    texts = {}
    for arm in counts.arms():
        lines = ["Records identified from:"]
        for type_box in arm.identified.parts:
            lines.extend(_wrap(f"{type_box.label} (n = {type_box.n})", indent=1))
            for source in type_box.parts:
                lines.extend(_wrap(f"{source.label} (n = {source.n})", indent=2))
        lines.append(f"Total (n = {arm.identified.n})")
        texts[arm.identified.box_id] = (lines, f"{arm.identified.n} records identified")

        lines = [f"Records removed before screening (n = {arm.removed.n}):"]
        for part in arm.removed.parts:
            lines.extend(_wrap(f"{part.label} (n = {part.n})", indent=1))
        texts[arm.removed.box_id] = (lines, f"{arm.removed.n} records removed before screening")
        texts[arm.screened.box_id] = (_lines("Records screened", arm.screened.n),
                                      f"{arm.screened.n} records screened on title and abstract")
        texts[arm.excluded_at_screening.box_id] = (
            _lines("Records excluded", arm.excluded_at_screening.n,
                   [f"{p.label} (n = {p.n})" for p in arm.excluded_at_screening.parts]),
            f"{arm.excluded_at_screening.n} records excluded at screening")
        texts[arm.sought.box_id] = (_lines("Reports sought for retrieval", arm.sought.n),
                                    f"{arm.sought.n} reports sought for retrieval")
        texts[arm.not_retrieved.box_id] = (_lines("Reports not retrieved", arm.not_retrieved.n),
                                           f"{arm.not_retrieved.n} reports whose full text was not retrieved")
        texts[arm.assessed.box_id] = (_lines("Reports assessed for eligibility", arm.assessed.n),
                                      f"{arm.assessed.n} full-text reports assessed for eligibility")
        lines = [f"Reports excluded (n = {arm.excluded.n})" + (":" if arm.excluded.parts else "")]
        for part in arm.excluded.parts:
            lines.extend(_wrap(f"{part.label} (n = {part.n})", indent=1))
        texts[arm.excluded.box_id] = (lines, f"{arm.excluded.n} reports excluded after full-text assessment")
    for box in (counts.previous_studies, counts.previous_reports, counts.new_studies, counts.new_reports,
                counts.studies, counts.reports):
        if box is not None:
            texts[box.box_id] = (_lines(box.label, box.n), f"{box.label}: {box.n}")
    return texts


def _svg_box(box_id, x, y, width, lines, tooltip, link_prefix, height=None, bold=False):
    height = height or (len(lines) * LINE_HEIGHT + 2 * PAD)
    out = [f'<g id="prisma-diagram-{escape(box_id)}" class="prisma-box">',
           f'<a href={quoteattr(link_prefix + box_id)}>',
           f"<title>{escape(tooltip)} (click for the list of records)</title>",
           f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#ffffff" stroke="#000000" '
           'stroke-width="1"/>']
    weight = ' font-weight="bold"' if bold else ""
    out.append(f'<text x="{x + PAD}" y="{y + PAD}"{weight}>')
    for number, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        out.append(f'<tspan x="{x + PAD + 5 * indent}" dy="{LINE_HEIGHT if number else FONT_SIZE}">'
                   f"{escape(line.strip().replace(NBSP, ' '))}</tspan>")
    out.append("</text></a></g>")
    return "\n".join(out), height


def _arrow(x1, y1, x2, y2):
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#000000" stroke-width="1.2" '
            'marker-end="url(#prisma-arrowhead)"/>')


def prisma_svg(counts, link_prefix="#prisma-"):
    """The PRISMA 2020 flow diagram as SVG text, laid out as the published template.

    Every box is a link (``link_prefix`` + box id) to the report's list of the records behind it and
    carries a <title> tooltip. Black on white, system fonts, no external resources; the same counts give
    the same bytes. An arm without any record (e.g. no database was searched) is left out, as authors of
    the template do; the other arm then flows straight into the included box.
    """
    texts = _box_texts(counts)
    arms = [arm for arm in counts.arms() if arm.identified.n] or [counts.databases_registers]
    columns = (["previous"] if counts.is_update else []) + [
        f"{arm.arm}:{side}" for arm in arms for side in ("main", "side")]
    left = MARGIN + PHASE_WIDTH + GAP_X / 2
    x_of = {name: left + i * (BOX_WIDTH + GAP_X) for i, name in enumerate(columns)}
    width = x_of[columns[-1]] + BOX_WIDTH + MARGIN

    def height_of(box):
        return len(texts[box.box_id][0]) * LINE_HEIGHT + 2 * PAD

    # rows: boxes side by side in a row share its height
    row_boxes = {"identified": [], "screened": [], "sought": [], "assessed": []}
    for arm in arms:
        row_boxes["identified"] += [arm.identified] + ([arm.removed] if arm.has_screening else [])
        if arm.has_screening:
            row_boxes["screened"] += [arm.screened, arm.excluded_at_screening]
        row_boxes["sought"] += [arm.sought, arm.not_retrieved]
        row_boxes["assessed"] += [arm.assessed, arm.excluded]
    header_height = 2 * LINE_HEIGHT + 2 * PAD
    header_y = MARGIN
    y = header_y + header_height + GAP_Y
    row_y, row_h = {}, {}
    for name, boxes in row_boxes.items():
        if not boxes:
            continue
        row_y[name] = y
        row_h[name] = max(height_of(box) for box in boxes)
        if name == "identified" and counts.is_update:
            row_h[name] = max(row_h[name], height_of(counts.previous_studies) + height_of(counts.previous_reports))
        y += row_h[name] + GAP_Y
    stack = [(counts.studies, counts.reports)]
    if counts.is_update:
        stack.append((counts.new_studies, counts.new_reports))
    included_y = y
    included_h = max(height_of(s) + height_of(r) for s, r in stack)
    height = included_y + included_h + MARGIN

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="{FONT_FAMILY}" font-size="{FONT_SIZE}" '
        'role="img" aria-labelledby="prisma-diagram-title">',
        '<title id="prisma-diagram-title">PRISMA 2020 flow diagram</title>',
        '<defs><marker id="prisma-arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#000000"/>'
        "</marker></defs>",
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" fill="#ffffff"/>',
    ]

    def label(x, y, w, h, text, rotate=False, stroke="1"):
        cx, cy = x + w / 2, y + h / 2
        turn = f' transform="rotate(-90 {cx:g} {cy:g})"' if rotate else ""
        parts.append(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="#ffffff" stroke="#000000" '
                     f'stroke-width="{stroke}"/>')
        parts.append(f'<text x="{cx:g}" y="{cy:g}" text-anchor="middle" dominant-baseline="central" '
                     f'font-weight="bold"{turn}>{escape(text)}</text>')

    # phase labels on the left, as in the template
    screening_rows = [name for name in ("screened", "sought", "assessed") if name in row_y]
    screening_top = row_y[screening_rows[0]]
    screening_bottom = row_y[screening_rows[-1]] + row_h[screening_rows[-1]]
    for text, top, h in (("Identification", row_y["identified"], row_h["identified"]),
                         ("Screening", screening_top, screening_bottom - screening_top),
                         ("Included", included_y, included_h)):
        label(MARGIN, top, PHASE_WIDTH, h, text, rotate=True)

    # headers over each arm (and the previous-version column)
    if counts.is_update:
        label(x_of["previous"], header_y, BOX_WIDTH, header_height, "Previous studies")
    for arm in arms:
        label(x_of[f"{arm.arm}:main"], header_y, 2 * BOX_WIDTH + GAP_X, header_height, ARM_TITLES[arm.arm],
              stroke="1.5")

    def box(b, column, y, h):
        lines, tooltip = texts[b.box_id]
        parts.append(_svg_box(b.box_id, x_of[column], y, BOX_WIDTH, lines, tooltip, link_prefix, height=h)[0])

    def arrow_right(column, row):
        mid = row_y[row] + row_h[row] / 2
        parts.append(_arrow(x_of[column] + BOX_WIDTH, mid, x_of[column] + BOX_WIDTH + GAP_X, mid))

    def arrow_down(column, y_from, y_to):
        x = x_of[column] + BOX_WIDTH / 2
        parts.append(_arrow(x, y_from, x, y_to))

    for arm in arms:
        main, side = f"{arm.arm}:main", f"{arm.arm}:side"
        pairs = [("identified", arm.identified, arm.removed if arm.has_screening else None)]
        if arm.has_screening:
            pairs.append(("screened", arm.screened, arm.excluded_at_screening))
        pairs += [("sought", arm.sought, arm.not_retrieved), ("assessed", arm.assessed, arm.excluded)]
        for number, (row, main_box, side_box) in enumerate(pairs):
            box(main_box, main, row_y[row], row_h[row])
            if side_box is not None:
                box(side_box, side, row_y[row], row_h[row])
                arrow_right(main, row)
            if number + 1 < len(pairs):
                arrow_down(main, row_y[row] + row_h[row], row_y[pairs[number + 1][0]])

    # included: the first arm flows down into it; another arm joins from the right
    into = f"{arms[0].arm}:main"
    assessed_bottom = row_y["assessed"] + row_h["assessed"]
    arrow_down(into, assessed_bottom, included_y)
    join_y = included_y + included_h / 2
    for arm in arms[1:]:
        bx = x_of[f"{arm.arm}:main"] + BOX_WIDTH / 2
        parts.append(f'<polyline points="{bx:g},{assessed_bottom:g} {bx:g},{join_y:g} '
                     f'{x_of[into] + BOX_WIDTH:g},{join_y:g}" fill="none" stroke="#000000" stroke-width="1.2" '
                     'marker-end="url(#prisma-arrowhead)"/>')
    if counts.is_update:
        # new studies under the arms; totals under the previous version, fed by both
        new_h = height_of(counts.new_studies)
        box(counts.new_studies, into, included_y, new_h)
        box(counts.new_reports, into, included_y + new_h, included_h - new_h)
        previous_h = height_of(counts.previous_studies)
        box(counts.previous_studies, "previous", row_y["identified"], previous_h)
        box(counts.previous_reports, "previous", row_y["identified"] + previous_h, row_h["identified"] - previous_h)
        arrow_down("previous", row_y["identified"] + row_h["identified"], included_y)
        parts.append(_arrow(x_of[into], join_y, x_of["previous"] + BOX_WIDTH, join_y))
        total_column = "previous"
    else:
        total_column = into
    studies_h = height_of(counts.studies)
    box(counts.studies, total_column, included_y, studies_h)
    box(counts.reports, total_column, included_y + studies_h, included_h - studies_h)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_prisma_svg(path, counts, link_prefix="#prisma-"):
    """Write the diagram to ``path`` atomically (temporary file renamed into place)."""
    write_atomic(path, prisma_svg(counts, link_prefix=link_prefix))
    return path


def included_report_ids(counts, records):
    """study_ids of the reports of included studies (previous version included), in log order.

    The reports that the appraisal must cover and that analyses may use.
    """
    study_of_record = {row["record_id"]: row.get("study_id", "") for row in _rows(records)}
    return [study_of_record[i] for i in counts.reports.record_ids if study_of_record.get(i)]
