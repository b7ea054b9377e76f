"""The bundled review's hand-extracted sheets (its committed copy under tests/fixtures/golden/review/) against
the documents they were extracted from (its sources/): the second reviewer's checks of that data.

That every quote is found in its source document is checked by `metacalc validate` itself (a rule of every
review, tests/data/test_sources.py); these are the checks of this data that no rule makes: what the reports say
and the sheets hold, and that a risk-of-bias answer quotes only what its report says.

The sheets are read with pandas directly, not with the metacalc loader, so that they test the data itself.
"""

import re
from pathlib import Path

import pandas as pd
import pytest

REVIEW = Path(__file__).resolve().parents[1] / "fixtures" / "golden" / "review"
SHEETS = REVIEW / "extraction_sheets"
SOURCES = REVIEW / "sources"

COLUMNS = {
    "studies": ["study_id", "first_author", "year", "title", "journal", "volume", "pages", "doi", "pmid",
                "country", "design", "language", "source_document", "duplicate_of", "duplicate_evidence",
                "notes"],
    "patients": ["patient_id", "study_id", "age_at_presentation", "sex", "start_year",
                 "start_years_before_presentation", "onset_year", "onset_years_after_start",
                 "onset_years_before_presentation", "diagnosis_year", "diagnosis_years_after_start",
                 "presentation_year", "onset_before_start", "lupus_panniculitis", "distribution", "sites",
                 "calcium_normal", "phosphate_normal", "pth_normal", "notes"],
    "treatments": ["treatment_id", "patient_id", "therapy", "dose", "dose_unit", "route", "duration",
                   "course_order", "response", "notes"],
    "aggregates": ["aggregate_id", "study_id", "population", "outcome", "therapy", "n", "events", "mean", "sd",
                   "median", "q1", "q3", "min", "max", "notes"],
    "records": ["record_id", "arm", "source_type", "source", "citation", "doi", "pmid", "year",
                "previous_review", "duplicate_of", "removed_before_screening", "screening", "screening_reason",
                "retrieved", "eligibility", "exclusion_reason", "study_id"],
    "quotes": ["table", "row_id", "column", "quote", "location"],
}
EXTRACTED_TABLES = ["studies", "patients", "treatments", "aggregates"]
# Columns that are identifiers, links, reviewer decisions or free notes: not extracted facts, so no quote.
NOT_QUOTED = {"study_id", "patient_id", "treatment_id", "aggregate_id", "source_document", "duplicate_of",
              "duplicate_evidence", "notes"}
NUMERIC = {
    "patients": ["age_at_presentation", "start_year", "start_years_before_presentation",
                 "onset_year", "onset_years_after_start", "onset_years_before_presentation",
                 "diagnosis_year", "diagnosis_years_after_start",
                 "presentation_year"],
    "treatments": ["dose", "course_order"],
    "aggregates": ["n", "events", "mean", "sd", "median", "q1", "q3", "min", "max"],
    "studies": ["year", "volume"],
}
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen"}
ENUMERATIONS = {
    ("studies", "design"): {"case report", "case series", "review", "image"},
    ("patients", "sex"): {"female", "male"},
    ("patients", "onset_before_start"): {"yes", "no"},
    ("patients", "lupus_panniculitis"): {"yes", "no"},
    ("patients", "distribution"): {"circumscripta", "universalis"},
    ("patients", "calcium_normal"): {"yes", "no"},
    ("patients", "phosphate_normal"): {"yes", "no"},
    ("patients", "pth_normal"): {"yes", "no"},
    ("treatments", "response"): {"complete", "partial", "none", "not reported"},
    ("aggregates", "outcome"): {"response_complete", "response_partial", "response_none", "years_to_onset",
                                "years_to_diagnosis", "age_at_onset"},
    ("records", "arm"): {"databases_registers", "other_methods"},
    ("records", "source_type"): {"database", "register", "website", "organisation", "citation_searching", "other"},
    ("records", "previous_review"): {"yes", "no"},
    ("records", "removed_before_screening"): {"duplicate", "automation", "other"},
    ("records", "screening"): {"include", "exclude"},
    ("records", "retrieved"): {"yes", "no"},
    ("records", "eligibility"): {"include", "exclude"},
}


def normalise(text):
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def sheets():
    return {table: pd.read_csv(SHEETS / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
            for table in COLUMNS}


@pytest.fixture(scope="module")
def documents():
    return {path.name: normalise(path.read_text(encoding="utf-8")) for path in sorted(SOURCES.iterdir())
            if path.name != "README.md"}


def by_id(frame, id_column):
    return {row[id_column]: row for _, row in frame.iterrows()}


def study_of(sheets, table, row_id):
    """The study a row of an extraction table belongs to."""
    if table == "studies":
        return row_id
    if table in ("patients", "aggregates"):
        return by_id(sheets[table], COLUMNS[table][0])[row_id]["study_id"]
    patient = by_id(sheets["treatments"], "treatment_id")[row_id]["patient_id"]
    return by_id(sheets["patients"], "patient_id")[patient]["study_id"]


def test_columns_are_exactly_the_architecture_contract(sheets):
    for table, columns in COLUMNS.items():
        assert list(sheets[table].columns) == columns, table


def test_ids_are_unique_and_references_resolve(sheets):
    for table in ["studies", "patients", "treatments", "aggregates", "records"]:
        ids = sheets[table][COLUMNS[table][0]]
        assert ids.is_unique and (ids != "").all(), table
    studies = set(sheets["studies"]["study_id"])
    patients = set(sheets["patients"]["patient_id"])
    assert set(sheets["patients"]["study_id"]) <= studies
    assert set(sheets["aggregates"]["study_id"]) <= studies
    assert set(sheets["treatments"]["patient_id"]) <= patients
    assert set(sheets["studies"]["duplicate_of"]) - {""} <= studies


def test_enumerations_are_lower_case_members(sheets):
    for (table, column), allowed in ENUMERATIONS.items():
        values = set(sheets[table][column]) - {""}
        assert values <= allowed, (table, column, values - allowed)


def test_every_extracted_value_has_a_quote_and_every_quote_a_value(sheets):
    quoted = {(q["table"], q["row_id"], q["column"]) for _, q in sheets["quotes"].iterrows()}
    cells = set()
    for table in EXTRACTED_TABLES:
        id_column = COLUMNS[table][0]
        for _, row in sheets[table].iterrows():
            for column in COLUMNS[table]:
                if column not in NOT_QUOTED and row[column] != "":
                    cells.add((table, row[id_column], column))
    assert sorted(cells - quoted) == [], "values without a quote"
    assert sorted(quoted - cells) == [], "quotes for blank or unknown cells"


def test_the_sources_are_the_files_the_review_team_supplied(documents):
    """sources/ holds the seeds and the team's note, unchanged: the same bytes as the shared folder's copies."""
    import hashlib

    digests = {name: hashlib.sha256((SOURCES / name).read_bytes()).hexdigest()[:12] for name in documents}
    assert digests == {"000_022f695a9f9c1f11.txt": "d634ad9e8df3", "001_cec15ae2db6db2c8.txt": "7cc63743ef59",
                       "002_30b8ef9e88a5d77b.txt": "a572cec41484", "003_7facb17abbb17acf.txt": "2453888b973c",
                       "004_1ed2b1a63fe137d1.txt": "9ecd6b02314d", "balin2012.md": "3e4654f502d7"}


# A fragment in single quotes inside free text ('a 49-year-old woman'): it starts after a space, an opening
# bracket or the start of the text, so apostrophes inside words (patient's, authors') never open one.
QUOTED_FRAGMENT = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=\())'([^']{4,}?)'(?=[\s,.;:)]|$)")


def test_appraisal_quotes_are_verbatim_in_the_appraised_report(sheets, documents):
    """Second-review rule: a risk-of-bias answer may only quote what its report says."""
    source_document = by_id(sheets["studies"], "study_id")
    frames = [(pd.read_csv(SHEETS / f"{table}.csv", dtype=str, keep_default_na=False), column)
              for table, column in (("appraisal", "justification"), ("appraisal_overall", "rationale"))]
    missing = []
    for frame, column in frames:
        for _, row in frame.iterrows():
            text = documents[source_document[row["study_id"]]["source_document"]].replace("*", "")
            for fragment in QUOTED_FRAGMENT.findall(row[column]):
                if not quoted_in(fragment, text):
                    missing.append((row["study_id"], row["tool"], row.get("item", ""), fragment))
    assert missing == []


def quoted_in(fragment, text):
    """Whether a quote is in the text; '...' marks an elision, so the pieces must appear in order."""
    position = 0
    for piece in (normalise(p) for p in re.split(r"\.\.\.|…", fragment)):
        if piece:
            position = text.find(piece, position)
            if position < 0:
                return False
            position += len(piece)
    return True


def test_appraisal_quote_check_catches_an_invented_quote(documents):
    text = documents["003_7facb17abbb17acf.txt"]
    justification = "Age and sex stated: 'a 49-year-old woman' seen 'in Porto, Portugal'; the patient's age."
    fragments = QUOTED_FRAGMENT.findall(justification)
    assert fragments == ["a 49-year-old woman", "in Porto, Portugal"]
    assert [quoted_in(f, text) for f in fragments] == [True, False]
    assert quoted_in("a 49-year-old woman presented ... switch from nifedipine", text)
    assert not quoted_in("switch from nifedipine ... a 49-year-old woman presented", text)  # out of order


def test_numbers_appear_in_their_quotes(sheets):
    """A typed number must be visible in its quote (as digits, a decimal comma, or a word)."""
    quotes = {(q["table"], q["row_id"], q["column"]): q["quote"] for _, q in sheets["quotes"].iterrows()}
    wrong = []
    for table, columns in NUMERIC.items():
        id_column = COLUMNS[table][0]
        for _, row in sheets[table].iterrows():
            for column in columns:
                value = row[column]
                if value == "":
                    continue
                quote = quotes[(table, row[id_column], column)].lower()
                number = float(value)
                spellings = {value, value.replace(".", ",")}
                if number.is_integer() and int(number) in NUMBER_WORDS:
                    spellings.add(NUMBER_WORDS[int(number)])
                if not any(re.search(rf"(?<![\d.,]){re.escape(s)}(?![\d]|[.,]\d)", quote) for s in spellings):
                    wrong.append((table, row[id_column], column, value, quote))
    assert wrong == []


def test_citation_searching_records_are_verbatim_in_the_citing_reference_list(sheets, documents):
    source_document = by_id(sheets["studies"], "study_id")
    for _, record in sheets["records"].iterrows():
        if record["source_type"] != "citation_searching":
            continue
        citing = record["source"].removeprefix("reference list of ")
        text = documents[source_document[citing]["source_document"]].replace("*", "")
        assert normalise(record["citation"]) in text, record["record_id"]
        assert record["year"] and record["year"] in record["citation"], record["record_id"]


def test_records_log_is_internally_consistent(sheets):
    records = sheets["records"]
    ids = set(records["record_id"])
    for _, r in records.iterrows():
        is_duplicate = r["removed_before_screening"] == "duplicate"
        assert is_duplicate == (r["duplicate_of"] != ""), r["record_id"]
        if r["removed_before_screening"] != "":
            assert r["screening"] == r["retrieved"] == r["eligibility"] == "", r["record_id"]
            target = records.loc[records["record_id"] == r["duplicate_of"]].iloc[0]
            assert r["duplicate_of"] in ids and target["removed_before_screening"] == "", r["record_id"]
            continue
        assert r["screening"] in {"include", "exclude"}, r["record_id"]
        if r["screening"] == "exclude":
            assert r["screening_reason"] and r["retrieved"] == r["eligibility"] == "", r["record_id"]
        if r["retrieved"] != "yes":
            assert r["eligibility"] == "" and r["study_id"] == "", r["record_id"]
        assert (r["eligibility"] == "include") == (r["study_id"] != ""), r["record_id"]
    included = records.loc[records["eligibility"] == "include", "study_id"]
    assert sorted(included) == sorted(sheets["studies"]["study_id"]), "one including record per study"


def test_records_counts(sheets):
    records = sheets["records"]
    assert len(records) == 52  # 5 seeds + 7 + 35 + 5 references
    assert (records["removed_before_screening"] == "duplicate").sum() == 7
    assert (records["screening"] == "exclude").sum() == 22
    not_retrieved = records.loc[records["retrieved"] == "no", "citation"]
    assert len(not_retrieved) == 17
    assert any(c.startswith("Rothe MJ") for c in not_retrieved)
    # Tristano 2006, cited by seed 000, is the seed 001 record seen again
    tristano = records.loc[records["record_id"] == "perezpampin_ref2"].iloc[0]
    assert tristano["duplicate_of"] == "seed_001"


def test_extracted_facts(sheets):
    patients = by_id(sheets["patients"], "patient_id")
    treatments = sheets["treatments"]

    seed002 = treatments[treatments["patient_id"] == "seed002_p1"].set_index("therapy")["response"]
    assert seed002.drop("surgical removal").tolist() == ["none"] * 4
    assert sorted(seed002.index) == ["bisphosphate", "ceftriaxone", "diltiazem",
                                     "intralesional corticosteroid injection", "surgical removal"]

    costa = treatments[treatments["patient_id"] == "costasousa2021_p1"].iloc[0]
    assert (costa["therapy"], costa["dose"], costa["dose_unit"], costa["response"]) == (
        "diltiazem", "240", "mg/day", "partial")
    assert "nifedipine" not in set(treatments["therapy"])

    diltiazem_30 = treatments[(treatments["therapy"] == "diltiazem") & (treatments["dose"] == "30")]
    assert sorted(diltiazem_30["patient_id"]) == ["seed002_p1", "seed004_p1"]

    assert patients["perezpampin_p1"]["start_years_before_presentation"] == "21"
    assert patients["perezpampin_p1"]["onset_years_before_presentation"] == "10"
    assert patients["perezpampin_p1"]["age_at_presentation"] == "36"
    assert patients["tristano2006_p1"]["age_at_presentation"] == ""  # the abstract gives no age
    assert patients["tristano2006_p1"]["onset_years_after_start"] == "8"
    assert patients["seed002_p1"]["onset_years_after_start"] == "4"
    assert patients["seed004_p1"]["onset_years_after_start"] == "10"
    assert patients["seed004_p1"]["start_year"] == "2000"
    costa_patient = patients["costasousa2021_p1"]
    assert (costa_patient["start_years_before_presentation"], costa_patient["onset_years_before_presentation"],
            costa_patient["diagnosis_years_after_start"]) == ("11", "2", "11")

    studies = by_id(sheets["studies"], "study_id")
    assert studies["seed004"]["duplicate_of"] == "seed002"
    assert "2000" in studies["seed004"]["duplicate_evidence"] and "13 years" in studies["seed004"]["duplicate_evidence"]
    assert studies["seed002"]["duplicate_of"] == ""
    assert studies["perezpampin"]["year"] == "" and studies["perezpampin"]["journal"] == ""

    aggregates = by_id(sheets["aggregates"], "aggregate_id")
    diltiazem = aggregates["balin2012_diltiazem_partial"]
    assert (diltiazem["n"], diltiazem["events"]) == ("17", "9")
    surgery = {a["outcome"]: int(a["events"]) for a in aggregates.values() if a["therapy"] == "surgical excision"}
    assert surgery == {"response_complete": 22, "response_partial": 5, "response_none": 1}
    assert sum(surgery.values()) == 28
    assert (aggregates["balin2012_sle_time"]["mean"], aggregates["balin2012_sle_time"]["sd"]) == ("21.5", "")
    assert aggregates["balin2012_lupus_panniculitis_time"]["mean"] == "4.8"
    literature = aggregates["seed004_literature_onset"]
    assert (literature["outcome"], literature["mean"], literature["n"]) == ("years_to_onset", "9.8", "")
    # Onset of lesions versus diagnosis of calcinosis: the Mayo figures, as seed 003 quotes them, are times to
    # calcinosis diagnosis; the 9.8-year literature average is a time to onset.
    for mayo in ("balin2012_sle_time", "balin2012_lupus_panniculitis_time"):
        assert aggregates[mayo]["outcome"] == "years_to_diagnosis"

    # Second review (double extraction): response categories of every single-patient course.
    responses = dict(zip(treatments["treatment_id"], treatments["response"]))
    assert responses["perezpampin_p1_t1"] == "none"  # 'calcifications persist and the ulcer progressed'
    assert responses["tristano2006_p1_t1"] == "none"  # 'No response was observed'
    assert [responses[f"seed004_p1_t{i}"] for i in (1, 2, 3)] == ["none"] * 3  # 'still progressed'
    # Facts the reports do not state stay blank rather than guessed.
    assert patients["tristano2006_p1"]["sex"] == ""  # 'Our patient', 'a patient'
    assert patients["perezpampin_p1"]["distribution"] == ""  # never called circumscripta or universalis
    assert patients["perezpampin_p1"]["calcium_normal"] == ""  # the text's remark is about calcinosis in general
    assert patients["costasousa2021_p1"]["pth_normal"] == ""  # PTH is not reported
    assert patients["seed002_p1"]["lupus_panniculitis"] == ""  # stated only in seed004
    assert studies["balin2012"]["country"] == ""  # the text names the clinic, not the country
