"""Numbered figures and tables with legends; titles and method text outside the figures; percentages on
proportion axes; leave-one-out wherever a group has 3 or more reports."""

import json
import re

import pytest

from metacalc.render.report import TableNumbers, number_figures


def test_figures_are_numbered_in_page_order_with_title_and_legend():
    figures = {
        "onset": {"id": "onset", "section": "onset", "title": "time", "legend": "Dots: patients."},
        "forest": {"id": "forest", "section": "results", "title": "diltiazem", "legend": "Squares."},
        "cumulative": {"id": "cumulative", "section": "cumulative", "caption": "diltiazem by year."},
        "prisma": {"id": "prisma", "section": "prisma", "title": "Flow", "legend": ""},
    }
    number_figures(figures)
    assert [(f["id"], f["number"]) for f in sorted(figures.values(), key=lambda f: f["number"])] == [
        ("prisma", 1), ("forest", 2), ("cumulative", 3), ("onset", 4)]
    assert figures["forest"]["caption"] == "Figure 2. Diltiazem. Squares."
    assert figures["cumulative"]["caption"] == "Figure 3. Diltiazem by year."
    assert figures["prisma"]["caption"] == "Figure 1. Flow."


def test_tables_numbered_once_per_key_in_the_order_asked():
    number = TableNumbers()
    assert [number("a"), number("b"), number("a"), number("c")] == ["Table 1", "Table 2", "Table 1", "Table 3"]


@pytest.mark.slow  # the whole bundled review, rendered
def test_every_figure_has_a_number_and_a_legend_and_no_title_or_method_inside(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    figures = re.findall(r"<figure id=\"figure-([^\"]+)\">(.*?)<figcaption>(.*?)</figcaption></figure>", html, re.S)
    manifest = json.loads((bundled_report / "figures" / "figures.json").read_text(encoding="utf-8"))["figures"]
    assert len(figures) == len(manifest)
    numbers = sorted(int(re.match(r"Figure (\d+)\. \S", caption).group(1)) for _, _, caption in figures)
    assert numbers == list(range(1, len(figures) + 1))
    for name, svg, caption in figures:
        assert len(caption) > 40, (name, caption)  # a title and a legend, not a bare number
        assert "Method:" not in svg and "Why this method" not in svg, name
    for name, svg, _ in figures:
        if name.startswith(("forest-response", "overview-response")):
            assert "100%" in svg, name  # the axis ticks are percentages
            assert "Percent" in svg or "(%)" in svg, name
    tables = re.findall(r"<caption><strong>(Table \d+)\.</strong>", html)
    assert tables == [f"Table {n}" for n in range(1, len(tables) + 1)]


@pytest.mark.slow  # the whole bundled review, rendered
def test_leave_one_out_is_shown_for_every_group_of_three_or_more_reports(bundled_report):
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    results = json.loads((bundled_report / "tables" / "results.json").read_text(encoding="utf-8"))
    groups = [(a, g) for a in results["analyses"] if a["kind"] == "proportion" for g in a["groups"]]
    large = [(a, g) for a, g in groups if len(g["contributors"]) >= 3 and g["result"]]
    assert large  # the bundled review has one (diltiazem, 4 reports)
    for analysis, group in groups:
        has = bool(group.get("leave_one_out"))
        assert has == ((analysis, group) in large), group["group"]
    for analysis, group in large:
        steps = group["leave_one_out"]["steps"]
        assert len(steps) == len(group["contributors"])
        for step in steps:
            assert step["k"] == group["k"] - 1 and step["total"] == group["total"] - 1
            assert step["omitted"] in html
        assert "leave-one-out analysis" in html
