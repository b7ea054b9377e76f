"""Author–year labels of reports and patients, and the report's names of the review's rows."""

from metacalc.review.labels import patient_labels, record_name, study_labels, surname


def study(study_id, author, year):
    return {"study_id": study_id, "first_author": author, "year": year}


def test_surname_drops_initials_only():
    assert surname("Pérez Pampín E") == "Pérez Pampín"
    assert surname("Tristano AG") == "Tristano"
    assert surname("Smith J.-P.") == "Smith"
    assert surname("Smith, John") == "Smith"
    assert surname("van der Berg") == "van der Berg"
    assert surname("O") == "O"  # a one-word author is kept even when it looks like an initial


def test_author_year_labels_with_letters_and_missing_parts():
    labels = study_labels([
        study("a", "Pérez Pampín E", 2003), study("b", "Pérez Pampín E", 2003), study("c", "Tristano AG", 2006),
        study("d", None, 2010), study("e", "Costa Sousa F", None), study("f", None, None), study("g", "", None),
    ])
    assert labels == {
        "a": "Pérez Pampín 2003a", "b": "Pérez Pampín 2003b", "c": "Tristano 2006", "d": "Anonymous 2010",
        "e": "Costa Sousa (n.d.)", "f": "Anonymous (n.d.-a)", "g": "Anonymous (n.d.-b)",
    }


def test_many_reports_sharing_a_label_get_distinct_letters():
    labels = study_labels([study(f"s{i}", "Lee K", 2020) for i in range(30)])
    assert len(set(labels.values())) == 30
    assert labels["s0"] == "Lee 2020a" and labels["s25"] == "Lee 2020z" and labels["s26"] == "Lee 2020aa"


def test_patients_numbered_within_their_report():
    labels = patient_labels([{"patient_id": "x1", "study_id": "a"}, {"patient_id": "y1", "study_id": "b"},
                             {"patient_id": "x2", "study_id": "a"}], {"a": "Lee 2020", "b": "Kim 2019"})
    assert labels == {"x1": "Lee 2020, patient 1", "y1": "Kim 2019, patient 1", "x2": "Lee 2020, patient 2"}


def test_record_names_from_citations():
    assert record_name("Weinberger A, Kaplan JG, Myers AR (1979) Extensive soft tissue calcification") == \
        "Weinberger 1979"
    assert record_name("Pérez Pampín E, Campos Franco J. Calcinosis cutis.") == "Pérez Pampín (n.d.)"
    assert record_name("Untitled case report, no bibliographic details") == ""
    assert record_name("") == ""
