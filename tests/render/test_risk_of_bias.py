"""Risk-of-bias figures (robvis style): labels, symbols as well as colours, determinism, palettes."""

import xml.etree.ElementTree as ET

import pytest

from metacalc.data.appraisal_tools import TOOLS
from metacalc.render.risk_of_bias import summary_plot, traffic_light_plot
from metacalc.render.style import save_figure
from metacalc.review.appraisal import appraisal_results
from metacalc.review.tables import ReviewTables

JUDGEMENTS = {("a2001", "jbi_case_report"): "low", ("a2001", "murad_2018"): "moderate",
              ("b2010", "jbi_case_report"): "high", ("b2010", "murad_2018"): "high"}


@pytest.fixture(scope="module")
def appraisals():
    appraisal = [{"study_id": study, "tool": tool, "item": item, "answer": "yes", "justification": "stated"}
                 for study in ("a2001", "b2010") for tool in TOOLS for item in TOOLS[tool].item_ids]
    appraisal[3]["answer"] = "unclear"
    overall = [{"study_id": s, "tool": t, "judgement": j, "rationale": "why"} for (s, t), j in JUDGEMENTS.items()]
    studies = [{"study_id": "a2001", "first_author": "Alpha", "year": 2001},
               {"study_id": "b2010", "first_author": "Beta & Co", "year": 2010}]
    jbi, murad = appraisal_results(ReviewTables({"studies": studies, "appraisal": appraisal,
                                                 "appraisal_overall": overall}))
    return jbi, murad


def svg_texts(path):
    root = ET.parse(path).getroot()
    return [" ".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("palette", ["cochrane", "colourblind"])
def test_plots_carry_labels_and_are_deterministic(tmp_path, appraisals, palette):
    jbi, murad = appraisals
    for n in (1, 2):
        save_figure(traffic_light_plot(jbi, palette=palette), str(tmp_path / f"traffic{n}.svg"))
        save_figure(summary_plot(murad, palette=palette), str(tmp_path / f"summary{n}.svg"))
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


def test_unknown_palette_is_refused(appraisals):
    with pytest.raises(ValueError, match="unknown palette 'rainbow'"):
        summary_plot(appraisals[1], palette="rainbow")
