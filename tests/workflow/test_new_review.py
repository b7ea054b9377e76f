"""A review of another condition, started with `metacalc init` in its own folder and filled as a reviewer would
(here by code): 7 reports (5 case reports, a case series with patient rows, a series with aggregate figures only),
8 patients with fields of the review's own, 3 therapies (one added to the vocabulary by the review file), its own
response categories, the source texts its quotes are found in. Its workflow (the one shipped in metacalc, used
through Snakemake's module directive) builds the report; the numbers are checked in the report, and nothing of
the bundled review's words is in it."""

import csv
import json
import re
from html import unescape

import pytest
import yaml
from runs import snakemake

from metacalc.cli import main

TITLE = "Uveitis in sarcoidosis: a systematic review of case reports"
REVIEW = {
    "title": TITLE,
    "condition": {"name": "uveitis", "short": "uveitis"},
    "disease": {"name": "sarcoidosis", "short": "sarcoidosis"},
    "clock": {"start": "sarcoidosis diagnosis", "start_short": "sarcoidosis", "onset": "first symptoms of uveitis",
              "onset_short": "onset", "diagnosis": "diagnosis of uveitis", "diagnosis_short": "uveitis diagnosis"},
    "patient_fields": [
        {"name": "eye", "type": "enum", "values": ["left", "right", "both"], "label": "eye affected",
         "description": "Which eye the uveitis affected."},
        {"name": "granulomas", "type": "enum", "values": ["yes", "no"], "description": "Granulomas seen."},
        {"name": "ace_level", "type": "number", "unit": "U/L", "min": 0, "label": "serum ACE",
         "description": "Serum angiotensin-converting enzyme.", "show": False},
    ],
    "response": {"categories": [{"name": "resolved", "meaning": "inflammation resolved", "counted": "resolutions"},
                                {"name": "improved", "meaning": "less inflammation", "counted": "improvements"},
                                {"name": "unchanged", "meaning": "no change", "counted": "no changes"},
                                {"name": "worse", "meaning": "more inflammation", "counted": "worsenings"},
                                {"name": "unknown", "meaning": "the report does not say", "counted": "unknowns"}],
                 "any_response": ["resolved", "improved"], "complete_response": ["resolved"],
                 "not_assessed": ["unknown"]},
    "published_figures": [{"aggregate": "kumar2019_onset", "population": "all patients", "measure": "years_to_onset"},
                          {"aggregate": "kumar2019_both_eyes", "population": {"eye": "both"},
                           "measure": "years_to_diagnosis"}],
    "vocabulary": [{"name": "adalimumab", "drug": "adalimumab", "drug_class": "biologic (TNF inhibitor)"}],
    "appraisal": {"incomplete": "error"},
}
# study: (first author, year, design, patients: [(patient, age, sex, eye, granulomas, ace, years to onset)])
STUDIES = {
    "ahmed2010": ("Ahmed", 2010, "case report", [("ahmed2010_p1", 34, "female", "left", "yes", 85, 2)]),
    "brown2012": ("Brown", 2012, "case report", [("brown2012_p1", 41, "male", "both", "no", None, 5)]),
    "chen2014": ("Chen", 2014, "case report", [("chen2014_p1", 29, "female", "right", None, 60, 1)]),
    "diaz2015": ("Diaz", 2015, "case report", [("diaz2015_p1", 52, "female", "both", "yes", None, 3)]),
    "evans2017": ("Evans", 2017, "case report", [("evans2017_p1", 47, "male", "left", None, None, "years")]),
    "fischer2018": ("Fischer", 2018, "case series", [("fischer2018_p1", 38, "female", "both", "yes", 120, 6),
                                                     ("fischer2018_p2", 45, "female", "right", None, None, 2),
                                                     ("fischer2018_p3", 60, "male", None, None, None, None)]),
    "kumar2019": ("Kumar", 2019, "case series", []),
}
# patient: [(therapy as written, response)]
COURSES = {
    "ahmed2010_p1": [("Prednisolone", "resolved")],
    "brown2012_p1": [("prednisolone", "unchanged"), ("Adalimumab", "improved")],
    "chen2014_p1": [("prednisolone", "improved")],
    "diaz2015_p1": [("methotrexate", "worse"), ("adalimumab", "resolved")],
    "evans2017_p1": [("prednisolone", "unknown"), ("methotrexate", "improved")],
    "fischer2018_p1": [("prednisolone", "unchanged")],
    "fischer2018_p2": [("adalimumab", "resolved")],
    "fischer2018_p3": [("methotrexate", "unchanged")],
}
AGGREGATES = [
    {"aggregate_id": "kumar2019_mtx_resolved", "outcome": "response_resolved", "therapy": "methotrexate", "n": 12,
     "events": 5},
    {"aggregate_id": "kumar2019_mtx_improved", "outcome": "response_improved", "therapy": "methotrexate", "n": 12,
     "events": 3},
    {"aggregate_id": "kumar2019_onset", "outcome": "years_to_onset", "n": 30, "mean": 4.2, "sd": 2.1},
    {"aggregate_id": "kumar2019_both_eyes", "outcome": "years_to_diagnosis", "n": 9, "mean": 6.0},
]


def write_csv(path, rows):
    columns = list(dict.fromkeys(key for row in rows for key in row))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in row.items()} for row in rows])


def fill(folder):
    """The review's data, written as a reviewer would: every value with a quote found in its source text."""
    (folder / "review.yaml").write_text(yaml.safe_dump(REVIEW, sort_keys=False), encoding="utf-8")
    plan = folder / "analyses" / "time_to_onset.yaml"
    plan.write_text(plan.read_text(encoding="utf-8").replace("# subgroup_by: site", "subgroup_by: eye"),
                    encoding="utf-8")
    sheets = folder / "extraction_sheets"
    studies, patients, treatments, aggregates, quotes, texts = [], [], [], [], [], {}

    def quoted(study, table, row_id, row, columns):
        for column in columns:
            if row.get(column) is not None:
                sentence = f"The {column.replace('_', ' ')} was {row[column]}."
                quotes.append({"table": table, "row_id": row_id, "column": column, "quote": sentence,
                               "location": "Case"})
                texts.setdefault(study, []).append(sentence)

    for study, (author, year, design, people) in STUDIES.items():
        row = {"study_id": study, "first_author": author, "year": year, "title": f"Uveitis in sarcoidosis ({author})",
               "country": "Norway", "design": design, "language": "english", "source_document": f"{study}.txt"}
        studies.append(row)
        quoted(study, "studies", study, row, ("first_author", "year", "title", "country"))
        for patient, age, sex, eye, granulomas, ace, years in people:
            row = {"patient_id": patient, "study_id": study, "age_at_presentation": age, "sex": sex, "eye": eye,
                   "granulomas": granulomas, "ace_level": ace}
            if years == "years":  # stated as calendar years: 2010 and 2014, four years
                row.update(start_year=2010, onset_year=2014)
            else:
                row["onset_years_after_start"] = years
            patients.append(row)
            quoted(study, "patients", patient, row, [c for c in row if c not in ("patient_id", "study_id")])
            for order, (therapy, response) in enumerate(COURSES[patient], start=1):
                course = {"treatment_id": f"{patient}_t{order}", "patient_id": patient, "therapy": therapy,
                          "course_order": order, "response": response}
                treatments.append(course)
                quoted(study, "treatments", course["treatment_id"], course, ("therapy", "response"))
    for figure in AGGREGATES:
        row = {"study_id": "kumar2019", "population": "patients with ocular sarcoidosis", **figure}
        aggregates.append(row)
        quoted("kumar2019", "aggregates", row["aggregate_id"], row,
               [c for c in row if c not in ("aggregate_id", "study_id", "outcome")])
    records = [{"record_id": f"r{i:02d}", "arm": "databases_registers", "source_type": "database",
                "source": "MEDLINE", "citation": s["title"], "year": s["year"], "screening": "include",
                "retrieved": "yes", "eligibility": "include", "study_id": s["study_id"]}
               for i, s in enumerate(studies, start=1)]
    records += [{"record_id": "r90", "arm": "databases_registers", "source_type": "database", "source": "Embase",
                 "citation": "Uveitis in Behcet disease", "screening": "exclude", "screening_reason": "other disease"},
                {"record_id": "r91", "arm": "databases_registers", "source_type": "database", "source": "Embase",
                 "citation": studies[0]["title"], "removed_before_screening": "duplicate", "duplicate_of": "r01"}]
    appraisal, overall = [], []
    for s in studies:
        tool, items = (("jbi_case_report", [str(i) for i in range(1, 9)]) if s["design"] == "case report"
                       else ("murad_2018", [f"Q{i}" for i in range(1, 9)]))
        appraisal += [{"study_id": s["study_id"], "tool": tool, "item": item, "answer": "yes",
                       "justification": "stated in the report"} for item in items]
        overall.append({"study_id": s["study_id"], "tool": tool,
                        "judgement": "high" if s["study_id"] == "evans2017" else "low", "rationale": "as appraised"})
    for name, rows in (("studies", studies), ("patients", patients), ("treatments", treatments),
                       ("aggregates", aggregates), ("quotes", quotes), ("records", records),
                       ("appraisal", appraisal), ("appraisal_overall", overall)):
        write_csv(sheets / f"{name}.csv", rows)
    for study, sentences in texts.items():
        (folder / "sources" / f"{study}.txt").write_text(f"Full text of {study}.\n" + "\n".join(sentences) + "\n",
                                                         encoding="utf-8")
    (folder / "expected_findings.yaml").write_text(yaml.safe_dump({
        "rows": {"studies": 7, "patients": 8, "treatments": 11, "aggregates": 4},
        "prisma": {"included-studies": 7},
        "findings": [
            {"analysis": "response_per_drug", "group": "prednisolone", "expect": {"events": 2, "total": 4}},
            {"analysis": "response_per_drug", "group": "adalimumab", "expect": {"events": 3, "total": 3}},
            {"analysis": "time_to_onset", "group": "all patients", "expect": {"n": 7, "mean": 3.3}},
        ]}), encoding="utf-8")


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    folder = tmp_path_factory.mktemp("new") / "uveitis"
    assert main(["init", str(folder), "--title", TITLE]) == 0
    fill(folder)
    assert main(["validate", str(folder)]) == 0
    run = snakemake(folder)  # plain `snakemake` in the review folder: its profile, the shipped workflow
    assert run.returncode == 0, run.stderr[-3000:]
    (folder.parent / "terminal.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    return folder


def report_text(folder):
    html = (folder / "reports" / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    return html, re.sub(r" ([:,;)])", r"\1", text)


def test_the_workflow_builds_the_report_in_the_review_folder(review):
    assert (review / "reports" / "index.html").exists()
    terminal = (review.parent / "terminal.txt").read_text(encoding="utf-8")
    assert terminal.rstrip().endswith("Report: reports/index.html (logs in reports/logs/)")
    assert [line.split()[1] for line in terminal.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)] == [
        "analyse:", "report:"]


def test_the_report_s_numbers(review):
    html, text = report_text(review)
    assert f"<h1>{TITLE}</h1>" in html
    assert re.search(r"prednisolone sources \d+ \(\d+\) " + re.escape("2 of 4 patients responded (50.0%"), text)  # summary of findings
    assert re.search(r"methotrexate sources \d+ \(\d+\) " + re.escape("1 of 3 patients responded (33.3%"), text)  # summary of findings
    assert re.search(r"adalimumab sources \d+ \(\d+\) " + re.escape("3 of 3 patients responded (100.0%"), text)  # summary of findings
    # 7 patients: the median with its exact interval, the mean without one (the time rule)
    assert re.search(r"all patients:? median [0-9.]+ years \(95% CI [0-9.]+ to [0-9.]+, exact, [^)]*\); mean 3\.3 \(SD [0-9.]+\), no "
                     r"interval for the mean with fewer than 10 patients; n = 7", text), text[:3000]
    assert "Time from sarcoidosis diagnosis to uveitis" in text  # the section, titled by the review's clock
    assert "Years sarcoidosis → onset" in text and "Eye affected" in text  # the review's own field
    assert "Response was defined before the analysis as resolved (inflammation resolved), improved (less " \
           "inflammation), unchanged (no change) or worse (more inflammation)" in text
    assert "With the case series (Kumar 2019)" in text  # a sensitivity heading named by the series' own label
    # the subgroup figure against the subgroup it describes: 3 patients with both eyes affected, 6.0 years
    assert "eye affected: both Kumar 2019 — patients with ocular sarcoidosis (n = 9) to uveitis diagnosis vs to " \
        "onset 3 4.7 6.0" in text
    # a course whose response is one of the review's unknown categories is listed with it, never counted
    assert "Evans 2017, patient 1, prednisolone ( evans2017_p1_t1) Evans 2017 response_per_class: response unknown" \
        in text
    # evans2017 (judged at high risk of bias): its patient is left out of the low-risk variant of methotrexate
    results = json.loads((review / "reports" / "tables" / "results.json").read_text(encoding="utf-8"))
    per_drug = next(a for a in results["analyses"] if a["id"] == "response_per_drug")
    low_risk = next(v for v in per_drug["sensitivity"] if v["id"] == "low_risk_only")
    row = next(r for r in low_risk["rows"] if r["group"] == "methotrexate")
    assert (row["main"]["events"], row["main"]["total"], row["variant"]["events"], row["variant"]["total"]) == (
        1, 3, 0, 2)


def test_the_review_checks_its_expected_findings(review, capsys):
    assert main(["check", str(review)]) == 0
    assert capsys.readouterr().out.endswith("expected values, all as expected\n")


def test_nothing_of_the_bundled_review_is_in_the_report(review):
    html, _ = report_text(review)
    assert not re.search(r"\bSLE\b", html)
    assert not re.search(r"lupus|calcinosis|mayo", html, re.IGNORECASE)
