"""The report's phrases put the review's words in: the clock, the fields, the categories; nothing else names a
condition."""

from metacalc.data.review_file import parse_review
from metacalc.review.plan import parse_analysis
from metacalc.review.words import (
    column_label,
    measure_name,
    measure_short,
    onset_axis_label,
    outcome_label,
    sections,
    series_figure_name,
    variant_label,
)

REVIEW = parse_review({
    "title": "T", "condition": {"name": "uveitis"}, "disease": {"name": "sarcoidosis"},
    "clock": {"start": "sarcoidosis diagnosis", "onset": "first symptoms of uveitis", "onset_short": "onset",
              "diagnosis": "diagnosis of uveitis", "diagnosis_short": "uveitis diagnosis"},
    "patient_fields": [{"name": "eye", "type": "enum", "values": ["left", "right"], "label": "eye affected",
                        "description": "Eye."}],
    "response": {"categories": [{"name": "resolved", "meaning": "gone", "counted": "resolutions"},
                                {"name": "improved", "meaning": "better"}, {"name": "same", "meaning": "no change"}],
                 "any_response": ["resolved", "improved"], "complete_response": ["resolved"]},
})


def test_outcomes_and_measures_in_the_review_s_words():
    assert outcome_label("any_response", REVIEW) == "any response (resolved or improved)"
    assert outcome_label("complete_response", REVIEW) == "complete response (resolved)"
    assert outcome_label("years_to_onset", REVIEW) == "years from sarcoidosis diagnosis to the first symptoms of uveitis"
    assert measure_name("years_to_onset", REVIEW) == ("time from sarcoidosis diagnosis to the first symptoms of "
                                                      "uveitis (onset)")
    assert measure_name("years_to_diagnosis", REVIEW) == "time from sarcoidosis diagnosis to the diagnosis of uveitis"
    assert measure_short("years_to_diagnosis", REVIEW) == "to uveitis diagnosis"
    assert series_figure_name("response_resolved", REVIEW) == "resolutions"
    assert series_figure_name("response_improved", REVIEW) == "'improved' responses"  # no counted: said plainly
    assert onset_axis_label(REVIEW) == "Years from sarcoidosis diagnosis to uveitis"
    assert dict(sections(REVIEW))["onset"] == "Time from sarcoidosis diagnosis to uveitis"


def test_columns_are_named_by_the_review():
    assert column_label("eye", REVIEW) == "eye affected"
    assert column_label("start_years_before_presentation", REVIEW) == "years from sarcoidosis diagnosis to presentation"
    assert column_label("onset_before_start", REVIEW) == "onset before sarcoidosis diagnosis"
    assert column_label("age_at_presentation", REVIEW) == "age at presentation"


def test_sensitivity_headings_are_said_from_their_settings_and_the_data():
    analysis = parse_analysis("x.yaml", {"id": "x", "title": "X", "outcome": "years_to_onset", "sensitivity": [
        {"id": "a", "population": {"eye": "left"}}, {"id": "b", "outcome": "years_to_diagnosis"},
        {"id": "c", "include_series": True}, {"id": "d", "duplicates": "twice", "exclude_high_risk": True},
        {"id": "e"}]}, REVIEW)
    labels = [variant_label(v.settings, analysis.main, REVIEW, ["Kumar 2019", "Lee 2020"]) for v in analysis.variants]
    assert labels == [
        "Only patients with eye affected left",
        "Time to the diagnosis of uveitis instead of the first symptoms of uveitis",
        "With the case series (Kumar 2019, Lee 2020)",
        "Duplicate report counted as a second patient; excluding reports at high risk of bias",
        "Same settings as the main analysis",
    ]
    assert variant_label(analysis.variants[2].settings, analysis.main, REVIEW, []) == (
        "With the case series (none in the sheets)")
