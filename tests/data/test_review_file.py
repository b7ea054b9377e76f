"""The review file: validated against its schema with located messages; what it declares becomes the review's
effective schema (its fields, categories, words), its vocabulary and its settings."""

import pytest
from conftest import BUNDLED_COPY, ROOT

from metacalc.data.review_file import Review, default_review, load_review, parse_review
from metacalc.data.schema import load_schema
from metacalc.errors import UserError

MINIMAL = {"title": "T", "condition": {"name": "uveitis"}, "disease": {"name": "sarcoidosis"},
           "clock": {"start": "sarcoidosis diagnosis", "onset": "first symptoms of uveitis",
                     "diagnosis": "diagnosis of uveitis"}}


def problems(document):
    with pytest.raises(UserError) as error:
        parse_review(document, "review.yaml")
    return error.value.problems


def test_the_bundled_review_file_reads_and_survives_json():
    review = load_review(ROOT / "review.yaml")
    assert review.title == "Calcinosis cutis in systemic lupus erythematosus: a systematic review of case reports"
    assert (review.disease.short, review.clock.start) == ("SLE", "SLE diagnosis")
    assert [f.name for f in review.patient_fields][:2] == ["lupus_panniculitis", "distribution"]
    assert Review.from_dict(review.to_dict()) == review
    assert load_review(BUNDLED_COPY / "review.yaml") == review  # the committed copy is the same review


def test_a_minimal_review_takes_the_defaults():
    review = parse_review(MINIMAL)
    assert review.condition.short == "uveitis" and review.clock.start_short == "sarcoidosis diagnosis"
    assert review.response.names == ("complete", "partial", "none", "not reported")
    assert review.incomplete_appraisal == "error" and review.vocabulary == ()


def test_located_messages_got_and_expected():
    assert problems({**MINIMAL, "clock": {"start": "x", "onset": "y"}, "colour": "red"}) == [
        "review.yaml:colour: unknown key (got colour, expected one of: appraisal, clock, condition, disease, "
        "patient_fields, published_figures, response, title, vocabulary)",
        "review.yaml:clock.diagnosis: required key missing (got no diagnosis, expected the later event that may end it "
        "instead: diagnosis of the condition (e.g. diagnosis of uveitis))",
    ]
    assert problems({**MINIMAL, "title": " "}) == ["review.yaml:title: blank (got an empty text, expected words)"]
    assert problems({**MINIMAL, "appraisal": {"incomplete": "ignore"}}) == [
        'review.yaml:appraisal.incomplete: not an allowed value (got "ignore", expected one of: error, warning)']
    assert problems({**MINIMAL, "published_figures": [{"aggregate": "a", "population": "some patients"}]}) == [
        'review.yaml:published_figures.0.population: not a population (got "some patients", expected "all patients" '
        'or a filter of column: value such as {sex: "female"})']


def test_a_title_with_a_colon_is_a_title(tmp_path):
    path = tmp_path / "review.yaml"
    path.write_text('title: "Uveitis in sarcoidosis: a review"\ncondition: {name: uveitis}\ndisease: {name: sarcoidosis}\n'
                    "clock: {start: diagnosis, onset: onset, diagnosis: diagnosis of uveitis}\n", encoding="utf-8")
    assert load_review(path).title == "Uveitis in sarcoidosis: a review"
    path.write_text("title: Uveitis: a review\n  bad: [\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        load_review(path)
    (line,) = error.value.problems
    assert line.startswith(f"{path}:1: not valid YAML (got mapping values are not allowed here")


def test_patient_fields_are_checked():
    fields = [{"name": "site", "type": "enum", "description": "Site."},
              {"name": "sex", "type": "text", "description": "Again."},
              {"name": "crp", "type": "text", "unit": "mg/L", "description": "CRP."},
              {"name": "Site", "type": "enum", "values": ["a"], "description": "Capital."},
              {"name": "dose", "type": "number", "min": 5, "max": 1, "description": "Dose."}]
    assert problems({**MINIMAL, "patient_fields": fields}) == [
        "review.yaml:patient_fields.3.name: not a column name (got \"Site\", expected lower case letters, digits and "
        "underscores)"]
    fields[3]["name"] = "site"
    assert problems({**MINIMAL, "patient_fields": fields}) == [
        'review.yaml:patient_fields.0.values: values missing for an enum (got none, expected the allowed values, e.g. '
        '["yes", "no"])',
        "review.yaml:patient_fields.1.name: a column of every review (got sex, expected a name that is not one of: "
        "patient_id, study_id, age_at_presentation, sex, start_year, start_years_before_presentation, onset_year, "
        "onset_years_after_start, onset_years_before_presentation, diagnosis_year, diagnosis_years_after_start, "
        "presentation_year, onset_before_start, notes, years_to_onset, years_to_onset_derivation, "
        "years_to_diagnosis, years_to_diagnosis_derivation)",
        "review.yaml:patient_fields.2.unit: unit of a text field (got unit, expected type number or integer)",
        "review.yaml:patient_fields.3.name: declared twice (got site again, expected each field once; first at "
        "patient_fields.0)",
        "review.yaml:patient_fields.4.max: below min (got max 1, min 5, expected min <= max)",
    ]


def test_response_categories_are_checked():
    response = {"categories": [{"name": "resolved", "meaning": "gone"}, {"name": "better", "meaning": "smaller"},
                               {"name": "unknown", "meaning": "not said"}],
                "any_response": ["resolved", "beter"], "complete_response": ["better"], "not_assessed": ["resolved"]}
    assert problems({**MINIMAL, "response": response}) == [
        'review.yaml:response.any_response.1: not a category (got "beter", expected one of: resolved, better, '
        'unknown; did you mean better?)',
        'review.yaml:response.complete_response.0: a complete response that is not a response (got "better", '
        'expected one of any_response: resolved, beter)',
        'review.yaml:response.not_assessed.0: both a response and unknown (got "resolved", expected a category that is '
        'not in any_response)',
    ]


def test_the_effective_schema_has_the_review_s_fields_categories_and_words():
    review = parse_review({**MINIMAL, "patient_fields": [
        {"name": "eye", "type": "enum", "values": ["left", "right", "both"], "label": "eye affected",
         "description": "Which eye."},
        {"name": "crp", "type": "number", "unit": "mg/L", "min": 0, "description": "C-reactive protein."}],
        "response": {"categories": [{"name": "resolved", "meaning": "inflammation gone", "counted": "resolutions"},
                                    {"name": "improved", "meaning": "less inflammation"},
                                    {"name": "unchanged", "meaning": "no change"},
                                    {"name": "unknown", "meaning": "not said"}],
                     "any_response": ["resolved", "improved"], "complete_response": ["resolved"],
                     "not_assessed": ["unknown"]}})
    schema = load_schema(review)
    patients = [c.name for c in schema["patients"].input_columns]
    assert patients[-3:] == ["eye", "crp", "notes"]
    assert schema["patients"].column("crp").description == "C-reactive protein. Unit: mg/L."
    assert schema["patients"].column("start_year").description.startswith("Calendar year of sarcoidosis diagnosis")
    assert schema["treatments"].column("response").values == ("resolved", "improved", "unchanged", "unknown")
    assert schema["aggregates"].column("outcome").values[:3] == ("response_resolved", "response_improved",
                                                                 "response_unchanged")
    base = load_schema()
    assert [c.name for c in base["patients"].input_columns][-1] == "notes" and "eye" not in base["patients"].by_name
    assert default_review().clock.start == "diagnosis of the underlying disease"


def test_review_files_of_other_versions_get_their_keys_named():
    assert problems({**MINIMAL, "reference_populations": {"x": "y"}}) == [
        "review.yaml:reference_populations: unknown key (got reference_populations, expected one of: appraisal, clock, "
        "condition, disease, patient_fields, published_figures, response, title, vocabulary)"]
