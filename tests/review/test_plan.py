"""The analysis plan: the bundled copy's files validate, broken files fail with messages naming file and key;
columns are those of the review's effective schema (its own patient fields included)."""

import json
import os

import pytest
from conftest import BUNDLED_COPY, ROOT

from metacalc.data.review_file import load_review
from metacalc.errors import UserError
from metacalc.review.plan import PLAN_SCHEMA, load_plan, schema_json

ANALYSES = str(BUNDLED_COPY / "analyses")
REVIEW = load_review(BUNDLED_COPY / "review.yaml")  # with its field lupus_panniculitis (yes/no)


def write(directory, name, text):
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_plan_covers_the_review_questions():
    plan = {analysis.id: analysis for analysis in load_plan(ANALYSES, REVIEW)}
    assert set(plan) == {"response_per_drug", "response_per_class", "time_to_onset"}
    drug = plan["response_per_drug"]
    assert (drug.main.outcome, drug.group_by, drug.main.duplicates) == ("any_response", "drug", "once")
    assert plan["response_per_class"].group_by == "drug_class"
    variants = {v.id: v.settings for v in drug.variants}
    assert variants["complete_response"].outcome == "complete_response"
    assert variants["duplicate_twice"].duplicates == "twice"
    assert variants["with_series"].include_series is True
    assert variants["low_risk_only"].exclude_high_risk is True
    # a variant changes only what it names
    assert variants["duplicate_twice"].outcome == "any_response"
    onset = plan["time_to_onset"]
    assert onset.kind == "time" and onset.subgroup_by == "lupus_panniculitis"
    assert set(onset.compare_with) == {"years_to_onset", "years_to_diagnosis"}


def test_schema_file_matches_the_schema_the_code_uses():
    # the copy editors use beside the repository's plan, and the one `metacalc init` writes
    for path in (ROOT / "analyses" / "schema.json",):
        with open(path, encoding="utf-8") as handle:
            assert json.load(handle) == PLAN_SCHEMA
        with open(path, encoding="utf-8") as handle:
            assert handle.read() == schema_json()


def test_unknown_key_and_bad_enum_are_located(tmp_path):
    write(tmp_path, "a.yaml", "id: a\ntitle: A\noutcome: any_respons\ngroupby: drug\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))
    problems = error.value.problems
    name = os.path.relpath(tmp_path / "a.yaml")
    assert any(p.startswith(f"{name}:outcome: got 'any_respons', expected one of any_response") for p in problems)
    assert any(p.startswith(f"{name}:(top level): Additional properties are not allowed ('groupby'") for p in problems)


def test_variant_errors_name_the_variant(tmp_path):
    write(tmp_path, "b.yaml", "id: b\ntitle: B\noutcome: any_response\nsensitivity:\n  - id: v\n    label: V\n"
          "    duplicates: thrice\n  - id: w\n    label: W\n    outcome: years_to_onset\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))
    problems = error.value.problems
    name = os.path.relpath(tmp_path / "b.yaml")
    assert f"{name}:sensitivity.0.duplicates: got 'thrice', expected one of once, twice" in problems


def test_variant_cannot_change_the_kind_of_outcome(tmp_path):
    write(tmp_path, "c.yaml", "id: c\ntitle: C\noutcome: any_response\nsensitivity:\n  - id: w\n    label: W\n"
          "    outcome: years_to_onset\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))
    name = os.path.relpath(tmp_path / "c.yaml")
    assert error.value.problems == [
        f"{name}:sensitivity.0.outcome: a variant must keep the kind of outcome "
        "(got 'years_to_onset' for a proportion analysis)"
    ]


def test_keys_of_the_other_kind_of_outcome_are_refused(tmp_path):
    write(tmp_path, "d.yaml", "id: d\ntitle: D\noutcome: years_to_onset\ngroup_by: drug\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))
    assert error.value.problems == [
        f"{os.path.relpath(tmp_path / 'd.yaml')}:(top level): keys group_by/min_patients apply only to response "
        "outcomes, subgroup_by/compare_with only to time outcomes"
    ]


def test_reference_populations_moved_to_the_review_file(tmp_path):
    write(tmp_path, "h.yaml", "id: h\ntitle: H\noutcome: years_to_onset\nsubgroup_by: lupus_panniculitis\n"
          "reference_populations: {lupus panniculitis: 'yes'}\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path), REVIEW)
    assert error.value.problems == [
        f"{os.path.relpath(tmp_path / 'h.yaml')}:reference_populations: not a key of the analysis plan any more (got "
        "reference_populations, expected none: which patients a published figure describes is said in review.yaml, "
        "under published_figures (population))"
    ]


def test_subgroups_are_an_enumerated_column_of_the_review(tmp_path):
    write(tmp_path, "s.yaml", "id: s\ntitle: S\noutcome: years_to_onset\nsubgroup_by: lupus_panniculitis\n")
    (analysis,) = load_plan(str(tmp_path), REVIEW)
    assert analysis.subgroup_by == "lupus_panniculitis"
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))  # a review without that field
    assert error.value.problems == [
        f"{os.path.relpath(tmp_path / 's.yaml')}:subgroup_by: not an enumerated column of the patients table (got "
        "lupus_panniculitis, expected one of: sex, onset_before_start)"
    ]


def test_a_variant_needs_no_label(tmp_path):
    write(tmp_path, "v.yaml", "id: v\ntitle: V\noutcome: any_response\nsensitivity:\n  - {id: s, include_series: true}\n")
    (analysis,) = load_plan(str(tmp_path))
    assert analysis.variants[0].label == ""  # worded by the analysis, from the settings and the data


def test_duplicate_ids_invalid_yaml_and_empty_directory(tmp_path):
    write(tmp_path, "e1.yaml", "id: e\ntitle: E\noutcome: any_response\n")
    write(tmp_path, "e2.yaml", "id: e\ntitle: E again\noutcome: complete_response\n")
    write(tmp_path, "f.yaml", "id: [unclosed\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path))
    problems = error.value.problems
    assert f"{os.path.relpath(tmp_path / 'e2.yaml')}:id: 'e' is already used by {os.path.relpath(tmp_path / 'e1.yaml')}" in problems
    assert any(p.startswith(f"{os.path.relpath(tmp_path / 'f.yaml')}:2: not valid YAML") for p in problems)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no analysis files"):
        load_plan(str(empty))


def test_defaults_fill_the_main_settings(tmp_path):
    write(tmp_path, "g.yaml", "id: g\ntitle: G\noutcome: complete_response\npopulation: {lupus_panniculitis: 'yes'}\n")
    (analysis,) = load_plan(str(tmp_path), REVIEW)
    assert analysis.main.to_dict() == {
        "outcome": "complete_response",
        "method": "default",
        "include_series": False,
        "duplicates": "once",
        "exclude_high_risk": False,
        "population": {"lupus_panniculitis": ("yes",)},
    }
    assert analysis.group_by == "drug" and analysis.variants == ()


def test_a_population_names_a_column_of_the_patients_or_studies(tmp_path):
    write(tmp_path, "p.yaml", "id: p\ntitle: P\noutcome: any_response\npopulation: {lupus_panniculitys: 'yes'}\n"
          "sensitivity:\n  - {id: v, label: V, population: {desing: 'case report'}}\n")
    with pytest.raises(UserError) as error:
        load_plan(str(tmp_path), REVIEW)
    name = os.path.relpath(tmp_path / "p.yaml")
    assert error.value.problems == [
        f"{name}:population.lupus_panniculitys: no such column in the patients or studies table (got "
        "lupus_panniculitys, expected a column of either; did you mean lupus_panniculitis?)",
        f"{name}:sensitivity.0.population.desing: no such column in the patients or studies table (got desing, "
        "expected a column of either; did you mean design?)",
    ]
