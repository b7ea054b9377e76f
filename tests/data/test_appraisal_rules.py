"""Risk-of-bias appraisal: the tools as data, and the appraisal checked when the sheets are validated (consistency
always; completeness an error by default, a warning on request)."""

import pytest

from metacalc.data import load_dataset
from metacalc.data.appraisal_tools import TOOLS, answers, judgements
from metacalc.data.schema import load_schema
from metacalc.errors import UserError


def rewrite(path, keep):
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0]] + [line for line in lines[1:] if keep(line)]) + "\n", encoding="utf-8")


def problems(incomplete="error"):
    with pytest.raises(UserError) as error:
        load_dataset("sheets", incomplete_appraisal=incomplete)
    return error.value.problems


def test_tools_have_eight_items_with_published_wording():
    jbi, murad = TOOLS["jbi_case_report"], TOOLS["murad_2018"]
    assert jbi.item_ids == tuple(str(i) for i in range(1, 9))
    assert murad.item_ids == tuple(f"Q{i}" for i in range(1, 9))
    assert [i.domain for i in murad.items] == ["Selection", "Ascertainment", "Ascertainment", "Causality",
                                               "Causality", "Causality", "Causality", "Reporting"]
    assert jbi.item("2").question == "Was the patient's history clearly described and presented as a timeline?"
    assert murad.item("Q5").question == "Was there a challenge/rechallenge phenomenon?"


def test_tools_answers_and_judgements_are_the_schema_enumerations():
    schema = load_schema()
    assert schema["appraisal"].column("tool").values == tuple(TOOLS)
    assert schema["appraisal_overall"].column("tool").values == tuple(TOOLS)
    assert answers() == ("yes", "no", "unclear", "not applicable")
    assert judgements() == ("low", "moderate", "high")


def test_complete_appraisal_is_valid(valid_sheets):
    ds = load_dataset(valid_sheets)
    assert (len(ds.appraisal), len(ds.appraisal_overall), ds.warnings) == (24, 3, ())
    assert ds.appraisal.loc[1, "item"] == "Q2"  # typed "q2": items are written as the tools write them


def test_a_missing_justification_is_an_error_or_a_warning(sheets):
    path = sheets / "appraisal.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("takeaway stated", ""), encoding="utf-8")
    message = ("sheets/appraisal.csv:10:justification: justification missing (got blank, expected why jbi_case_report "
               "item 8 of study alpha2011 is answered yes, citing what the report says or lacks)")
    assert problems() == [message]
    assert load_dataset("sheets", incomplete_appraisal="warning").warnings == (message,)


def test_items_not_answered_and_report_not_appraised(sheets):
    rewrite(sheets / "appraisal.csv", lambda line: not line.startswith(("beta2013", "alpha2011,jbi_case_report,3,")))
    rewrite(sheets / "appraisal_overall.csv", lambda line: not line.startswith("beta2013"))
    assert problems() == [
        "sheets/appraisal.csv: study alpha2011, jbi_case_report: items not answered (got no row for item(s) 3, "
        "expected every item of jbi_case_report)",
        "sheets/appraisal.csv: included study beta2013 not appraised (got no rows, expected the items of at least one "
        "tool: jbi_case_report, murad_2018)",
    ]


def test_overall_judgement_missing_or_without_answers(sheets):
    rewrite(sheets / "appraisal_overall.csv", lambda line: not line.startswith("alpha2011,murad_2018"))
    path = sheets / "appraisal_overall.csv"
    path.write_text(path.read_text(encoding="utf-8") + "beta2013,murad_2018,high,no answers given\n", encoding="utf-8")
    assert problems() == [
        "sheets/appraisal_overall.csv: study alpha2011, murad_2018: no overall judgement (got item answers only, "
        "expected one row with the reviewer's judgement)",
        "sheets/appraisal_overall.csv:4:study_id: overall judgement without item answers (got murad_2018 for study "
        "beta2013, expected the answers to its items in the appraisal table)",
    ]


def test_a_missing_rationale(sheets):
    path = sheets / "appraisal_overall.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("complete case report", ""), encoding="utf-8")
    assert problems() == ["sheets/appraisal_overall.csv:4:rationale: rationale missing (got blank, expected why "
                          "study beta2013 is at low risk of bias by jbi_case_report)"]


def test_an_unknown_incompleteness_setting_is_refused(valid_sheets):
    with pytest.raises(ValueError, match="incomplete must be one of error, warning"):
        load_dataset(valid_sheets, incomplete_appraisal="ignore")


def test_bundled_appraisal_covers_every_included_report(bundled_copy):
    ds = load_dataset(bundled_copy)  # validation checks completeness
    design = ds.studies.set_index("study_id")["design"]
    for study in ds.studies["study_id"]:
        tools = set(ds.appraisal.loc[ds.appraisal.study_id == study, "tool"])
        assert "murad_2018" in tools
        if design[study] != "case series":
            assert tools == {"jbi_case_report", "murad_2018"}
    assert all(len(text) > 20 for text in ds.appraisal["justification"])
