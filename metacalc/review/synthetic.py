"""A synthetic review for scale tests: every extraction table (quotes and records log included), valid by
construction and the same for the same seed.

Shape: four studies in five are single-patient case reports, the rest case series with individual patient
rows (5 to 40 patients), so most patients come from series; a few series publish aggregate figures only. Therapies follow
a Zipf-like popularity (a few drugs are common, most are rare) and belong to one of therapies/5 drug
classes; each drug has its own true response rate. Values carry quotes of the form "<column>: <value>" so
that the dataset passes the provenance rule; each report's source document in ``sources/`` holds its quotes
(so that validation finds every one of them, as it would in a real review's full texts). They are synthetic
and say so.

The review file names a synthetic condition, one patient field of its own (``marker``, yes/no) and the
synthetic drugs as vocabulary additions.
"""

from __future__ import annotations

import csv
import os
from typing import Any

from metacalc.files import atomic_path

COUNTRIES = ("Spain", "Portugal", "Venezuela", "Japan", "India", "United States", "Brazil", "Italy", "China")
AGGREGATE_ONLY_SERIES = 5


REVIEW = {
    "title": "Synthetic review: scale tests of metacalc",
    "condition": {"name": "synthetic condition", "short": "the condition"},
    "disease": {"name": "synthetic disease", "short": "the disease"},
    "clock": {"start": "diagnosis of the disease", "onset": "onset of the condition", "diagnosis":
              "diagnosis of the condition", "start_short": "disease", "onset_short": "onset",
              "diagnosis_short": "diagnosis"},
    "patient_fields": [{"name": "marker", "type": "enum", "values": ["yes", "no"],
                        "description": "A synthetic yes/no patient fact.", "label": "marker"}],
}


def synthetic_drugs(therapies: int) -> list[str]:
    return [f"synthdrug{i + 1:03d}" for i in range(therapies)]


def _columns(table, review_document):
    from metacalc.data.review_file import parse_review
    from metacalc.data.schema import load_schema

    schema = load_schema(parse_review(review_document))
    return [column.name for column in schema[table].columns if not column.derived]


def _quote(quotes, table, row_id, row, columns):
    for column in columns:
        value = row.get(column)
        if value not in (None, ""):
            quotes.append({"table": table, "row_id": row_id, "column": column, "quote": f"{column}: {value}",
                           "location": "synthetic"})


def synthetic_review(patients: int = 10000, therapies: int = 50, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """The tables of a synthetic review as lists of row dicts (keys: the schema's input columns); its review
    file is ``synthetic_review_file(therapies)``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    drugs = synthetic_drugs(therapies)
    popularity = 1.0 / np.arange(1, therapies + 1)
    popularity /= popularity.sum()
    true_rate = rng.uniform(0.1, 0.8, size=therapies)

    # study sizes: 80% case reports (1 patient), 20% series
    sizes = []
    remaining = patients
    while remaining > 0:
        size = 1 if rng.random() < 0.8 else int(rng.integers(5, 41))
        size = min(size, remaining)
        sizes.append(size)
        remaining -= size

    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in ("studies", "patients", "treatments", "aggregates",
                                                                     "records", "appraisal", "appraisal_overall",
                                                                     "quotes")}
    quotes = tables["quotes"]

    def add_study(study_id: str, index: int, design: str, duplicate_of: str = "") -> None:
        row = {
            "study_id": study_id,
            "first_author": f"Author{index:05d}",
            "year": int(1980 + index % 45),
            "title": f"Synthetic {design} {index}",
            "country": COUNTRIES[index % len(COUNTRIES)],
            "design": design,
            "language": "english",
            "source_document": f"synthetic_{study_id}.txt",
            "duplicate_of": duplicate_of,
            "duplicate_evidence": "same age, sex and drugs (synthetic)" if duplicate_of else "",
        }
        tables["studies"].append(row)
        _quote(quotes, "studies", study_id, row, ("first_author", "year", "title", "country"))

    patient_number = 0
    case_reports: list[str] = []
    for index, size in enumerate(sizes, start=1):
        study_id = f"s{index:05d}"
        duplicate_of = ""
        if size == 1 and case_reports and rng.random() < 0.005:
            duplicate_of = case_reports[int(rng.integers(0, len(case_reports)))]
        add_study(study_id, index, "case report" if size == 1 else "case series", duplicate_of)
        if size == 1 and not duplicate_of:
            case_reports.append(study_id)
        for _ in range(size):
            patient_number += 1
            patient_id = f"{study_id}_p{patient_number:05d}"
            patient = {
                "patient_id": patient_id,
                "study_id": study_id,
                "age_at_presentation": int(rng.integers(16, 75)),
                "sex": "female" if rng.random() < 0.85 else "male",
                "onset_years_after_start": round(float(rng.gamma(2.0, 4.5)), 1),
                "marker": "yes" if rng.random() < 0.1 else "no",
            }
            tables["patients"].append(patient)
            _quote(quotes, "patients", patient_id, patient,
                   ("age_at_presentation", "sex", "onset_years_after_start", "marker"))
            # 1 to 3 courses of different drugs, never more than there are drugs (for 3 or more drugs the draw is
            # the same as ever, so a seed gives the same review)
            courses = int(rng.integers(1, min(3, therapies) + 1))
            chosen = rng.choice(therapies, size=courses, replace=False, p=popularity)
            for order, drug_index in enumerate(chosen, start=1):
                treatment_id = f"{patient_id}_t{order}"
                if rng.random() < 0.1:
                    response = "not reported"
                elif rng.random() < true_rate[drug_index]:
                    response = "complete" if rng.random() < 0.4 else "partial"
                else:
                    response = "none"
                course = {"treatment_id": treatment_id, "patient_id": patient_id, "therapy": drugs[drug_index],
                          "course_order": order, "response": response}
                tables["treatments"].append(course)
                _quote(quotes, "treatments", treatment_id, course, ("therapy", "response"))

    # series that publish aggregate figures only
    for extra in range(AGGREGATE_ONLY_SERIES):
        index = len(sizes) + extra + 1
        study_id = f"s{index:05d}"
        add_study(study_id, index, "case series")
        for drug_index in range(min(3, therapies)):
            n = int(rng.integers(10, 60))
            row = {"aggregate_id": f"{study_id}_{drugs[drug_index]}_partial", "study_id": study_id,
                   "population": "all patients", "outcome": "response_partial", "therapy": drugs[drug_index], "n": n,
                   "events": int(rng.binomial(n, true_rate[drug_index]))}
            tables["aggregates"].append(row)
            _quote(quotes, "aggregates", row["aggregate_id"], row, ("population", "therapy", "n", "events"))
        n = int(rng.integers(20, 80))
        row = {"aggregate_id": f"{study_id}_onset", "study_id": study_id, "population": "all patients",
               "outcome": "years_to_onset", "n": n, "mean": round(float(rng.uniform(6, 22)), 1),
               "sd": round(float(rng.uniform(3, 8)), 1)}
        tables["aggregates"].append(row)
        _quote(quotes, "aggregates", row["aggregate_id"], row, ("population", "n", "mean", "sd"))

    # records log: one included record per report, plus duplicates and records excluded at screening
    for number, study in enumerate(tables["studies"], start=1):
        tables["records"].append({
            "record_id": f"r{number:06d}", "arm": "databases_registers", "source_type": "database",
            "source": "MEDLINE" if number % 2 else "Embase", "citation": study["title"], "year": study["year"],
            "previous_review": "no", "screening": "include", "retrieved": "yes", "eligibility": "include",
            "study_id": study["study_id"],
        })
    included = len(tables["records"])
    for number in range(included + 1, included + included // 2 + 1):
        duplicate = number % 3 == 0
        row = {"record_id": f"r{number:06d}", "arm": "databases_registers", "source_type": "database",
               "source": "Embase", "citation": f"Synthetic record {number}", "previous_review": "no"}
        if duplicate:
            row.update(removed_before_screening="duplicate", duplicate_of=f"r{(number % included) + 1:06d}")
        else:
            row.update(screening="exclude", screening_reason="other disease" if number % 2 else "other condition")
        tables["records"].append(row)

    # risk of bias: JBI for case reports, Murad et al. for series
    answers = ("yes", "yes", "yes", "no", "unclear")
    for study in tables["studies"]:
        tool, items = (("jbi_case_report", [str(i) for i in range(1, 9)]) if study["design"] == "case report"
                       else ("murad_2018", [f"Q{i}" for i in range(1, 9)]))
        for item in items:
            tables["appraisal"].append({"study_id": study["study_id"], "tool": tool, "item": item,
                                        "answer": answers[int(rng.integers(0, len(answers)))],
                                        "justification": "synthetic answer"})
        judgement = ("low", "moderate", "high")[int(rng.choice(3, p=(0.5, 0.35, 0.15)))]
        tables["appraisal_overall"].append({"study_id": study["study_id"], "tool": tool, "judgement": judgement,
                                            "rationale": "synthetic judgement"})
    return tables


def synthetic_review_file(therapies: int = 50) -> dict[str, Any]:
    """The review file of a synthetic review: its words, its patient field, its drugs as vocabulary additions,
    and the aggregate-only series' onset figures as published figures about all patients."""
    classes = max(1, therapies // 5)
    return {**REVIEW,
            "vocabulary": [{"name": d, "drug": d, "drug_class": f"synthclass{i % classes + 1:02d}"}
                           for i, d in enumerate(synthetic_drugs(therapies))]}


def source_documents(tables: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """{file name in sources/: text}: each report's quotes, one per line, in its source document."""
    study_of = {p["patient_id"]: p["study_id"] for p in tables["patients"]}
    owner = {("studies", s["study_id"]): s["study_id"] for s in tables["studies"]}
    owner.update({("patients", p["patient_id"]): p["study_id"] for p in tables["patients"]})
    owner.update({("treatments", t["treatment_id"]): study_of[t["patient_id"]] for t in tables["treatments"]})
    owner.update({("aggregates", a["aggregate_id"]): a["study_id"] for a in tables["aggregates"]})
    document = {s["study_id"]: s["source_document"] for s in tables["studies"]}
    lines: dict[str, list[str]] = {name: [f"Synthetic report {study} (generated by metacalc synthesize)."]
                                   for study, name in document.items()}
    for quote in tables["quotes"]:
        lines[document[owner[(quote["table"], quote["row_id"])]]].append(quote["quote"])
    return {name: "\n".join(text) + "\n" for name, text in lines.items()}


def write_synthetic_review(folder: str, patients: int = 10000, therapies: int = 50, seed: int = 1) -> str:
    """Write a synthetic review into a review folder: ``review.yaml``, ``extraction_sheets/`` (CSV) and
    ``sources/`` (one text per report, holding its quotes); returns the rows per table, in words."""
    import yaml

    tables = synthetic_review(patients=patients, therapies=therapies, seed=seed)
    review = synthetic_review_file(therapies)
    review["published_figures"] = [{"aggregate": row["aggregate_id"], "population": "all patients",
                                    "measure": row["outcome"]}
                                   for row in tables["aggregates"] if row["outcome"] == "years_to_onset"]
    sheets, sources = os.path.join(folder, "extraction_sheets"), os.path.join(folder, "sources")
    os.makedirs(sheets, exist_ok=True)
    os.makedirs(sources, exist_ok=True)
    with atomic_path(os.path.join(folder, "review.yaml")) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        handle.write("# A synthetic review written by `metacalc synthesize` (scale tests): nothing in it is real.\n")
        yaml.safe_dump(review, handle, sort_keys=False, allow_unicode=True, width=110)
    for table, rows in tables.items():
        columns = _columns(table, review)
        path = os.path.join(sheets, f"{table}.csv")
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n", extrasaction="raise")
            writer.writeheader()
            writer.writerows(rows)
    for name, text in source_documents(tables).items():
        with atomic_path(os.path.join(sources, name)) as tmp, open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
    return ", ".join(f"{table} {len(rows)}" for table, rows in tables.items())
