"""Table 1 (characteristics of the included patients, each counted once) and the reference list."""

from metacalc.review.characteristics import patient_characteristics, reference_list
from metacalc.review.document import PatientCharacteristics, PatientPair
from metacalc.review.tables import ReviewTables


def tables(**extra):
    studies = [
        {"study_id": "a", "first_author": "Lee K", "year": 2020, "title": "A case.", "journal": "J Rare", "volume": "3",
         "pages": "1-2", "doi": "10.1/x"},
        {"study_id": "b", "first_author": "Kim J", "year": 2019, "title": "Two cases"},
        {"study_id": "c", "first_author": None, "year": None, "duplicate_of": "a"},
    ]
    patients = [
        {"patient_id": "a1", "study_id": "a", "age_at_presentation": 30, "sex": "female", "years_to_onset": 2.0},
        {"patient_id": "b1", "study_id": "b", "age_at_presentation": 50, "sex": "male", "years_to_onset": None},
        {"patient_id": "b2", "study_id": "b", "age_at_presentation": None, "sex": "female", "years_to_onset": 6.0},
        {"patient_id": "c1", "study_id": "c", "age_at_presentation": 30, "sex": "female", "years_to_onset": 2.0},
    ]
    treatments = [
        {"treatment_id": "a1t", "patient_id": "a1", "drug": "diltiazem"},
        {"treatment_id": "a1u", "patient_id": "a1", "drug": "diltiazem"},  # two courses of one drug: once
        {"treatment_id": "b1t", "patient_id": "b1", "drug": "surgery"},
        {"treatment_id": "c1t", "patient_id": "c1", "drug": "diltiazem"},  # the duplicate's: not counted
    ]
    return ReviewTables({"studies": studies, "patients": patients, "treatments": treatments, **extra})


def row(table, column):
    return next(r for r in table.rows if r.column == column)


def test_each_patient_counted_once_with_counts_medians_and_not_reported():
    review = tables()
    table = patient_characteristics(review, [PatientPair("a1", "c1", ())])
    assert (table.patients, table.reports) == (3, 2)
    assert [(c.patient_id, c.same_as, c.same_as_label) for c in table.counted_once] == [
        ("c1", "a1", "Lee 2020, patient 1")]
    age = row(table, "age_at_presentation")
    assert (age.reported, age.not_reported, age.median, age.minimum, age.maximum) == (2, 1, 40.0, 30, 50)
    sex = row(table, "sex")
    assert sex.categories == (("female", 2), ("male", 1)) and sex.not_reported == 0
    onset = row(table, "years_to_onset")
    assert (onset.reported, onset.not_reported, onset.median) == (2, 1, 4.0)
    therapy = row(table, "therapy")
    assert therapy.categories == (("diltiazem", 1), ("surgery", 1)) and therapy.not_reported == 1
    assert PatientCharacteristics.from_dict(table.to_dict()) == table


def test_a_duplicate_report_whose_patients_cannot_be_paired_is_still_left_out():
    table = patient_characteristics(tables(), [])
    assert table.patients == 3 and table.counted_once[0].same_as == ""
    assert table.counted_once[0].same_as_label == "Lee 2020"


def test_reference_list_of_included_reports_and_excluded_full_texts():
    records = [{"record_id": "r1", "citation": "Zed A. Not this one. 2001.", "eligibility": "exclude",
                "exclusion_reason": "no patient data"},
               {"record_id": "r2", "citation": "Lee K. A case.", "eligibility": "include", "exclusion_reason": None}]
    included, excluded = reference_list(tables(records=records))
    assert [c.label for c in included] == ["Anonymous (n.d.)", "Kim 2019", "Lee 2020"]
    assert included[2].citation == "Lee K, et al. A case. J Rare 2020;3:1-2. doi:10.1/x"
    assert included[1].citation == "Kim J, et al. Two cases. 2019."
    assert included[0].citation == "No bibliographic details recorded in the studies sheet."
    assert [(c.row_id, c.citation, c.reason) for c in excluded] == [("r1", "Zed A. Not this one. 2001.",
                                                                     "no patient data")]
