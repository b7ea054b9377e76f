"""Pieces of the report: inline SVG, sentences with the headline numbers, and a full render on a small plan."""

import json
import re

import pytest

from metacalc.data.review_file import parse_review
from metacalc.errors import UserError
from metacalc.render.report import inline_svg
from metacalc.render.sentences import closest_reference, proportion_sentence
from metacalc.review.results import AnalysisResult, ProportionGroup


def test_inline_svg_strips_prolog_and_prefixes_only_its_own_ids():
    svg = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\n'
           '  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- Created with matplotlib -->\n'
           '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="p1"><rect/></clipPath></defs>'
           '<g clip-path="url(#p1)"><use xlink:href="#p1"/><a href="#prisma-screened">box</a></g></svg>')
    out = inline_svg(svg, "fig3")
    assert out.startswith("<svg") and "<?xml" not in out and "DOCTYPE" not in out and "matplotlib" not in out
    assert 'id="fig3-p1"' in out and "url(#fig3-p1)" in out and 'xlink:href="#fig3-p1"' in out
    assert 'href="#prisma-screened"' in out  # a link to the report's own anchor is left alone


@pytest.mark.parametrize("svg", [
    '<svg><script>alert(1)</script></svg>',
    '<svg><rect onload="alert(1)"/></svg>',
    '<svg><foreignObject><div/></foreignObject></svg>',
    '<html></html>',
])
def test_inline_svg_refuses_active_content(svg):
    with pytest.raises(UserError):
        inline_svg(svg, "fig0")


def test_escaped_text_that_looks_like_a_handler_is_not_refused():
    assert "onerror=alert(1)" in inline_svg('<svg><text>&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</text></svg>', "f")


def proportion_group(events, total, result, not_pooled=None):
    return ProportionGroup.from_dict({"group": "diltiazem", "k": 1, "patients": total, "events": events, "total": total,
                                      "method_requested": "auto", "result": result, "not_pooled": not_pooled,
                                      "lower_bounds": [], "contributors": [], "cumulative": None})


def test_proportion_sentence_states_counts_percent_and_interval():
    group = proportion_group(1, 4, {"estimate": 0.25, "ci_lower": 0.00630946, "ci_upper": 0.80587955,
                                    "method": "exact"})
    assert proportion_sentence(group, 0.95, with_method=False) == (
        "1 of 4 patients responded (25.0%, 95% CI 0.6% to 80.6%)")
    assert proportion_sentence(group, 0.9).endswith(
        "90% CI 0.6% to 80.6%; exact pooled count)")
    assert proportion_sentence(proportion_group(0, 1, None, "fewer than 2 patients"),
                               0.95) == "0 of 1 patient responded (not pooled: fewer than 2 patients)"
    # a count that is only a lower bound: a one-sided limit, never a two-sided interval
    bound = proportion_group(10, 21, {"estimate": 10 / 21, "ci_lower": 0.2858004781, "ci_upper": None,
                                      "method": "exact", "lower_bound": True})
    assert proportion_sentence(bound, 0.95) == (
        "at least 10 of 21 patients responded (≥ 47.6%, one-sided 95% lower limit 28.6%; a lower bound, so no upper "
        "limit; exact pooled count, one-sided lower limit)")
    glmm = proportion_group(9, 40, {"estimate": 0.21, "ci_lower": 0.1, "ci_upper": 0.4, "method": "glmm",
                                    "estimand": "population average"})
    assert proportion_sentence(glmm, 0.95).endswith("GLMM (random-intercept logistic), population-average proportion)")


def test_closest_reference_answers_the_headline_question_with_its_caveats():
    def comparison(aggregate_id, mean, outcome, measure, difference, population, n=None, sd=None, patients=4):
        tested = sd is not None and patients > 1
        return {"difference": difference, "measure": measure, "reference_measure": outcome,
                "same_measure": outcome == measure, "tested": tested, "pvalue": 0.01 if tested else None,
                "method": "welch" if tested else "descriptive", "n": patients, "mean": mean + difference,
                "group": "all patients", "caveat": "", "patient_ids": [], "interpretation": "",
                "reference": {"mean": mean, "label": "Ref", "population": population, "aggregate_id": aggregate_id,
                              "outcome": outcome, "n": n, "sd": sd, "study_id": "ref", "group": "all patients"}}

    def analysis(comparisons):
        summary = {"mean": 8.0, "n": 4, "median": 8.5, "min": 4.0, "max": 11.0, "median_ci": None,
                   "range_coverage": 0.875, "level": 0.95}
        group = {"group": "all patients", "patients": 4, "summary": summary, "comparisons": comparisons,
                 "pooled": None, "not_pooled": None, "contributors": []}
        return AnalysisResult.from_dict({
            "id": "onset", "title": "Onset", "description": "", "source": "onset.yaml", "kind": "time",
            "outcome": onset, "outcome_label": "", "group_by": "none", "subgroup_by": None, "settings": {},
            "groups": [group], "sensitivity": [], "used": {}, "references": []})

    onset, diagnosis = "years_to_onset", "years_to_diagnosis"
    literature = comparison("lit", 9.8, onset, onset, -1.8, "all cases", n=38, sd=7.1)
    mayo = comparison("mayo", 21.5, diagnosis, onset, -13.5, "SLE", n=2)
    mayo_same = comparison("mayo", 21.5, diagnosis, diagnosis, -10.5, "SLE", n=2, patients=1)
    review = parse_review({"title": "T", "condition": {"name": "calcinosis cutis"}, "disease": {"name": "SLE"},
                           "clock": {"start": "SLE diagnosis", "onset": "first lesion",
                                     "diagnosis": "diagnosis of calcinosis"}})
    headline = closest_reference(analysis([literature, mayo, mayo_same]), review)
    assert headline.answer == (
        "Closer to 9.8 than to 21.5 years: the 4 reported patients' mean time from SLE diagnosis to the first lesion "
        "(onset) is 8.0 years, 1.8 years from 9.8 years (Ref, all cases, n = 38, SD 7.1; time from SLE diagnosis to "
        "the first lesion (onset)) and 13.5 years from 21.5 years (Ref, SLE, n = 2; time from SLE diagnosis to the diagnosis of "
        "calcinosis).")
    assert headline.caveats == (
        "The difference from 21.5 years is descriptive, not a test: 21.5 years is the mean of 2 patients, without an "
        "SD, so no test can allow for the published figure's own uncertainty (a one-sample test would treat it as a "
        "known constant).",
        "With 4 patients the mean itself is imprecise: median 8.5 years (range 4.0 to 11.0, which contains the "
        "median with probability 87.5%; no exact 95% interval exists with 4 values).",
        "21.5 years is a time from SLE diagnosis to the diagnosis of calcinosis, not the patients' measure: diagnosis "
        "follows onset, so it is an upper bound of the time to onset in its series, and part of the 13.5-year gap "
        "may be this difference of measures.",
        "On that measure (time from SLE diagnosis to the diagnosis of calcinosis), the one patient whose report gives it "
        "(11.0 years) lies 10.5 years below 21.5 years (descriptive).",
    )
    assert closest_reference(analysis([literature]), review) is None


@pytest.mark.slow  # the whole bundled review, rendered
def test_report_sections_methods_and_provenance(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    text_only = " ".join(html.split())
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    for anchor in ("summary", "changes", "prisma", "studies", "patients", "risk-of-bias", "results", "onset",
                   "sensitivity", "methods", "provenance", "excluded-rows", "checklist"):
        assert html.count(f'id="{anchor}"') == 1
    # methods generated from the settings that ran, with software versions and references
    for text in ("Clopper", "Viechtbauer", "Hartung", "Wan X", "Luo D", "PRISMA 2020 statement", "JBI", "Murad MH",
                 f"numpy {results['software']['numpy']}", f"scipy {results['software']['scipy']}",
                 f"metacalc {results['software']['metacalc']}", "REML estimator of τ²"):
        assert text in text_only
    # every pooled group links to its provenance block, which names each contributing patient
    for analysis in results["analyses"]:
        for group in analysis["groups"]:
            assert f'href="#prov-{analysis["id"]}-' in html
            for contributor in group["contributors"]:
                for patient in contributor.get("patients", [contributor]):
                    if "patient_id" in patient:
                        assert f'href="#patient-{patient["patient_id"]}"' in html
    # the reviewer's four findings, each computed from the data
    assert "Closer to 9.8 than to 21.5 years" in text_only
    assert "too few patients" in text_only
    assert ("Lower bound: Balin 2012: partial responses only; complete responses not reported, so any response "
            "≥ 9/17") in text_only
    assert text_only.count("Where the duplicate reports differ") == 1
    assert text_only.count("Duplicate reports counted once: where they differ") == 1
    assert "<td>lupus panniculitis</td><td>blank</td><td>yes</td><td>only in the duplicate report</td>" in text_only
    assert "Diltiazem: cumulative meta-analysis by year of publication" in text_only
    assert "Reports with no year of publication come last: Pérez Pampín (n.d.), Anonymous (n.d.-a)." in text_only
    # every row not used is listed with its reason
    for row in results["excluded_rows"]:
        assert f"<code>{row['row_id']}</code>" in html
    # nothing to fetch: the only URLs are XML namespace names, which browsers never request
    assert "<script" not in html and "<metadata" not in html
    urls = set(re.findall(r'(\S+)="(?:https?:)?//', html))
    assert urls <= {"xmlns", "xmlns:xlink"}, urls


def test_an_unfinished_appraisal_accepted_as_a_warning_is_stated_prominently(tmp_path):
    from conftest import SMALL_REVIEW, copy_review

    from metacalc.pipeline import run_review

    sheets = copy_review(SMALL_REVIEW, tmp_path)
    overall = sheets / "appraisal_overall.csv"
    overall.write_text("\n".join(line for line in overall.read_text(encoding="utf-8").splitlines()
                                 if not line.startswith("beta2013")) + "\n", encoding="utf-8")
    review = tmp_path / "review.yaml"
    review.write_text(review.read_text(encoding="utf-8") + "appraisal: {incomplete: warning}\n", encoding="utf-8")
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "drug.yaml").write_text("id: drug\ntitle: Per drug\noutcome: any_response\n", encoding="utf-8")
    html = " ".join(open(run_review(str(sheets), str(plan), str(tmp_path / "out")), encoding="utf-8").read().split())
    masthead = html[:html.index("</header>")]
    assert 'id="appraisal-incomplete"' in masthead and "The risk-of-bias appraisal is not finished." in masthead
    assert "1 included report(s) are not fully appraised (Beta 2013)" in masthead
    assert ("Not every included report is fully appraised:</strong> Beta 2013 (no overall judgement by "
            "jbi_case_report).") in html
    assert "Every included report is appraised." not in html
