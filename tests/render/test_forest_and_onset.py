"""Forest, overview and time-to-onset figures: content of the SVG, validity, determinism, edge cases."""

import re
import xml.etree.ElementTree as ET

import pytest

from metacalc.render.forest import _marker_sides, forest_plot, overview_plot
from metacalc.render.layout import _fit_reference, _reference_text
from metacalc.render.onset import onset_plot
from metacalc.render.style import save_figure
from metacalc.review.results import PooledEstimate

SVG = "{http://www.w3.org/2000/svg}"


def study(label, events, total, estimate, lower, upper, weight):
    return {"label": label, "events": events, "total": total, "estimate": estimate, "ci_lower": lower,
            "ci_upper": upper, "weight": weight}


def iv_result(**changes):
    result = {
        "k": 4, "method": "iv", "measure": "PLO", "tau2_method": "REML", "level": 0.95,
        "estimate": 0.7012, "ci_lower": 0.4612, "ci_upper": 0.8823, "pi_lower": 0.2104, "pi_upper": 0.9511,
        "tau2": 0.4123, "i2": 45.2, "q": 7.31, "q_df": 3, "q_pvalue": 0.0626,
        "reason": "Case series contribute more than one patient.", "warnings": ["Few studies."],
        "studies": [
            study("Balin 2012", 9, 17, 0.529, 0.278, 0.770, 40.0),
            study("Smith 2001", 1, 1, 1.0, 0.025, 1.0, 10.0),
            study("Jones 2003", 0, 4, 0.0, 0.0, 0.602, 20.0),
            study("Rodríguez 2019", 7, 9, 0.778, 0.40, 0.972, 30.0),
        ],
    }
    result.update(changes)
    return PooledEstimate("proportion", result)


def exact_result(n_studies=3):
    studies = [study(f"Case report {i + 1}", i % 2, 1, float(i % 2), 0.025 if i % 2 else 0.0,
                     1.0 if i % 2 else 0.975, None) for i in range(n_studies)]
    events = sum(s["events"] for s in studies)
    return PooledEstimate("proportion", {
        "k": n_studies, "method": "exact", "measure": None, "tau2_method": None, "level": 0.95,
        "estimate": events / n_studies, "ci_lower": 0.0094, "ci_upper": 0.9916, "pi_lower": None, "pi_upper": None,
        "tau2": None, "i2": None, "q": None, "q_df": None, "q_pvalue": None,
        "reason": "All studies are single-patient case reports.", "warnings": [], "studies": studies,
    })


def mean_result():
    return PooledEstimate("mean", {
        "k": 2, "method": "iv", "measure": "MN", "tau2_method": "DL", "level": 0.95,
        "estimate": 14.2, "ci_lower": 8.1, "ci_upper": 20.3, "pi_lower": None, "pi_upper": None,
        "tau2": 12.3, "i2": 61.0, "q": 5.12, "q_df": 1, "q_pvalue": 0.0237, "reason": "", "warnings": [],
        "studies": [
            {"label": "Case reports", "n": 5, "mean": 11.2, "sd": 5.1, "estimate": 11.2, "ci_lower": 4.9,
             "ci_upper": 17.5, "weight": 55.0},
            {"label": "Balin 2012", "n": 78, "mean": 21.5, "sd": 12.0, "estimate": 21.5, "ci_lower": 18.8,
             "ci_upper": 24.2, "weight": 45.0},
        ],
    })


REFERENCES = [{"value": 9.8, "label": "literature average (seed 004)"},
              {"value": 21.5, "label": "Mayo series (Balin 2012)"}]


def render(fig, tmp_path, name="figure"):
    """Save through the package's writer and return (root element, all text strings, all ids)."""
    path = tmp_path / f"{name}.svg"
    save_figure(fig, str(path))
    root = ET.parse(path).getroot()  # raises if the SVG is not well-formed XML
    texts = ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]
    ids = [element.get("id") for element in root.iter() if element.get("id")]
    return root, texts, ids


def count_ids(ids, prefix):
    return sum(1 for i in ids if re.fullmatch(re.escape(prefix) + r"\d+", i))


def svg_height(root):
    return float(root.get("height").removesuffix("pt"))


# ------------------------------------------------------------------------------------------------ forest


def test_forest_plot_shows_every_study_the_diamond_and_the_numbers(tmp_path):
    fig = forest_plot(iv_result(), "Diltiazem: any response", reference_lines=[(0.53, "Mayo series (Balin 2012)")])
    _, texts, ids = render(fig, tmp_path)
    assert count_ids(ids, "study-marker-") == 4
    assert "summary-diamond" in ids
    assert "prediction-interval" in ids
    assert "reference-line-1" in ids
    for label in ("Balin 2012", "Smith 2001", "Jones 2003", "Rodríguez 2019", "Diltiazem: any response"):
        assert label in texts
    assert "0.70 [0.46, 0.88]" in texts
    assert "0.53 [0.28, 0.77]" in texts
    assert "0.00 [0.00, 0.60]" in texts
    assert "[0.21, 0.95]" in texts
    assert "40.0%" in texts and "100%" in texts
    assert "31" in texts  # the pooled total: 17 + 1 + 4 + 9
    assert "Mayo series (Balin 2012): 0.53" in texts
    heterogeneity = " ".join(t for t in texts if "Heterogeneity" in t or "Q = " in t)
    assert "τ² = 0.412" in heterogeneity and "I² = 45%" in heterogeneity
    assert "Q = 7.31 (df = 3), p = 0.063" in heterogeneity
    method = next(t for t in texts if t.startswith("Method:"))
    assert "logit" in method


def test_marker_area_is_proportional_to_weight():
    fig = forest_plot(iv_result(), "weights")
    sides = {line.get_gid(): line.get_markersize() for ax in fig.axes for line in ax.get_lines()
             if (line.get_gid() or "").startswith("study-marker-")}
    areas = [sides[f"study-marker-{i}"] ** 2 for i in range(1, 5)]
    weights = [40.0, 10.0, 20.0, 30.0]
    for area, weight in zip(areas, weights):
        assert area / areas[0] == pytest.approx(weight / weights[0])


def test_marker_sizes_equal_when_weights_are_null_or_equal():
    assert len(set(_marker_sides([None, None, None]))) == 1
    assert len(set(_marker_sides([25.0, 25.0, 25.0, 25.0]))) == 1
    sides = _marker_sides([50.0, None, 2.0])
    assert sides[0] > sides[2] > 0 and sides[1] == sides[2]  # tiny weights stay visible, at the minimum size


def test_pooled_count_plot_has_no_heterogeneity_and_no_prediction_interval(tmp_path):
    fig = forest_plot(exact_result(3), "Bisphosphonates")
    _, texts, ids = render(fig, tmp_path)
    assert count_ids(ids, "study-marker-") == 3
    assert "prediction-interval" not in ids
    assert "Heterogeneity: not estimated (pooled count, exact CI)" in texts
    assert "Total (pooled count)" in texts
    assert not any("τ²" in t or "I²" in t for t in texts)
    assert texts.count("–") == 3  # the weight column of each study: no weight for a pooled count
    assert "100%" not in texts


def test_estimates_at_zero_and_one_are_drawn_on_the_axis_ends():
    fig = forest_plot(iv_result(), "bounds")
    positions = {line.get_gid(): line.get_xdata()[0] for ax in fig.axes for line in ax.get_lines()
                 if (line.get_gid() or "").startswith("study-marker-")}
    assert positions["study-marker-2"] == 1.0
    assert positions["study-marker-3"] == 0.0
    assert fig.axes[1].get_xlim() == (0.0, 1.0)


def test_percent_scale(tmp_path):
    fig = forest_plot(iv_result(), "percent", percent=True)
    _, texts, _ = render(fig, tmp_path)
    assert "70.1 [46.1, 88.2]" in texts
    assert "100%" in texts and "Percent [95% CI]" in texts
    assert fig.axes[1].get_xlim() == (0.0, 100.0)


def test_single_study_with_null_prediction_interval(tmp_path):
    result = iv_result(k=1, pi_lower=None, pi_upper=None, studies=[study("Only one", 9, 9, 1.0, 0.664, 1.0, 100.0)],
                       estimate=1.0, ci_lower=0.664, ci_upper=1.0, tau2=0.0, i2=0.0, q=0.0, q_df=0, q_pvalue=1.0)
    _, texts, ids = render(forest_plot(result, "k = 1", show_weights=False), tmp_path)
    assert count_ids(ids, "study-marker-") == 1
    assert "summary-diamond" in ids and "prediction-interval" not in ids
    assert "Heterogeneity: not applicable (one study)" in texts
    assert "Weight" not in texts
    assert texts.count("1.00 [0.66, 1.00]") == 2  # the study and the summary


def test_intervals_beyond_the_axis_end_in_arrows(tmp_path):
    result = mean_result()
    result.fields["studies"][1].update(estimate=35.0, ci_lower=32.0, ci_upper=38.0)
    _, texts, ids = render(forest_plot(result, "clipped", xlim=(0, 30)), tmp_path)
    assert ids.count("clipped-interval") == 1  # study 2 lies wholly right of the axis: one arrow, no marker
    assert count_ids(ids, "study-marker-") == 1
    assert "35.0 [32.0, 38.0]" in texts
    _, texts, ids = render(forest_plot(result, "clipped", xlim=(0, 20), reference_lines=[(21.5, "Mayo")]),
                           tmp_path, "beyond")
    assert "Mayo: 21.5 (beyond the axis)" in texts and "reference-line-1" not in ids


def test_mean_forest_plot_uses_data_range_and_reference_lines(tmp_path):
    fig = forest_plot(mean_result(), "Time to onset", xlabel="Years", reference_lines=REFERENCES)
    _, texts, ids = render(fig, tmp_path)
    assert "Mean (SD)" in texts and "11.2 (5.1)" in texts and "78" in texts
    assert "14.2 [8.1, 20.3]" in texts
    assert "literature average (seed 004): 9.8" in texts
    assert "Mayo series (Balin 2012): 21.5" in texts
    assert count_ids(ids, "reference-line-") == 2
    xmin, xmax = fig.axes[1].get_xlim()
    assert xmin <= 4.9 and xmax >= 24.2 and xmax - xmin < 40


def test_awkward_labels_stay_valid_svg_and_literal(tmp_path):
    result = iv_result()
    result.fields["studies"][0]["label"] = 'A & B <i>"q"</i> $5 and $6'
    result.fields["studies"][1]["label"] = "A report with an exceptionally long title that cannot fit in the column at all"
    fig = forest_plot(result, "Title with <tag> & 'quotes'", reference_lines=[(0.5, "x < y & z")])
    _, texts, _ = render(fig, tmp_path)
    assert 'A & B <i>"q"</i> $5 and $6' in texts  # no mathtext, no markup
    assert "Title with <tag> & 'quotes'" in texts
    assert "x < y & z: 0.50" in texts
    long_lines = [t for t in texts if t.startswith("A report") or t.endswith("…")]
    assert any(t.endswith("…") for t in long_lines)
    assert "A report with an exceptionally long title that cannot fit in the column at all" not in texts


def test_same_input_gives_byte_identical_svg(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    save_figure(forest_plot(iv_result(), "Diltiazem", reference_lines=[(0.5, "half")]), str(first))
    save_figure(forest_plot(iv_result(), "Diltiazem", reference_lines=[(0.5, "half")]), str(second))
    assert first.read_bytes() == second.read_bytes()
    assert b"<dc:date>" not in first.read_bytes()


def test_figure_grows_with_the_number_of_rows(tmp_path):
    small, large = forest_plot(exact_result(3), "small"), forest_plot(exact_result(12), "large")
    assert large.get_size_inches()[1] > small.get_size_inches()[1] + 8 * 0.25
    small_root, _, small_ids = render(small, tmp_path, "small")
    large_root, _, large_ids = render(large, tmp_path, "large")
    assert svg_height(large_root) > svg_height(small_root)
    assert count_ids(large_ids, "study-marker-") == 12


def test_max_rows_shows_the_first_studies_and_counts_the_rest(tmp_path):
    fig = forest_plot(iv_result(), "capped", max_rows=2)
    _, texts, ids = render(fig, tmp_path)
    assert count_ids(ids, "study-marker-") == 2
    assert "Balin 2012" in texts and "Smith 2001" in texts and "Jones 2003" not in texts
    assert "… 2 more studies not shown (50.0% of the weight)" in texts
    assert "31" in texts and "0.70 [0.46, 0.88]" in texts  # the summary still covers every study
    uncapped = forest_plot(iv_result(), "all")
    assert fig.get_size_inches()[1] < uncapped.get_size_inches()[1]


def test_no_studies_is_a_clear_error():
    with pytest.raises(ValueError, match="no studies"):
        forest_plot(iv_result(k=0, studies=[]), "empty")


def test_reference_line_outside_proportion_scale_is_an_error():
    with pytest.raises(ValueError, match="not a proportion"):
        forest_plot(iv_result(), "bad", reference_lines=[(9.8, "years")])


def test_reference_label_shows_its_value_once():
    assert _reference_text("Mayo series", 21.5, 1) == "Mayo series: 21.5"
    assert _reference_text("Mayo series: 21.5 y", 21.5, 1) == "Mayo series: 21.5 y"
    assert _reference_text("literature average (seed 001)", 1.0, 1) == "literature average (seed 001): 1.0"
    assert _reference_text("", 0.25, 2) == "0.25"
    long = "seed004, all reported cases of calcinosis cutis in SLE (literature summary cited as ref. [2]): 9.8 y"
    lines = _fit_reference(long + " " + long)
    assert len(lines) == 2 and all(len(line) <= 50 for line in lines)
    assert lines[1].endswith("[2]): 9.8 y") and "…" in " ".join(lines)  # the value at the end survives


def test_method_text_follows_the_model(tmp_path):
    common = mean_result()
    common.fields.update(tau2_method="FE", test="knha")
    common.fields["studies"][0]["n"] = 12.5  # an n estimated for a series need not be whole
    _, texts, _ = render(forest_plot(common, "common effect"), tmp_path)
    method = " ".join(t for t in texts if "Method:" in t or "interval" in t)
    assert "common-effect model" in method and "Hartung-Knapp" in method and "τ² by" not in method
    assert "Common-effect model" in texts
    assert "12.5" in texts and "90.5" in texts
    glmm = iv_result(method="glmm")
    _, texts, _ = render(forest_plot(glmm, "glmm"), tmp_path, "glmm")
    assert "Random-effects model (GLMM)" in texts
    assert any("binomial-normal generalised linear mixed model" in t for t in texts)


# ---------------------------------------------------------------------------------------------- overview


def test_overview_has_one_row_per_therapy_with_method(tmp_path):
    glmm = iv_result(method="glmm", tau2_method=None)
    single = exact_result(1)
    rows = [("Diltiazem", iv_result()), ("Bisphosphonates", exact_result(3)), ("Surgery", single),
            ("Calcium channel blockers", glmm)]
    fig = overview_plot(rows, "Any response by therapy", label_header="Drug class")
    from matplotlib.text import Text

    labels = [t.get_text().replace("\n", " ") for t in fig.findobj(Text)]  # a label wrapped on two lines, whole
    _, texts, ids = render(fig, tmp_path)
    assert "Drug class" in texts and "Therapy" not in texts
    assert count_ids(ids, "overview-row-") == 4
    for label in ("Diltiazem", "Bisphosphonates", "Surgery", "Calcium channel blockers"):
        assert label in texts
    assert "IV, logit, REML" in labels and "GLMM (ML)" in labels
    assert labels.count("pooled count, exact CI") == 2
    assert texts.count("17 / 31") == 2  # diltiazem and the class: events / total summed over studies
    assert "1 / 3" in texts and "0 / 1" in texts
    assert texts.count("0.70 [0.46, 0.88]") == 2
    assert "Proportion [95% CI]" in texts


def test_overview_grows_with_rows_and_rejects_empty():
    one = overview_plot([("a", iv_result())], "t")
    many = overview_plot([(str(i), iv_result()) for i in range(10)], "t")
    assert many.get_size_inches()[1] > one.get_size_inches()[1]
    with pytest.raises(ValueError, match="no rows"):
        overview_plot([], "empty")


# ------------------------------------------------------------------------------------------------- onset


PATIENTS = [
    {"label": "Pérez-Pampín 2011", "years": 11.0, "group": "Lupus panniculitis: no"},
    {"label": "Bazán 2005", "years": 23.0, "group": "Lupus panniculitis: no"},
    {"label": 'Fernandes 2018 <dup?> & "x"', "years": 6.0, "group": "Lupus panniculitis: yes"},
    {"label": "Calcinosis first", "years": -2.0, "group": None},
    {"label": "Timing unknown", "years": None, "group": None},
]
SUMMARIES = [
    {"label": "Case reports, pooled mean", "estimate": 9.5, "ci_lower": -4.2, "ci_upper": 23.2, "n": 4,
     "kind": "pooled"},
    {"label": "Mayo series (Balin 2012)", "estimate": 21.5, "ci_lower": None, "ci_upper": None, "n": 78,
     "kind": "published"},
    {"label": "Mayo, lupus panniculitis", "estimate": 4.8, "ci_lower": None, "ci_upper": None, "n": None,
     "kind": "published"},
]


def test_onset_plot_shows_patients_groups_summaries_and_references(tmp_path):
    fig = onset_plot(PATIENTS, SUMMARIES, REFERENCES, "Time from SLE diagnosis to calcinosis")
    _, texts, ids = render(fig, tmp_path)
    assert count_ids(ids, "patient-") == 4  # the patient without a time is listed, not drawn
    assert count_ids(ids, "summary-") == 3
    assert count_ids(ids, "reference-line-") == 2
    assert "Lupus panniculitis: no (2)" in texts and "Lupus panniculitis: yes (1)" in texts
    assert "group not reported (2)" in texts
    assert 'Fernandes 2018 <dup?> & "x"' in texts
    assert "not reported" in texts and "-2.0" in texts and "23.0" in texts
    assert "9.5 [-4.2, 23.2]" in texts
    assert "Mayo series (Balin 2012) (n = 78)" in texts and "Mayo, lupus panniculitis" in texts
    assert "literature average (seed 004): 9.8" in texts and "Mayo series (Balin 2012): 21.5" in texts
    xmin, xmax = fig.axes[1].get_xlim()
    assert xmin <= -4.2 and xmax >= 23.2


def test_onset_groups_keep_order_with_unknown_last(tmp_path):
    import numpy as np

    patients = [{"label": "p1", "years": np.int64(3), "group": None},
                {"label": "p2", "years": np.float64(4), "group": "b"},
                {"label": "p3", "years": 5.0, "group": "a"}]
    _, texts, _ = render(onset_plot(patients, [], [], "order"), tmp_path)
    headings = [t for t in texts if t.endswith("(1)")]
    assert headings == ["b (1)", "a (1)", "group not reported (1)"]
    assert "3.0" in texts and "4.0" in texts  # numpy numbers are numbers


def test_onset_plot_is_deterministic_and_checks_input(tmp_path):
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    save_figure(onset_plot(PATIENTS, SUMMARIES, REFERENCES, "t"), str(first))
    save_figure(onset_plot(PATIENTS, SUMMARIES, REFERENCES, "t"), str(second))
    assert first.read_bytes() == second.read_bytes()
    with pytest.raises(ValueError, match="no patients"):
        onset_plot([], [], REFERENCES, "empty")
    with pytest.raises(ValueError, match="expected 'pooled' or 'published'"):
        onset_plot(PATIENTS, [dict(SUMMARIES[0], kind="other")], [], "bad kind")


def test_pdf_and_png_are_written_alongside(tmp_path):
    svg, pdf, png, again = tmp_path / "f.svg", tmp_path / "f.pdf", tmp_path / "f.png", tmp_path / "g.png"
    written = save_figure(forest_plot(exact_result(2), "png"), str(svg), ("png", "svg", "pdf"))
    assert written == [str(svg), str(pdf), str(png)]  # SVG first, whatever the order asked
    save_figure(forest_plot(exact_result(2), "png"), str(tmp_path / "g.svg"), ("svg", "png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.read_bytes() == again.read_bytes()
    assert svg.read_bytes().startswith(b"<?xml") and pdf.read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="unknown figure format 'tiff'"):
        save_figure(forest_plot(exact_result(2), "png"), str(svg), ("svg", "tiff"))
