"""The appraisal as the results summarise it: each report's answers per tool, the share of reports per answer,
the overall judgements with the answers behind them, and the reports at high risk of bias."""

import pytest

from metacalc.data.appraisal_tools import TOOLS
from metacalc.review.appraisal import appraisal_results
from metacalc.review.tables import ReviewTables

BOTH = {("a2001", "jbi_case_report"): "low", ("a2001", "murad_2018"): "moderate",
        ("b2010", "jbi_case_report"): "high", ("b2010", "murad_2018"): "high"}


def full_appraisal(study_ids=("a2001", "b2010"), tools=("jbi_case_report", "murad_2018"), answer="yes"):
    return [{"study_id": study, "tool": tool, "item": item, "answer": answer, "justification": f"{study} says so"}
            for study in study_ids for tool in tools for item in TOOLS[tool].item_ids]


def overall_for(judgements):
    return [{"study_id": s, "tool": t, "judgement": j, "rationale": "because"} for (s, t), j in judgements.items()]


def review(appraisal, overall):
    studies = [{"study_id": "a2001", "first_author": "Alpha", "year": 2001},
               {"study_id": "b2010", "first_author": "Beta & Co", "year": 2010}]
    return ReviewTables({"studies": studies, "appraisal": appraisal, "appraisal_overall": overall})


def answered(appraisal, study, item, answer):
    for row in appraisal:
        if row["study_id"] == study and row["item"] == item:
            row["answer"] = answer


def test_answers_shares_and_judgements_per_tool():
    appraisal = full_appraisal()
    answered(appraisal, "b2010", "Q1", "no")
    answered(appraisal, "b2010", "Q5", "not applicable")
    jbi, murad = appraisal_results(review(appraisal, overall_for(BOTH)))
    assert (jbi.tool, murad.tool, murad.name) == ("jbi_case_report", "murad_2018", TOOLS["murad_2018"].name)
    assert [s.label for s in murad.studies] == ["Alpha 2001", "Beta & Co 2010"]
    b2010 = murad.studies[1]
    assert (b2010.answers[0], b2010.answers[4], b2010.overall) == ("no", "not applicable", "high")
    assert murad.answer_shares[0] == {"yes": 0.5, "no": 0.5, "unclear": 0.0, "not applicable": 0.0}
    assert murad.answer_shares[1]["yes"] == 1.0
    assert murad.overall_shares == {"low": 0.0, "moderate": 0.5, "high": 0.5}
    judgement = murad.judgements[1]
    assert (judgement.study_id, judgement.judgement, judgement.rationale) == ("b2010", "high", "because")
    assert [a["item"] for a in judgement.answers] == [f"Q{i}" for i in range(1, 9)]


def test_a_tool_without_answers_is_left_out_and_unjudged_reports_have_no_overall_bar():
    (murad,) = appraisal_results(review(full_appraisal(tools=("murad_2018",)), []))
    assert murad.overall_shares == {} and [s.overall for s in murad.studies] == ["", ""]


def test_reports_at_high_risk_by_any_tool():
    mixed = dict(BOTH)
    mixed[("b2010", "jbi_case_report")] = "moderate"
    assert review(full_appraisal(), overall_for(BOTH)).high_risk == ["b2010"]
    assert review(full_appraisal(), overall_for(mixed)).high_risk == ["b2010"]
    assert review(full_appraisal(), overall_for({("a2001", "murad_2018"): "low"})).high_risk == []


@pytest.mark.parametrize("key", ["studies", "judgements"])
def test_the_json_form_gives_the_same_records(key):
    from metacalc.review.document import ToolAppraisal

    for tool in appraisal_results(review(full_appraisal(), overall_for(BOTH))):
        assert getattr(ToolAppraisal.from_dict(tool.to_dict()), key) == getattr(tool, key)
