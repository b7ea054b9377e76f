"""Cumulative meta-analysis by year of publication as a figure: drawn from the results' steps, listed in
figures.json, shown in the report beside its table."""

import json
from pathlib import Path

import pytest

from metacalc.render.cumulative import cumulative_plot
from metacalc.review.results import Cumulative, CumulativeStep, ProportionGroup
from metacalc.review.results_io import read_results

RESULTS = Path(__file__).parent.parent / "fixtures" / "golden" / "expected" / "tables" / "results.json"


def svg_of(figure, tmp_path):
    from metacalc.render.style import save_figure

    save_figure(figure, str(tmp_path / "f.svg"))
    return (tmp_path / "f.svg").read_text(encoding="utf-8")


def test_one_row_per_step_with_its_estimate_and_a_lower_bound_without_upper_limit(tmp_path):
    steps = (CumulativeStep("Alpha 2001", "a", 2001, 1, 0, 1, "exact", 0.0, 0.0, 0.975),
             CumulativeStep("Beta 2002", "b", 2002, 2, 1, 2, "exact", 0.5, 0.0126, 0.987),
             CumulativeStep("Mayo 2012", "m", 2012, 3, 10, 19, "exact", 10 / 19, 0.32, None, lower_bound=True))
    svg = svg_of(cumulative_plot(Cumulative(steps), "diltiazem: cumulative"), tmp_path)
    assert [f'id="cumulative-step-{i}"' in svg for i in (1, 2, 3)] == [True] * 3
    for text in ("+ Alpha 2001", "+ Mayo 2012", "0 / 1", "10 / 19", "0.50 [0.01, 0.99]", "≥ 0.53 [≥ 0.32]"):
        assert text in svg
    with pytest.raises(ValueError):
        cumulative_plot(Cumulative(()), "empty")


def test_each_cumulative_analysis_is_a_figure_of_the_report(tmp_path):
    from metacalc.render.figures import FigureOptions, render_figures
    from metacalc.render.report import render_report

    results = read_results(RESULTS)
    render_figures(results, str(tmp_path / "figures"))
    manifest = json.loads((tmp_path / "figures" / "figures.json").read_text(encoding="utf-8"))
    cumulative = [f for f in manifest["figures"] if f["section"] == "cumulative"]
    expected = [(a.id, g.group) for a in results.analyses for g in a.groups
                if isinstance(g, ProportionGroup) and g.cumulative and g.cumulative.steps]
    assert [(f["analysis"], f["cumulative_of"]) for f in cumulative] == expected and expected
    html = Path(render_report(str(RESULTS), str(tmp_path / "figures"), str(tmp_path / "index.html"))).read_text(
        encoding="utf-8")
    for figure in cumulative:
        assert f'<figure id="figure-{figure["id"]}">' in html
    # too many steps for a figure: left out, and the report says so beside the table
    render_figures(results, str(tmp_path / "few"), FigureOptions(max_rows=3))
    omitted = json.loads((tmp_path / "few" / "figures.json").read_text(encoding="utf-8"))["omitted"]
    assert [o["id"] for o in omitted if o["section"] == "cumulative"] == [f["id"] for f in cumulative]
    html = Path(render_report(str(RESULTS), str(tmp_path / "few"), str(tmp_path / "few.html"))).read_text(
        encoding="utf-8")
    assert "Cumulative meta-analysis of diltiazem not drawn: 4 steps (more than 3); see the table." in html
