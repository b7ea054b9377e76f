"""Names that read alike ("Drug A", "drug-a") get figure files and HTML ids of their own: one slug per exact name
(a readable part and a short hash), used by the figures and the report alike. They once wrote the same forest
plot file, one therapy's plot lost, and their anchors collided."""

import dataclasses
import re
from collections import Counter

from metacalc.render.figures import render_figures
from metacalc.render.report import read_figures, render_html
from metacalc.review.document import ReviewResults
from metacalc.review.results import ProportionGroup
from metacalc.review.words import slug


def test_a_slug_is_readable_stable_and_one_per_exact_name():
    assert slug("Drug A") == slug("Drug A") and slug("Drug A") != slug("drug-a") != slug("drug a")
    assert re.fullmatch(r"drug-a-[0-9a-f]{6}", slug("Drug A"))
    assert re.fullmatch(r"all-[0-9a-f]{6}", slug("中文")) and slug("中文") != slug("日本")
    assert len(slug("x" * 500)) == 40 + 7  # a long name stays a valid file name


def colliding_results(results: ReviewResults) -> ReviewResults:
    """The bundled results with a pooled group of one analysis repeated as "Drug A" and "drug-a"."""
    for analysis in results.analyses:
        pooled = [g for g in analysis.groups if isinstance(g, ProportionGroup) and g.result and g.k >= 2]
        if pooled:
            groups = (dataclasses.replace(pooled[0], group="Drug A"), dataclasses.replace(pooled[0], group="drug-a"))
            return dataclasses.replace(results, analyses=(dataclasses.replace(analysis, groups=groups),))
    raise AssertionError("the bundled results have a pooled group of two or more reports")


def test_names_that_read_alike_keep_their_own_figures_and_anchors(bundled_results, tmp_path):
    results = colliding_results(bundled_results)
    entries = render_figures(results, str(tmp_path))
    forests = [e for e in entries if e["id"].startswith("forest-")]
    assert sorted(e["group"] for e in forests) == ["Drug A", "drug-a"]
    assert len({e["file"] for e in forests}) == 2 and all((tmp_path / e["file"]).is_file() for e in forests)

    figures, omitted = read_figures(str(tmp_path))
    html = render_html(results, figures, omitted=omitted)
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    for group in ("Drug A", "drug-a"):
        anchor = f"prov-{results.analyses[0].id}-{slug(group)}"
        assert ids[anchor] == 1 and f'href="#{anchor}"' in html
