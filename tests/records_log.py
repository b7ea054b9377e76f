"""A records log with a known number in every box of the PRISMA 2020 flow, for the tests of the flow counts,
the records-log rules and the diagram (``from records_log import ...``: tests/ is on the path of the tests)."""

import pandas as pd

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


