"""Risk-of-bias appraisal: the tools as data, validation of the answers, tables and plots."""

import os
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from metacalc.review.appraisal import (
    TOOLS,
    answer_shares,
    appraisal_table,
    high_risk_studies,
    validate_appraisal,
)


def full_appraisal(study_ids=("a2001", "b2010"), tools=("jbi_case_report", "murad_2018"), answer="yes"):
    rows = []
    for study in study_ids:
        for tool in tools:
            for item in TOOLS[tool].item_ids:
                rows.append({"study_id": study, "tool": tool, "item": item, "answer": answer,
                             "justification": f"{study} says so"})
    return pd.DataFrame(rows, columns=["study_id", "tool", "item", "answer", "justification"])


def overall_for(judgements):
    return pd.DataFrame([{"study_id": s, "tool": t, "judgement": j, "rationale": "because"}
                         for (s, t), j in judgements.items()],
                        columns=["study_id", "tool", "judgement", "rationale"])


BOTH = {("a2001", "jbi_case_report"): "low", ("a2001", "murad_2018"): "moderate",
        ("b2010", "jbi_case_report"): "high", ("b2010", "murad_2018"): "high"}


def test_tools_have_eight_items_with_published_wording():
    jbi, murad = TOOLS["jbi_case_report"], TOOLS["murad_2018"]
    assert jbi.item_ids == tuple(str(i) for i in range(1, 9))
    assert murad.item_ids == tuple(f"Q{i}" for i in range(1, 9))
    assert [i.domain for i in murad.items] == ["Selection", "Ascertainment", "Ascertainment", "Causality",
                                               "Causality", "Causality", "Causality", "Reporting"]
    assert jbi.item("2").question == "Was the patient's history clearly described and presented as a timeline?"
    assert murad.item("Q5").question == "Was there a challenge/rechallenge phenomenon?"


def test_complete_appraisal_is_valid():
    assert validate_appraisal(full_appraisal(), overall_for(BOTH), ["a2001", "b2010"]) == []


def test_missing_and_unknown_items_and_answers():
    appraisal = full_appraisal()
    appraisal = appraisal[~((appraisal.study_id == "a2001") & appraisal.item.isin(["3", "7"]))].reset_index(drop=True)
    appraisal.loc[0, "item"] = "9"  # a2001 JBI item 1 becomes an unknown item 9
    appraisal.loc[1, "answer"] = "maybe"
    appraisal.loc[2, "justification"] = None
    problems = validate_appraisal(appraisal, overall_for(BOTH), ["a2001", "b2010"])
    assert problems == [
        "appraisal.csv:2:item: '9' is not an item of jbi_case_report (expected one of 1, 2, 3, 4, 5, 6, 7, 8)",
        "appraisal.csv:3:answer: 'maybe' is not an answer (expected one of yes, no, unclear, not applicable)",
        "appraisal.csv:4:justification: study a2001, jbi_case_report item 4: the answer needs a justification "
        "citing what the report says or lacks",
        "appraisal.csv: study a2001, jbi_case_report: item(s) 1, 3, 7 not answered",
    ]


def test_included_report_not_appraised_and_overall_missing():
    appraisal = full_appraisal(study_ids=("a2001",))
    overall = overall_for({("a2001", "jbi_case_report"): "low"})
    problems = validate_appraisal(appraisal, overall, ["a2001", "b2010"])
    assert problems == [
        "appraisal_overall.csv: study a2001 is appraised with murad_2018 but has no overall judgement",
        "appraisal.csv: included study b2010 is not appraised with any tool (jbi_case_report, murad_2018)",
    ]


def test_appraised_study_that_is_not_included_and_duplicates():
    appraisal = full_appraisal(tools=("murad_2018",))
    appraisal = pd.concat([appraisal, appraisal.iloc[[0]]], ignore_index=True)
    overall = overall_for({("a2001", "murad_2018"): "low", ("b2010", "murad_2018"): "high",
                           ("a2001", "jbi_case_report"): "low"})
    problems = validate_appraisal(appraisal, overall, ["a2001"])
    assert "appraisal.csv:10:study_id: study b2010 is appraised but is not an included report" in problems
    assert "appraisal.csv:18:item: study a2001, murad_2018 item Q1 is answered twice (first on row 2)" in problems
    assert ("appraisal_overall.csv:4:study_id: study a2001 has an overall jbi_case_report judgement but no item "
            "answers in appraisal.csv") in problems


def test_items_written_as_numbers_are_understood():
    appraisal = full_appraisal(tools=("murad_2018",))
    appraisal["item"] = appraisal["item"].str.lstrip("Q")  # "1".."8" for Murad means Q1..Q8
    overall = overall_for({("a2001", "murad_2018"): "low", ("b2010", "murad_2018"): "low"})
    assert validate_appraisal(appraisal, overall, ["a2001", "b2010"]) == []


def test_tables_shares_and_high_risk():
    appraisal = full_appraisal()
    appraisal.loc[(appraisal.study_id == "b2010") & (appraisal.item == "Q1"), "answer"] = "no"
    appraisal.loc[(appraisal.study_id == "b2010") & (appraisal.item == "Q5"), "answer"] = "not applicable"
    table = appraisal_table(appraisal, overall_for(BOTH), "murad_2018")
    assert list(table.columns) == ["study_id", "Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8", "overall"]
    assert table.set_index("study_id").loc["b2010", ["Q1", "Q5", "overall"]].tolist() == [
        "no", "not applicable", "high"]
    shares = answer_shares(appraisal, "murad_2018")
    assert shares.loc["Q1"].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert shares.loc["Q2", "yes"] == 1.0
    assert high_risk_studies(overall_for(BOTH)) == ["b2010"]
    assert high_risk_studies(overall_for(BOTH), tool="jbi_case_report") == ["b2010"]
    mixed = dict(BOTH)
    mixed[("b2010", "jbi_case_report")] = "moderate"
    assert high_risk_studies(overall_for(mixed), tool="jbi_case_report") == []
    assert high_risk_studies(overall_for(mixed), tool="murad_2018") == ["b2010"]


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [" ".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("palette", ["cochrane", "colourblind"])
def test_plots_carry_labels_and_are_deterministic(tmp_path, palette):
    from metacalc.plots import save_figure
    from metacalc.plots.risk_of_bias import summary_plot, traffic_light_plot

    appraisal = full_appraisal()
    appraisal.loc[3, "answer"] = "unclear"
    labels = {"a2001": "Alpha 2001", "b2010": "Beta & Co 2010"}
    for n in (1, 2):
        save_figure(traffic_light_plot(appraisal, overall_for(BOTH), "jbi_case_report", palette=palette,
                                       labels=labels), str(tmp_path / f"traffic{n}.svg"))
        save_figure(summary_plot(appraisal, "murad_2018", palette=palette, overall=overall_for(BOTH)),
                    str(tmp_path / f"summary{n}.svg"))
    assert (tmp_path / "traffic1.svg").read_bytes() == (tmp_path / "traffic2.svg").read_bytes()
    assert (tmp_path / "summary1.svg").read_bytes() == (tmp_path / "summary2.svg").read_bytes()
    traffic = svg_texts(tmp_path / "traffic1.svg")
    assert "Alpha 2001" in traffic and "Beta & Co 2010" in traffic
    assert "Overall" in traffic and "?" in traffic  # the unclear answer is a symbol, not only a colour
    summary = svg_texts(tmp_path / "summary1.svg")
    assert "Q1. Selection" in summary and "Overall" in summary
    svg = (tmp_path / "traffic1.svg").read_text()
    colours = {"cochrane": ("#02c100", "#bf0000"), "colourblind": ("#0072b2", "#d55e00")}[palette]
    assert colours[0] in svg.lower() and colours[1] in svg.lower()


def test_unknown_palette_is_refused():
    from metacalc.plots.risk_of_bias import summary_plot

    with pytest.raises(ValueError, match="unknown palette 'rainbow'"):
        summary_plot(full_appraisal(), "murad_2018", palette="rainbow")


SHEETS = os.path.join(os.path.dirname(__file__), os.pardir, "extraction_sheets")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHEETS, "appraisal.csv")), reason="no bundled appraisal")
def test_bundled_appraisal_covers_every_included_report():
    from metacalc.review.prisma import flow_counts, included_report_ids

    def read(name):
        return pd.read_csv(os.path.join(SHEETS, f"{name}.csv"), dtype=str, keep_default_na=False)

    records, studies = read("records"), read("studies")
    included = included_report_ids(flow_counts(records, studies), records)
    appraisal, overall = read("appraisal"), read("appraisal_overall")
    assert validate_appraisal(appraisal, overall, included) == []
    # every case report with both tools, every series with Murad's
    design = studies.set_index("study_id")["design"]
    for study in included:
        tools = set(appraisal.loc[appraisal.study_id == study, "tool"])
        assert "murad_2018" in tools
        if design[study] != "case series":
            assert tools == {"jbi_case_report", "murad_2018"}
    assert all(len(text) > 20 for text in appraisal["justification"])
