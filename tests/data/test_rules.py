"""Each validation rule, on a small broken copy of tests/fixtures/small_review, with the exact message.

Messages name the path as the user gave it (here the relative ``sheets``), the spreadsheet row
(header = 1) and the column.
"""

from pathlib import Path

import pytest

from metacalc.data import load_dataset
from metacalc.errors import UserError

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "small_review" / "sheets"


def edit(sheets, table, old, new, count=1):
    path = sheets / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {table}.csv"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def problems(path="sheets"):
    with pytest.raises(UserError) as error:
        load_dataset(path)
    return error.value.problems


def test_valid_fixture_loads():
    ds = load_dataset(VALID)
    assert (len(ds.studies), len(ds.patients), len(ds.treatments), len(ds.quotes)) == (2, 2, 3, 38)


# ---------------------------------------------------------------- columns

def test_required_column_missing(sheets):
    edit(sheets, "treatments", ",response\n", "\n")
    for old in (",partial\n", ",none\n", ",not reported\n"):
        edit(sheets, "treatments", old, "\n")
    assert problems() == ["sheets/treatments.csv:1:response: required column missing (got no response in row 1, expected a response column)"]


def test_unknown_column_suggests_the_closest(sheets):
    edit(sheets, "patients", ",sex,", ",sexx,")
    assert problems() == ['sheets/patients.csv:1:sexx: unknown column (got "sexx", expected a column of patients; did you mean sex?)']


def test_derived_column_must_not_be_typed(sheets):
    edit(sheets, "treatments", "response\n", "response,drug\n")
    edit(sheets, "treatments", "partial\n", "partial,diltiazem\n")
    edit(sheets, "treatments", "none\n", "none,\n")
    edit(sheets, "treatments", "not reported\n", "not reported,\n")
    assert problems() == ["sheets/treatments.csv:1:drug: derived column typed in (got a drug column, expected none: metacalc computes it from the extracted facts)"]


def test_column_twice(sheets):
    path = sheets / "appraisal.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",tool"] + [line + "," for line in lines[1:]]) + "\n", encoding="utf-8")
    assert problems() == ["sheets/appraisal.csv:1:tool: column appears twice (got it in columns 2 and 6, expected each column once)"]


def test_column_order_is_free(sheets):
    path = sheets / "appraisal_overall.csv"
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(",".join([r[2], r[1], r[0], r[3]]) for r in rows) + "\n", encoding="utf-8")
    assert load_dataset("sheets").appraisal_overall.iloc[0].tolist() == ["alpha2011", "jbi_case_report", "moderate", "image report"]


# ---------------------------------------------------------------- types, enumerations, ranges

def test_text_in_a_number_column(sheets):
    edit(sheets, "patients", "alpha2011,36,", "alpha2011,36 years,")
    assert problems() == ['sheets/patients.csv:2:age_at_presentation: not a number (got "36 years", expected a number)']


def test_fraction_in_a_whole_number_column(sheets):
    edit(sheets, "treatments", "oral,1,partial", "oral,1.5,partial")
    assert problems() == ['sheets/treatments.csv:2:course_order: not a whole number (got "1.5", expected a whole number)']


def test_enumeration(sheets):
    edit(sheets, "patients", "36,Female", "36,woman")
    assert problems() == ['sheets/patients.csv:2:sex: not an allowed value (got "woman", expected one of: female, male)']


def test_enumerations_are_normalised(sheets):
    edit(sheets, "treatments", ",not reported", ",  Not   Reported ")
    ds = load_dataset("sheets")
    assert ds.treatments["response"].tolist() == ["partial", "none", "not reported"]
    assert ds.patients["sex"].tolist() == ["female", "female"]  # typed "Female" in the fixture


@pytest.mark.parametrize("table, old, new, line", [
    ("patients", "alpha2011,36,", "alpha2011,130,", "sheets/patients.csv:2:age_at_presentation: out of range (got 130, expected 0 to 120)"),
    ("studies", "Alpha,2011,", "Alpha,1700,", "sheets/studies.csv:2:year: out of range (got 1700, expected 1800 to 2100)"),
    ("aggregates", "diltiazem,17,9,,", "diltiazem,0,0,,", "sheets/aggregates.csv:2:n: out of range (got 0, expected 1 to 1e+07)"),
    ("aggregates", ",21.5,\n", ",21.5,-1\n", "sheets/aggregates.csv:3:sd: out of range (got -1, expected at least 0)"),
])
def test_ranges(sheets, table, old, new, line):
    edit(sheets, table, old, new)
    assert problems() == [line]


def test_required_value_blank(sheets):
    edit(sheets, "treatments", ",1,not reported", ",1,")
    assert problems() == ["sheets/treatments.csv:4:response: required value missing (got blank, expected one of: complete, partial, none, not reported)"]


def test_duplicate_id(sheets):
    edit(sheets, "records", "\nr2,", "\nr1,")
    assert problems() == [
        'sheets/records.csv:2:record_id: duplicate record_id (got "r1", expected a unique value; also on row 3)',
        'sheets/records.csv:3:record_id: duplicate record_id (got "r1", expected a unique value; also on row 2)',
    ]


# ---------------------------------------------------------------- rules across columns

@pytest.mark.parametrize("header, values, line", [
    ("n,events", "17,18", "sheets/aggregates.csv:2:events: more events than patients (got events 18, n 17, expected events <= n)"),
    ("median,q1,q3", "5,6,9", "sheets/aggregates.csv:2:median: median below the first quartile (got q1 6, median 5, expected q1 <= median)"),
    ("median,q1,q3", "10,6,9", "sheets/aggregates.csv:2:median: median above the third quartile (got median 10, q3 9, expected median <= q3)"),
    ("min,max", "9,3", "sheets/aggregates.csv:2:max: maximum below the minimum (got min 9, max 3, expected min <= max)"),
])
def test_row_rules(sheets, header, values, line):
    path = sheets / "aggregates.csv"
    path.write_text(f"aggregate_id,study_id,outcome,{header}\nalpha2011_a9,alpha2011,years_to_onset,{values}\n", encoding="utf-8")
    (sheets / "quotes.csv").write_text(
        (sheets / "quotes.csv").read_text(encoding="utf-8").split("aggregates,")[0]
        + "".join(f"aggregates,alpha2011_a9,{c},x,y\n" for c in header.split(",")), encoding="utf-8")
    assert [p for p in problems() if "mean" not in p] == [line]


# ---------------------------------------------------------------- references between tables

def test_patient_refers_to_a_missing_study(sheets):
    edit(sheets, "patients", "beta2013_p1,beta2013,", "beta2013_p1,beta2031,")
    assert problems() == ['sheets/patients.csv:3:study_id: unknown study_id (got "beta2031", expected a study_id listed in studies.csv)']


def test_treatment_refers_to_a_missing_patient(sheets):
    edit(sheets, "treatments", "beta2013_p1_t1,beta2013_p1,", "beta2013_p1_t1,beta2013_p2,")
    assert problems() == ['sheets/treatments.csv:4:patient_id: unknown patient_id (got "beta2013_p2", expected a patient_id listed in patients.csv)']


def test_record_refers_to_a_missing_study(sheets):
    edit(sheets, "records", "include,alpha2011", "include,alpha2012")
    assert problems() == ['sheets/records.csv:2:study_id: unknown study_id (got "alpha2012", expected a study_id listed in studies.csv)']


def test_duplicate_of_refers_to_a_missing_study(sheets):
    edit(sheets, "studies", "beta.txt,alpha2011,", "beta.txt,alpha2010,")
    assert problems() == ['sheets/studies.csv:3:duplicate_of: unknown study_id (got "alpha2010", expected a study_id listed in studies.csv)']


def test_duplicate_decision_needs_its_evidence(sheets):
    edit(sheets, "studies", 'alpha2011,"same age, same drugs and doses"', "alpha2011,")
    assert problems() == ["sheets/studies.csv:3:duplicate_evidence: reasons missing for a duplicate (got blank, expected the evidence that both reports describe the same patient)"]


def test_report_cannot_duplicate_itself(sheets):
    edit(sheets, "studies", "beta.txt,alpha2011,", "beta.txt,beta2013,")
    assert problems() == ['sheets/studies.csv:3:duplicate_of: a report cannot duplicate itself (got "beta2013", expected another study_id)']


def test_quote_points_at_missing_row_and_column(sheets):
    edit(sheets, "quotes", "patients,beta2013_p1,sex,woman", "patients,beta2013_p9,sex,woman")
    edit(sheets, "quotes", "patients,beta2013_p1,distribution,", "patients,beta2013_p1,distrib,")
    assert problems() == [
        'sheets/patients.csv:3:sex: no quote for this value (got "female", expected a row in quotes with table patients, row_id beta2013_p1, column sex)',
        'sheets/patients.csv:3:distribution: no quote for this value (got "universalis", expected a row in quotes with table patients, row_id beta2013_p1, column distribution)',
        'sheets/quotes.csv:20:row_id: no such row (got "beta2013_p9", expected a patient_id listed in patients.csv)',
        'sheets/quotes.csv:22:column: not a quoted column of patients (got "distrib", expected a column of patients; did you mean distribution?)',
    ]


def test_quote_points_at_unknown_table(sheets):
    edit(sheets, "quotes", "studies,beta2013,country,", "study,beta2013,country,")
    assert problems() == [
        'sheets/quotes.csv:11:table: not an allowed value (got "study", expected one of: studies, patients, treatments, aggregates)',
        'sheets/studies.csv:3:country: no quote for this value (got "Spain", expected a row in quotes with table studies, row_id beta2013, column country)',
    ]


def test_every_extracted_value_needs_a_quote(sheets):
    edit(sheets, "quotes", "treatments,alpha2011_p1_t1,dose,240 mg/day,case\n", "")
    assert problems() == ['sheets/treatments.csv:2:dose: no quote for this value (got "240", expected a row in quotes with table treatments, row_id alpha2011_p1_t1, column dose)']


# ---------------------------------------------------------------- chronology

def test_onset_before_start_needs_the_flag(sheets):
    edit(sheets, "patients", "36,female,,,4,", "36,female,,,-3,")
    assert problems() == ["sheets/patients.csv:3:onset_years_after_start: onset before SLE diagnosis "
                          "(got onset -3 y after SLE diagnosis (stated), expected 0 or more years unless onset_before_start is yes)"]


def test_onset_before_start_with_the_flag(sheets):
    edit(sheets, "patients", "calcium_normal\n", "calcium_normal,onset_before_start\n")
    edit(sheets, "patients", "circumscripta,yes\n", "circumscripta,yes,\n")
    edit(sheets, "patients", "36,female,,,4,,universalis,\n", "36,female,,,-3,,universalis,,yes\n")
    edit(sheets, "quotes", "patients,beta2013_p1,distribution", "patients,beta2013_p1,onset_before_start,x,y\npatients,beta2013_p1,distribution")
    assert load_dataset("sheets").patients["years_to_onset"].tolist() == [11.0, -3.0]


def test_derived_chronology_across_two_statements(sheets):
    edit(sheets, "patients", "alpha2011,36,Female,21,10,", "alpha2011,36,Female,10,21,")
    assert problems() == ["sheets/patients.csv:2:start_years_before_presentation: onset before SLE diagnosis "
                          "(got SLE diagnosis 10 y before presentation - onset 21 y before presentation = -11 y, "
                          "expected 0 or more years unless onset_before_start is yes)"]


def test_onset_after_presentation(sheets):
    path = sheets / "patients.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "calcium_normal\n", "calcium_normal,onset_year,presentation_year\n").replace(
        "circumscripta,yes\n", "circumscripta,yes,2015,2010\n").replace(
        "universalis,\n", "universalis,,,\n"), encoding="utf-8")
    edit(sheets, "quotes", "patients,alpha2011_p1,calcium_normal", "patients,alpha2011_p1,onset_year,x,y\npatients,alpha2011_p1,presentation_year,x,y\npatients,alpha2011_p1,calcium_normal")
    assert problems() == ["sheets/patients.csv:2:onset_year: after the presentation (got onset_year 2015, presentation_year 2010, expected onset_year <= presentation_year)"]


# ---------------------------------------------------------------- files

def test_empty_file(sheets):
    (sheets / "patients.csv").write_bytes(b"")
    assert problems() == ["sheets/patients.csv: empty file (got 0 bytes, expected a header row naming the columns)"]


def test_not_utf8_names_the_byte(sheets):
    edit(sheets, "studies", "Spain,image", "Espa\u00f1a,image")
    path = sheets / "studies.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    offset = path.read_bytes().index(b"\xf1")
    assert problems() == [f'sheets/studies.csv:2: not valid UTF-8 (got byte 0xF1 at byte offset {offset}, expected UTF-8 text; save the sheet as "CSV UTF-8")']


def test_truncated_file(sheets):
    path = sheets / "treatments.csv"
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"beta2013_p1_t1") + 30])
    assert problems() == ["sheets/treatments.csv:4: too few cells (got 3, expected 8 as in the header; is the file truncated?)"]


def test_unclosed_quote(sheets):
    edit(sheets, "appraisal_overall", "image report", '"image report')
    assert problems() == ["sheets/appraisal_overall.csv:2: malformed CSV (got unexpected end of data, expected quotes to be closed and doubled inside quoted cells)"]


def test_unquoted_comma(sheets):
    edit(sheets, "appraisal_overall", "image report", "image, report")
    assert problems() == ["sheets/appraisal_overall.csv:2: too many cells (got a value in cell 5, expected 4 cells as in the header; is a comma unquoted?)"]


def test_required_file_missing(sheets):
    (sheets / "quotes.csv").unlink()
    assert problems() == ["sheets/quotes.csv: file missing (got no quotes.csv, expected the quotes table; required tables: studies, patients, treatments, quotes)"]


def test_optional_file_missing_is_an_empty_table(sheets):
    for name in ("appraisal", "appraisal_overall"):
        (sheets / f"{name}.csv").unlink()
    ds = load_dataset("sheets", incomplete_appraisal="warning")
    assert (len(ds.appraisal), list(ds.appraisal.columns)[:2]) == (0, ["study_id", "tool"])
    assert ds.warnings == (
        "sheets/appraisal.csv: included study alpha2011 not appraised (got no rows, expected the items of at least one "
        "tool: jbi_case_report, murad_2018)",
        "sheets/appraisal.csv: included study beta2013 not appraised (got no rows, expected the items of at least one "
        "tool: jbi_case_report, murad_2018)")


def test_a_review_needs_its_records_log(sheets):
    (sheets / "records.csv").unlink()
    assert problems() == ["sheets/records.csv: the records log is empty or missing; the PRISMA 2020 flow diagram is "
                          "computed from one row per record identified"]


def test_unknown_table_file(sheets):
    (sheets / "patient.csv").write_text("patient_id\n", encoding="utf-8")
    assert problems() == ['sheets/patient.csv: unknown table (got "patient", expected one of: studies, patients, treatments, aggregates, records, appraisal, appraisal_overall, quotes, duplicate_decisions, certainty; did you mean patients?)']


# ---------------------------------------------------------------- other tables

def test_appraisal_item_must_belong_to_the_tool(sheets):
    edit(sheets, "appraisal", "murad_2018,q2", "murad_2018,2")
    assert problems() == ['sheets/appraisal.csv:3:item: not an item of murad_2018 (got "2", expected one of: Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8)']


def test_appraisal_item_once_per_study_and_tool(sheets):
    edit(sheets, "appraisal", "murad_2018,q2,unclear", "jbi_case_report,1,no")
    assert problems() == [
        "sheets/appraisal.csv: study alpha2011, murad_2018: items not answered (got no row for item(s) Q2, expected every item of murad_2018)",
        'sheets/appraisal.csv:3:item: repeated row (got study_id "alpha2011", tool "jbi_case_report", item "1" again, expected one row per study_id x tool x item; first on row 2)']


def test_record_screened_after_removal(sheets):
    edit(sheets, "records", "record_id,", "removed_before_screening,record_id,")
    edit(sheets, "records", "\nr1,", "\n,r1,")
    edit(sheets, "records", "\nr2,", "\nduplicate,r2,")
    edit(sheets, "records", "\nr3,", "\n,r3,")
    assert problems() == [
        'sheets/records.csv:3:screening: screened although removed before screening (got "include", expected blank because removed_before_screening is "duplicate")',
        "sheets/records.csv:3:duplicate_of: record r2 was removed as a duplicate but duplicate_of does not say which record it duplicates",
        "sheets/records.csv:3:retrieved: record r2 was removed before screening (duplicate) yet has retrieved = no",
    ]


def test_response_figure_needs_a_therapy(sheets):
    edit(sheets, "aggregates", "response_partial,diltiazem,", "response_partial,,")
    edit(sheets, "quotes", "aggregates,alpha2011_a1,therapy,diltiazem,discussion\n", "")
    assert problems() == ["sheets/aggregates.csv:2:therapy: required for a response outcome (got blank, expected the therapy of response_partial)"]


def test_problems_sorted_by_file_then_row(sheets):
    edit(sheets, "treatments", "Wafarin", "Wafarinn")
    edit(sheets, "patients", "36,female", "36,femal")
    edit(sheets, "patients", "36,Female", "136,Female")
    found = problems()
    assert [line.split(": ")[0] for line in found] == [
        "sheets/patients.csv:2:age_at_presentation", "sheets/patients.csv:3:sex", "sheets/treatments.csv:4:therapy"]


def test_blank_header_row(sheets):
    path = sheets / "appraisal_overall.csv"
    path.write_text("\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert problems() == ["sheets/appraisal_overall.csv:1: no column names (got a blank row 1, expected the header row naming the columns)"]
