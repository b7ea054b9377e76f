"""The records log checked against itself and the extraction sheets: one test per kind of inconsistency, each
with its exact message, on a log with a known number in every box."""

import pandas as pd

from metacalc.data.prisma_flow import flow_counts
from metacalc.data.problems import Collector
from metacalc.data.records_rules import check_records
from records_log import DB, EMPTY_AGGREGATES, EMPTY_TREATMENTS, OTHER, SCREENED_IN, Log, known_log, patients_for, studies_frame

# reconciliation: one test per kind of inconsistency, each with its exact message


def by_row(frame):
    """The frame indexed by spreadsheet row (header = 1), as validation hands tables to the rules."""
    frame = frame.copy()
    frame.index = range(2, len(frame) + 2)
    return frame


def problems_of(log, studies=None, patients=None, aggregates=None):
    frames = {
        "records": log.frame(),
        "studies": studies_frame() if studies is None else studies,
        "patients": patients_for("s1", "s2", "s3", "s4") if patients is None else patients,
        "aggregates": EMPTY_AGGREGATES if aggregates is None else aggregates,
        "treatments": EMPTY_TREATMENTS,
    }
    out = Collector()
    check_records({name: by_row(frame) for name, frame in frames.items()}, {name: f"{name}.csv" for name in frames},
                  out)
    return [str(problem) for problem in out.problems]


def test_consistent_log_has_no_problems():
    assert problems_of(known_log()) == []


def test_included_record_excluded_at_screening():
    log = known_log()
    log.add(1, **DB, source_type="database", source="MEDLINE", screening="exclude", screening_reason="x",
            retrieved="yes", eligibility="include", study_id="s1")
    problems = problems_of(log)
    assert "records.csv:33:eligibility: record r032 is included but was excluded at screening" in problems
    assert not any("does not equal" in p for p in problems)  # the row's message explains the boxes


def test_included_record_removed_before_screening():
    log = known_log()
    log.add(1, **DB, source_type="database", removed_before_screening="other", eligibility="include",
            study_id="s2")
    problems = problems_of(log)
    # the cell is reported once, by the first rule that sees it
    assert ('records.csv:33:eligibility: assessed for eligibility without the full text (got retrieved blank, '
            'expected retrieved yes)') in problems


def test_not_retrieved_yet_assessed():
    log = known_log()
    log.add(1, **OTHER, source_type="website", retrieved="no", eligibility="exclude", exclusion_reason="x")
    problems = problems_of(log)
    assert ('records.csv:33:eligibility: assessed for eligibility without the full text (got retrieved "no", '
            'expected retrieved yes)') in problems
    assert not any("does not equal" in p for p in problems)  # the row's message explains the boxes


def test_duplicate_pointing_to_a_missing_record():
    log = known_log()
    log.add(1, **DB, source_type="database", removed_before_screening="duplicate", duplicate_of="r999")
    assert problems_of(log) == [
        "records.csv:33:duplicate_of: record r032 is marked a duplicate of record r999, which is not in the "
        "records log"]


def test_removed_as_duplicate_without_saying_of_what():
    log = known_log()
    log.add(1, **DB, source_type="database", removed_before_screening="duplicate")
    assert problems_of(log) == [
        "records.csv:33:duplicate_of: record r032 was removed as a duplicate but duplicate_of does not say "
        "which record it duplicates"]


def test_included_study_without_extraction_rows():
    problems = problems_of(known_log(), patients=patients_for("s1", "s2", "s4"))
    assert problems == ["records.csv:4:study_id: included study s3 has no extraction rows "
                        "(no patients.csv or aggregates.csv row with this study_id)"]
    # an aggregate row is enough (case series)
    assert problems_of(known_log(), patients=patients_for("s1", "s2", "s4"),
                       aggregates=pd.DataFrame({"aggregate_id": ["a"], "study_id": ["s3"]})) == []
    # s5 has no rows of its own, but it reports the same patient as s4, which has: no problem (shown above);
    # without s4's rows the study s4/s5 has none
    problems = problems_of(known_log(), patients=patients_for("s1", "s2", "s3"))
    assert problems == ["records.csv:22:study_id: included study s4 (reports s4, s5) has no extraction rows "
                        "(no patients.csv or aggregates.csv row with this study_id)"]


def test_study_in_sheets_that_the_log_never_included():
    studies = studies_frame(("s1", "s2", "s3", "s4", "s5", "s6"))
    problems = problems_of(known_log(), studies=studies, patients=patients_for("s1", "s2", "s3", "s4", "s6"))
    assert problems == ["studies.csv:7:study_id: study s6 is in the extraction sheets but no record in "
                        "records.csv includes it"]


def test_record_naming_an_unknown_study():
    log = known_log()
    log.rows[0]["study_id"] = "s9"
    problems = problems_of(log)
    assert "records.csv:2:study_id: record r001 names study s9, which is not in studies.csv" in problems


def test_arm_and_source_type_contradiction():
    log = known_log()
    log.rows[0]["source_type"] = "citation_searching"
    problems = problems_of(log)
    assert problems == [
        "records.csv:2:source_type: record r001: source type 'citation_searching' belongs to the other_methods "
        "arm, not to arm 'databases_registers' (expected one of database, register)"]


def test_counts_that_do_not_add_up():
    log = known_log()
    log.add(1, **DB, source_type="database")  # neither removed nor screened
    log.add(1, **DB, source_type="database", **SCREENED_IN)  # included at screening, never sought
    log.add(1, **DB, source_type="database", **SCREENED_IN, retrieved="yes")  # retrieved, never assessed
    problems = problems_of(log)
    # each record's own message explains the boxes it unbalances; the box arithmetic is not repeated on top
    assert problems == [
        "records.csv:33:screening: record r032 awaits screening (got blank, expected include or exclude, or "
        "removed_before_screening; `metacalc status` lists every record still to screen)",
        "records.csv:34:retrieved: record r033 was not excluded at screening but retrieved is blank (yes if the "
        "full text was obtained, no if not)",
        "records.csv:35:eligibility: record r034 was retrieved but has no eligibility decision",
    ]


def test_report_included_twice():
    log = known_log()
    log.add(1, **OTHER, source_type="citation_searching", retrieved="yes", eligibility="include", study_id="s1")
    problems = problems_of(log)
    assert problems == ["records.csv:33:study_id: report s1 is included through records r001, r032; "
                        "mark all but one as duplicates"]
    # counted once in the reports box all the same
    assert flow_counts(log.frame(), studies_frame()).reports.n == 5



def test_unknown_source_type_and_empty_log():
    log = known_log()
    log.rows[-1]["source_type"] = "podcast"
    assert problems_of(log) == [
        "records.csv:32:source_type: record r031: source type 'podcast' is not a source type of arm "
        "'other_methods' (expected one of website, organisation, citation_searching, other)"]
    empty = Log()
    assert problems_of(empty) == ["records.csv: the records log is empty or missing; the PRISMA 2020 flow "
                                  "diagram is computed from one row per record identified"]

