"""GRADE-style certainty per outcome from the certainty sheet: start, downgrades, overrides, located problems."""

import pytest

from metacalc.errors import UserError
from metacalc.review.certainty import Certainty, certainty_of
from metacalc.review.results import AnalysisResult


def analysis(analysis_id, groups):
    return AnalysisResult.from_dict({
        "id": analysis_id, "title": analysis_id, "description": "", "source": "x.yaml", "kind": "proportion",
        "outcome": "any_response", "outcome_label": "any response", "group_by": "drug", "subgroup_by": None,
        "settings": {}, "sensitivity": [], "used": {}, "references": [],
        "groups": [{"group": g, "k": k, "patients": n, "events": 1, "total": n, "method_requested": "auto",
                    "result": None, "not_pooled": "x", "lower_bounds": [], "contributors": [], "cumulative": None}
                   for g, k, n in groups]})


PLAN = [analysis("per_drug", [("diltiazem", 4, 4), ("surgery", 1, 1)])]


def row(outcome, domain, judgement, reason="why", start=None):
    return {"outcome": outcome, "domain": domain, "judgement": judgement, "reason": reason, "start": start}


def test_case_reports_start_very_low_and_nothing_recorded_is_not_assessed():
    found = certainty_of(PLAN, [])
    assert [(c.group, c.level, c.start, c.patients, c.reports) for c in found] == [
        ("diltiazem", "very low", "very low", 4, 4), ("surgery", "very low", "very low", 1, 1)]
    assert found[0].not_assessed == ("risk_of_bias", "inconsistency", "indirectness", "imprecision",
                                     "publication_bias")
    assert found[0].symbols == "⊕◯◯◯"


def test_a_recorded_start_is_lowered_per_serious_domain_never_below_very_low():
    rows = [row("per_drug", "risk_of_bias", "serious", start="high"), row("per_drug", "imprecision", "not_serious"),
            row("per_drug/surgery", "imprecision", "very_serious")]
    diltiazem, surgery = certainty_of(PLAN, rows)
    assert (diltiazem.level, diltiazem.symbols) == ("moderate", "⊕⊕⊕◯")
    assert [j.domain for j in diltiazem.judgements] == ["risk_of_bias", "imprecision"]
    assert surgery.level == "very low"  # high - 1 - 2, floored
    assert surgery.judgements[1].outcome == "per_drug/surgery"  # the group's row overrides the analysis'
    assert Certainty.from_dict(diltiazem.to_dict()) == diltiazem


def test_unknown_outcomes_and_two_starts_are_located_in_the_sheet():
    rows = [row("per_drug", "risk_of_bias", "serious", start="low"), row("per_dru", "imprecision", "serious"),
            row("per_drug", "imprecision", "serious", start="high")]
    with pytest.raises(UserError) as error:
        certainty_of(PLAN, rows)
    messages = error.value.problems if hasattr(error.value, "problems") else error.value.args[0]
    text = "\n".join(messages)
    assert "certainty:3:outcome: no analysis or group of the plan has this name (got 'per_dru'" in text
    assert "certainty:4:start: another start for this outcome (got 'high', expected 'low' as on row 2" in text
