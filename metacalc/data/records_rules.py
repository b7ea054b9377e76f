"""The records log (PRISMA 2020) checked against itself and against the extraction sheets.

The flow diagram is counted from the log (``metacalc.data.prisma_flow``), so every way in which the log
contradicts itself would be a diagram that does not add up: a record that skips or repeats a stage, an
included report without extraction rows, a report in the sheets that no record includes. These are data
problems like any other, found when the sheets are validated and located on the row of the sheet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metacalc.data.prisma_flow import ARM_SOURCE_TYPES, PrismaCounts, flow_counts, study_roots, text_rows
from metacalc.data.problems import Collector, show

if TYPE_CHECKING:
    import pandas as pd

EMPTY_LOG = ("the records log is empty or missing; the PRISMA 2020 flow diagram is computed from one row per "
             "record identified")


def check_records(frames: dict[str, pd.DataFrame], files: dict[str, str], out: Collector) -> PrismaCounts | None:
    """Every rule of the records log: each record's stages, then the log against the extraction sheets.

    Returns the counts of the flow diagram when the log is consistent, i.e. when it tells which reports the
    review includes (the appraisal's rules read them); None when it is not.
    """
    records, file = frames["records"], files["records"]
    if records.empty:
        if not frames["studies"].empty:  # an empty review (a new template) has nothing to account for yet
            out.add(file, None, "", EMPTY_LOG)
            return None
        return flow_counts(records, frames["studies"])
    if out.has_file(file):
        return None  # a log with problems of its own (types, references) would only repeat them as contradictions
    before = len(out.problems)
    _stages_in_order(records, file, out)
    record_rows, study_rows = text_rows(records), text_rows(frames["studies"])  # read once for both steps
    _reconcile(frames, files, out, record_rows, study_rows)
    if len(out.problems) != before:
        return None
    # Row problems already explain any box that does not add up; the arithmetic speaks only for the log as a whole.
    counts = flow_counts(record_rows, study_rows)
    for problem in _box_arithmetic(counts):
        out.add(file, None, "", problem)
    return counts if len(out.problems) == before else None


def _stages_in_order(records: pd.DataFrame, file: str, out: Collector) -> None:
    """The checks a reader of one row can make: what was removed is not screened, what is assessed was read."""
    removed = records["removed_before_screening"].notna()
    for row in records.index[removed & records["screening"].notna()]:
        out.add(file, int(row), "screening",
                f"screened although removed before screening (got {show(records.at[row, 'screening'])}, expected "
                f"blank because removed_before_screening is {show(records.at[row, 'removed_before_screening'])})")
    assessed = records["eligibility"].notna()
    for row in records.index[assessed & (records["retrieved"] != "yes")]:
        out.add(file, int(row), "eligibility",
                f"assessed for eligibility without the full text (got retrieved {show(records.at[row, 'retrieved'])}"
                ", expected retrieved yes)")
    for row in records.index[(records["eligibility"] == "include") & records["study_id"].isna()]:
        out.add(file, int(row), "study_id", "included record without its report (got blank, expected the study_id "
                                            "of the included report)")


def _numbered(frame: pd.DataFrame, rows: list[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row, {column: text}) for every row of a frame indexed by spreadsheet row (``rows``: its
    text rows)."""
    return [(int(row), values) for row, values in zip(frame.index, rows)]


def _reconcile(frames: dict[str, pd.DataFrame], files: dict[str, str], out: Collector,
               records_text: list[dict[str, str]], studies_text: list[dict[str, str]]) -> None:
    """Each record's decisions follow from one another, and the log includes exactly the reports extracted."""
    record_rows = _numbered(frames["records"], records_text)
    study_rows = _numbered(frames["studies"], studies_text)
    known_records = {row["record_id"] for _, row in record_rows}
    known_studies = {row["study_id"] for _, row in study_rows if row.get("study_id")}
    roots = study_roots([row for _, row in study_rows])

    def at(number: int, column: str, message: str, table: str = "records") -> None:
        if not out.has(files[table], number, column):  # a cell already reported is not reported twice
            out.add(files[table], number, column, message)

    included_by_report: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in record_rows:
        for column, message in _record_stages(row, known_records, known_studies):
            at(number, column, message)
        study_id = row.get("study_id", "")
        if row.get("previous_review", "").lower() == "yes":
            if study_id:
                included_by_report.setdefault(study_id, []).append((number, row))
            continue
        included = row.get("eligibility", "").lower() == "include"
        if included and not row.get("removed_before_screening") and row.get("screening", "").lower() != "exclude":
            if study_id:
                included_by_report.setdefault(study_id, []).append((number, row))

    for study_id, rows in included_by_report.items():
        for number, _ in rows[1:]:
            at(number, "study_id", f"report {study_id} is included through records "
                                   f"{', '.join(r['record_id'] for _, r in rows)}; mark all but one as duplicates")

    # included studies (patients or series) need extraction rows; several reports count once
    extracted = set(frames["patients"]["study_id"].dropna()) | set(frames["aggregates"]["study_id"].dropna())
    by_study: dict[str, list[tuple[str, int]]] = {}
    for study_id, rows in included_by_report.items():
        by_study.setdefault(roots.get(study_id, study_id), []).append((study_id, rows[0][0]))
    for study, reports in by_study.items():
        if not any(report in extracted for report, _ in reports):
            names = study if len(reports) == 1 else f"{study} (reports {', '.join(report for report, _ in reports)})"
            at(reports[0][1], "study_id", f"included study {names} has no extraction rows "
                                          "(no patients.csv or aggregates.csv row with this study_id)")

    # the reverse: extraction sheets describing studies that the log never included
    included_reports = set(included_by_report)
    for number, row in study_rows:
        study_id = row.get("study_id", "")
        if study_id and study_id not in included_reports:
            at(number, "study_id", f"study {study_id} is in the extraction sheets but no record in records.csv "
                                   "includes it", table="studies")


def _record_stages(row: dict[str, str], known_records: set[str], known_studies: set[str]) -> list[tuple[str, str]]:
    """(column, message) for each problem of one record: its arm, what it duplicates, and each stage following
    from the one before."""
    found: list[tuple[str, str]] = []
    rid = row["record_id"]
    arm, source_type = row.get("arm", "").lower(), row.get("source_type", "").lower()
    removed = row.get("removed_before_screening", "").lower()
    screening, retrieved = row.get("screening", "").lower(), row.get("retrieved", "").lower()
    eligibility = row.get("eligibility", "").lower()
    duplicate_of, study_id = row.get("duplicate_of", ""), row.get("study_id", "")

    def problem(column: str, message: str) -> None:
        found.append((column, message))

    if arm in ARM_SOURCE_TYPES and source_type and source_type not in ARM_SOURCE_TYPES[arm]:
        owner = [other for other, types in ARM_SOURCE_TYPES.items() if source_type in types]
        belongs = f"belongs to the {owner[0]} arm, not to" if owner else "is not a source type of"
        problem("source_type", f"record {rid}: source type '{source_type}' {belongs} arm '{arm}' "
                               f"(expected one of {', '.join(ARM_SOURCE_TYPES[arm])})")
    if duplicate_of and duplicate_of not in known_records:
        problem("duplicate_of", f"record {rid} is marked a duplicate of record {duplicate_of}, which is not in the "
                                "records log")
    elif duplicate_of == rid:
        problem("duplicate_of", f"record {rid} is marked a duplicate of itself")
    if removed == "duplicate" and not duplicate_of:
        problem("duplicate_of", f"record {rid} was removed as a duplicate but duplicate_of does not say which record "
                                "it duplicates")
    if study_id and known_studies and study_id not in known_studies:
        problem("study_id", f"record {rid} names study {study_id}, which is not in studies.csv")

    if row.get("previous_review", "").lower() == "yes":
        if not study_id:
            problem("study_id", f"record {rid} was included in the previous version of the review "
                                "(previous_review = yes) but names no study_id")
        return found

    if removed:
        for column in ("screening", "retrieved", "eligibility"):
            if row.get(column):
                problem(column, f"record {rid} was removed before screening ({removed}) yet has {column} = "
                                f"{row[column].lower()}")
    elif not screening and arm == "databases_registers":
        problem("screening", f"record {rid} awaits screening (got blank, expected include or exclude, or "
                             "removed_before_screening; `metacalc status` lists every record still to screen)")
    if screening == "exclude":
        if eligibility == "include":
            problem("eligibility", f"record {rid} is included but was excluded at screening")
        elif retrieved:
            problem("retrieved", f"record {rid} was excluded at screening yet sought for retrieval "
                                 f"(retrieved = {retrieved})")
        elif eligibility:
            problem("eligibility", f"record {rid} was excluded at screening yet assessed for eligibility")
    elif not removed and not retrieved and (screening == "include" or eligibility or arm != "databases_registers"):
        problem("retrieved", f"record {rid} was not excluded at screening but retrieved is blank (yes if the full "
                             "text was obtained, no if not)")
    if retrieved == "no" and eligibility:
        problem("eligibility", f"record {rid} was not retrieved yet assessed for eligibility "
                               f"(eligibility = {eligibility})")
    if retrieved == "yes" and not eligibility and screening != "exclude" and not removed:
        problem("eligibility", f"record {rid} was retrieved but has no eligibility decision")
    if eligibility == "exclude" and not row.get("exclusion_reason"):
        problem("exclusion_reason", f"record {rid} was excluded at eligibility without a reason (PRISMA 2020 reports "
                                    "each reason with its count)")
    if eligibility == "include" and not removed and screening != "exclude" and not study_id:
        problem("study_id", f"record {rid} is included but names no study_id")
    return found


def _box_arithmetic(counts: PrismaCounts) -> list[str]:
    """Check that each box is what the boxes above it leave, as a reader of the diagram would.

    The boxes count the decisions the log records at each stage, so a record that skips or repeats a
    stage makes two neighbouring boxes disagree here (besides its row message).
    """
    problems = []
    for arm in counts.arms():
        checks = [
            ("records screened", arm.screened.n, "records identified - removed before screening",
             arm.identified.n - arm.removed.n),
            ("reports sought for retrieval", arm.sought.n, "records screened - records excluded",
             arm.screened.n - arm.excluded_at_screening.n),
            ("reports assessed for eligibility", arm.assessed.n, "reports sought - reports not retrieved",
             arm.sought.n - arm.not_retrieved.n),
        ]
        for name, got, expected_name, expected in checks:
            if got != expected:
                problems.append(f"{arm.arm}: {name} ({got}) does not equal {expected_name} ({expected})")
    return problems
