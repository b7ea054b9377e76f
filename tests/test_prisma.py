"""PRISMA 2020 flow: counts from a records log with a known number in every box, the SVG, reconciliation."""

import os
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from metacalc.review.prisma import (
    flow_counts,
    prisma_svg,
    reconcile,
    records_behind_boxes,
    write_prisma_svg,
)

SVG = "{http://www.w3.org/2000/svg}"
RECORD_COLUMNS = ["record_id", "arm", "source_type", "source", "citation", "doi", "pmid", "year",
                  "previous_review", "duplicate_of", "removed_before_screening", "screening", "screening_reason",
                  "retrieved", "eligibility", "exclusion_reason", "study_id"]


def records_frame(rows):
    return pd.DataFrame([{column: row.get(column) for column in RECORD_COLUMNS} for row in rows],
                        columns=RECORD_COLUMNS)


class Log:
    """Builds a records log: ``add(n, **fields)`` appends n records with those fields."""

    def __init__(self):
        self.rows = []

    def add(self, n, **fields):
        added = []
        for _ in range(n):
            record_id = f"r{len(self.rows) + 1:03d}"
            row = {"record_id": record_id, "previous_review": "no", "citation": f"Citation of {record_id}",
                   **fields}
            self.rows.append(row)
            added.append(row)
        return added

    def frame(self):
        return records_frame(self.rows)


DB = {"arm": "databases_registers"}
OTHER = {"arm": "other_methods"}
SCREENED_IN = {"screening": "include"}


def known_log():
    """Every box has a known count; numbers chosen to differ between neighbouring boxes."""
    log = Log()
    # databases and registers: 11 MEDLINE + 5 Embase + 4 ClinicalTrials.gov = 20 identified
    medline = dict(DB, source_type="database", source="MEDLINE")
    embase = dict(DB, source_type="database", source="Embase")
    register = dict(DB, source_type="register", source="ClinicalTrials.gov")
    first = log.add(1, **medline, **SCREENED_IN, retrieved="yes", eligibility="include", study_id="s1")[0]
    log.add(1, **medline, **SCREENED_IN, retrieved="yes", eligibility="include", study_id="s2")
    log.add(1, **embase, **SCREENED_IN, retrieved="yes", eligibility="include", study_id="s3")
    # removed before screening: 5 duplicates, 2 by automation, 1 other = 8
    log.add(3, **embase, removed_before_screening="duplicate", duplicate_of=first["record_id"])
    log.add(2, **medline, removed_before_screening="duplicate", duplicate_of=first["record_id"])
    log.add(2, **register, removed_before_screening="automation")
    log.add(1, **register, removed_before_screening="other")
    # screened 12: excluded 3 (not SLE 2, animal study 1); sought 9: not retrieved 2; assessed 7
    log.add(2, **medline, screening="exclude", screening_reason="not SLE")
    log.add(1, **register, screening="exclude", screening_reason="animal study")
    log.add(2, **medline, **SCREENED_IN, retrieved="no")
    # excluded 4 (no calcinosis 3, review article 1); included 3 above
    log.add(3, **medline, **SCREENED_IN, retrieved="yes", eligibility="exclude", exclusion_reason="no calcinosis")
    log.add(1, **embase, **SCREENED_IN, retrieved="yes", eligibility="exclude", exclusion_reason="review article")
    # other methods: 6 citation searching + 5 websites = 11; not retrieved 6; assessed 5: excluded 3, included 2
    citations = dict(OTHER, source_type="citation_searching", source="reference list of s1")
    website = dict(OTHER, source_type="website", source="lupus.org")
    log.add(1, **citations, retrieved="yes", eligibility="include", study_id="s4")
    log.add(1, **citations, retrieved="yes", eligibility="include", study_id="s5")
    log.add(4, **citations, retrieved="no")
    log.add(2, **website, retrieved="no")
    log.add(3, **website, retrieved="yes", eligibility="exclude", exclusion_reason="adult dermatomyositis")
    return log


def studies_frame(ids=("s1", "s2", "s3", "s4", "s5"), duplicates=None):
    duplicates = duplicates or {"s5": "s4"}  # s5 reports the same patient as s4: one study, two reports
    return pd.DataFrame({"study_id": list(ids), "duplicate_of": [duplicates.get(i) for i in ids]})


def patients_for(*study_ids):
    return pd.DataFrame({"patient_id": [f"{s}_p1" for s in study_ids], "study_id": list(study_ids)})


EMPTY_TREATMENTS = pd.DataFrame(columns=["treatment_id", "patient_id"])
EMPTY_AGGREGATES = pd.DataFrame(columns=["aggregate_id", "study_id"])

EXPECTED = {
    "databases_registers-identified": 20,
    "databases_registers-removed": 8,
    "databases_registers-screened": 12,
    "databases_registers-excluded-screening": 3,
    "databases_registers-sought": 9,
    "databases_registers-not-retrieved": 2,
    "databases_registers-assessed": 7,
    "databases_registers-excluded": 4,
    "other_methods-identified": 11,
    "other_methods-sought": 11,
    "other_methods-not-retrieved": 6,
    "other_methods-assessed": 5,
    "other_methods-excluded": 3,
    "included-studies": 4,
    "included-reports": 5,
}
# lines that must appear inside a given box (breakdowns by source, removal kind and reason)
EXPECTED_LINES = {
    "databases_registers-identified": ["Databases (n = 16)", "MEDLINE (n = 11)", "Embase (n = 5)",
                                       "Registers (n = 4)", "ClinicalTrials.gov (n = 4)", "Total (n = 20)"],
    "databases_registers-removed": ["Duplicate records removed (n = 5)",
                                    "Records marked as ineligible by automation tools (n = 2)",
                                    "Records removed for other reasons (n = 1)"],
    "databases_registers-excluded-screening": ["Records excluded (n = 3)", "not SLE (n = 2)",
                                               "animal study (n = 1)"],
    "databases_registers-excluded": ["Reports excluded (n = 4):", "no calcinosis (n = 3)",
                                     "review article (n = 1)"],
    "other_methods-identified": ["Citation searching (n = 6)", "reference list of s1 (n = 6)",
                                 "Websites (n = 5)", "lupus.org (n = 5)", "Total (n = 11)"],
    "other_methods-excluded": ["Reports excluded (n = 3):", "adult dermatomyositis (n = 3)"],
}


def box_texts(svg_text):
    """box id -> its text, lines joined by newlines; also the link and tooltip of each box."""
    root = ET.fromstring(svg_text)
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        box_id = group.get("id", "")
        if not box_id.startswith("prisma-diagram-"):
            continue
        link = group.find(f"{SVG}a")
        lines = ["".join(tspan.itertext()) for tspan in link.iter(f"{SVG}tspan")]
        # wrapped lines of one entry continue on the next tspan; join them to compare whole entries
        boxes[box_id[len("prisma-diagram-"):]] = {
            "lines": lines,
            "text": " ".join(lines),
            "href": link.get("href"),
            "title": link.find(f"{SVG}title").text,
        }
    return boxes


def test_counts_of_every_box():
    counts = flow_counts(known_log().frame(), studies_frame())
    boxes = counts.boxes()
    for box_id, n in EXPECTED.items():
        assert boxes[box_id].n == n, box_id
    assert boxes["databases_registers-removed-duplicate"].n == 5
    assert boxes["databases_registers-removed-automation"].n == 2
    assert boxes["databases_registers-removed-other"].n == 1
    assert [(p.label, p.n) for p in counts.databases_registers.excluded.parts] == [
        ("no calcinosis", 3), ("review article", 1)]
    assert not counts.other_methods.has_screening
    assert not counts.is_update
    # the studies box keeps one record per study: s4 and s5 are one patient
    assert len(boxes["included-studies"].record_ids) == 4
    assert boxes["included-reports"].record_ids == ("r001", "r002", "r003", "r021", "r022")


def test_every_number_is_in_its_box_of_the_svg():
    counts = flow_counts(known_log().frame(), studies_frame())
    boxes = box_texts(prisma_svg(counts))
    for box_id, n in EXPECTED.items():
        assert f"(n = {n})" in boxes[box_id]["text"], (box_id, boxes[box_id]["text"])
        assert boxes[box_id]["href"] == f"#prisma-{box_id}"
        assert boxes[box_id]["title"]
    for box_id, lines in EXPECTED_LINES.items():
        text = boxes[box_id]["text"]
        for line in lines:
            assert line in text, (box_id, line, text)
    assert boxes["included-studies"]["lines"] == ["Studies included in review (n = 4)"]
    assert boxes["included-reports"]["lines"] == ["Reports of included studies (n = 5)"]
    # the other-methods arm has no screening in this log: its screening boxes are not drawn
    assert "other_methods-screened" not in boxes
    assert "other_methods-removed" not in boxes


def test_svg_layout_is_sized_and_self_contained():
    svg = prisma_svg(flow_counts(known_log().frame(), studies_frame()), link_prefix="#flow-")
    root = ET.fromstring(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    for rect in root.iter(f"{SVG}rect"):
        assert float(rect.get("x")) + float(rect.get("width")) <= width
        assert float(rect.get("y")) + float(rect.get("height")) <= height
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "#flow-included-studies" in svg
    texts = [t for t in root.iter(f"{SVG}text") if t.text]
    assert {"Identification", "Screening", "Included"} <= {t.text for t in texts}


def test_previous_version_boxes():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    log.add(1, **DB, previous_review="yes", study_id="s0b")  # another report of study s0
    studies = studies_frame(("s0", "s0b", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4", "s0b": "s0"})
    counts = flow_counts(log.frame(), studies)
    assert counts.is_update
    expected = {"previous-studies": 1, "previous-reports": 2, "new-studies": 4, "new-reports": 5,
                "included-studies": 5, "included-reports": 7}
    boxes = box_texts(prisma_svg(counts))
    for box_id, n in expected.items():
        assert counts.boxes()[box_id].n == n, box_id
        assert f"(n = {n})" in boxes[box_id]["text"], box_id
    assert "Total studies included in review (n = 5)" in boxes["included-studies"]["text"]
    # previous records are not part of this version's search flow
    assert counts.databases_registers.identified.n == 20


def test_a_new_report_of_a_previous_study_is_a_new_report_not_a_new_study():
    log = known_log()
    log.add(1, **DB, previous_review="yes", study_id="s0")
    studies = studies_frame(("s0", "s1", "s2", "s3", "s4", "s5"), {"s5": "s4", "s1": "s0"})
    counts = flow_counts(log.frame(), studies)
    assert counts.new_studies.n == 3  # s1 belongs to s0; s2, s3 and s4/s5 are new
    assert counts.new_reports.n == 5
    assert counts.studies.n == 4


def test_svg_is_deterministic_and_escaped(tmp_path):
    log = known_log()
    log.rows[0]["citation"] = "<script>alert('x')</script> & Co"
    log.rows[-1]["exclusion_reason"] = "<script>alert('x')</script>"
    log.rows[-2]["exclusion_reason"] = "<script>alert('x')</script>"
    log.rows[-3]["exclusion_reason"] = "<script>alert('x')</script>"
    log.add(1, **OTHER, source_type="website", source="A & B <b>", retrieved="no")
    counts = flow_counts(log.frame(), studies_frame())
    svg = prisma_svg(counts)
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert('x')&lt;/script&gt; (n = 3)" in svg
    assert "A &amp; B &lt;b&gt; (n = 1)" in svg
    boxes = box_texts(svg)  # still well-formed XML
    assert "<script>alert('x')</script> (n = 3)" in boxes["other_methods-excluded"]["text"]
    first = write_prisma_svg(tmp_path / "a.svg", counts)
    second = write_prisma_svg(tmp_path / "b.svg", flow_counts(log.frame(), studies_frame()))
    assert open(first, "rb").read() == open(second, "rb").read() == svg.encode("utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    listing = records_behind_boxes(counts, log.frame())
    assert listing["databases_registers-included"][0]["citation"] == "<script>alert('x')</script> & Co"


def test_records_behind_boxes():
    log = known_log()
    counts = flow_counts(log.frame(), studies_frame())
    listing = records_behind_boxes(counts, log.frame())
    assert set(EXPECTED) <= set(listing)
    for box_id, n in EXPECTED.items():
        assert len(listing[box_id]) == n
    duplicates = listing["databases_registers-removed-duplicate"]
    assert duplicates[0] == {"record_id": "r004", "citation": "Citation of r004", "reason": "duplicate of r001"}
    assert {e["reason"] for e in listing["databases_registers-excluded"]} == {"no calcinosis", "review article"}
    assert {e["reason"] for e in listing["other_methods-not-retrieved"]} == {"full text not retrieved"}


# ----------------------------------------------------------------------------------------------------
# reconciliation: one test per kind of inconsistency, each with its exact message


def problems_of(log, studies=None, patients=None, aggregates=None):
    studies = studies_frame() if studies is None else studies
    patients = patients_for("s1", "s2", "s3", "s4") if patients is None else patients
    return reconcile(log.frame(), studies, patients, EMPTY_TREATMENTS,
                     EMPTY_AGGREGATES if aggregates is None else aggregates)


def test_consistent_log_has_no_problems():
    assert problems_of(known_log()) == []


def test_included_record_excluded_at_screening():
    log = known_log()
    log.add(1, **DB, source_type="database", source="MEDLINE", screening="exclude", screening_reason="x",
            retrieved="yes", eligibility="include", study_id="s1")
    problems = problems_of(log)
    assert "records.csv:33:eligibility: record r032 is included but was excluded at screening" in problems
    assert ("records.csv: databases_registers: reports sought for retrieval (10) does not equal "
            "records screened - records excluded (9)") in problems


def test_included_record_removed_before_screening():
    log = known_log()
    log.add(1, **DB, source_type="database", removed_before_screening="other", eligibility="include",
            study_id="s2")
    problems = problems_of(log)
    assert ("records.csv:33:eligibility: record r032 was removed before screening (other) "
            "yet has eligibility = include") in problems


def test_not_retrieved_yet_assessed():
    log = known_log()
    log.add(1, **OTHER, source_type="website", retrieved="no", eligibility="exclude", exclusion_reason="x")
    problems = problems_of(log)
    assert ("records.csv:33:eligibility: record r032 was not retrieved yet assessed for eligibility "
            "(eligibility = exclude)") in problems
    assert ("records.csv: other_methods: reports assessed for eligibility (6) does not equal "
            "reports sought - reports not retrieved (5)") in problems


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
    assert problems == [
        "records.csv:33:screening: record r032 was neither removed before screening nor given a screening "
        "decision (include or exclude)",
        "records.csv:34:retrieved: record r033 was not excluded at screening but retrieved is blank (yes if the "
        "full text was obtained, no if not)",
        "records.csv:35:eligibility: record r034 was retrieved but has no eligibility decision",
        "records.csv: databases_registers: records screened (14) does not equal records identified - removed "
        "before screening (15)",
        "records.csv: databases_registers: reports sought for retrieval (10) does not equal records screened - "
        "records excluded (11)",
        "records.csv: databases_registers: reports assessed for eligibility (7) does not equal reports sought - "
        "reports not retrieved (8)",
    ]


def test_report_included_twice():
    log = known_log()
    log.add(1, **OTHER, source_type="citation_searching", retrieved="yes", eligibility="include", study_id="s1")
    problems = problems_of(log)
    assert problems == ["records.csv:33:study_id: report s1 is included through records r001, r032; "
                        "mark all but one as duplicates"]
    # counted once in the reports box all the same
    assert flow_counts(log.frame(), studies_frame()).reports.n == 5


BUNDLED = os.path.join(os.path.dirname(__file__), os.pardir, "extraction_sheets")


@pytest.mark.skipif(not os.path.exists(os.path.join(BUNDLED, "records.csv")), reason="no bundled records log")
def test_bundled_review_reconciles_and_draws():
    def read(name):
        return pd.read_csv(os.path.join(BUNDLED, f"{name}.csv"), dtype=str, keep_default_na=False)

    records = read("records")
    problems = reconcile(records, read("studies"), read("patients"), read("treatments"), read("aggregates"))
    assert problems == []
    counts = flow_counts(records, read("studies"))
    boxes = box_texts(prisma_svg(counts))
    # the counts the log implies, recounted here straight from the rows
    other = records[records["arm"] == "other_methods"]
    assert counts.other_methods.identified.n == len(other)
    assert f"Total (n = {len(other)})" in boxes["other_methods-identified"]["text"]
    removed = (other["removed_before_screening"] != "").sum()
    assert f"Duplicate records removed (n = {removed})" in boxes["other_methods-removed"]["text"]
    included = records[records["eligibility"] == "include"]
    assert f"(n = {len(included)})" in boxes["included-reports"]["text"]
    studies = read("studies").set_index("study_id")["duplicate_of"]
    distinct = {studies.get(s) or s for s in included["study_id"]}
    assert f"Studies included in review (n = {len(distinct)})" in boxes["included-studies"]["text"]


def test_unknown_source_type_and_empty_log():
    log = known_log()
    log.rows[-1]["source_type"] = "podcast"
    assert problems_of(log) == [
        "records.csv:32:source_type: record r031: source type 'podcast' is not a source type of arm "
        "'other_methods' (expected one of website, organisation, citation_searching, other)"]
    empty = Log()
    assert problems_of(empty) == ["records.csv: the records log is empty or missing; the PRISMA 2020 flow "
                                  "diagram is computed from one row per record identified"]
