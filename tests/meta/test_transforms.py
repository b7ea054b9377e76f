"""escalc for proportions and the back-transformations, against metafor 3.8.1 (iv_reference.json)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta.transforms import (
    back_transform,
    corrected_counts,
    escalc_proportion,
    freeman_tukey,
    harmonic_mean,
    inverse_freeman_tukey,
)

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "iv_reference.json").read_text())
RTOL, ATOL = 1e-6, 1e-9


def as_array(values):
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def assert_matches(actual, expected):
    actual = np.where(np.isfinite(actual), actual, np.nan)
    np.testing.assert_allclose(actual, as_array(expected), rtol=RTOL, atol=ATOL, equal_nan=True)


@pytest.mark.parametrize("dataset", REFERENCE["datasets"], ids=lambda d: d["name"])
def test_escalc_defaults_match_metafor(dataset):
    for measure, block in dataset["measures"].items():
        yi, vi = escalc_proportion(dataset["xi"], dataset["ni"], measure)
        assert_matches(yi, block["yi"])
        assert_matches(vi, block["vi"])
        assert harmonic_mean(dataset["ni"]) == pytest.approx(block["hm"], rel=1e-12)


@pytest.mark.parametrize("case", REFERENCE["corrections"], ids=lambda c: f"{c['measure']}-{c['to']}-{c['add']}")
def test_continuity_corrections_match_metafor(case):
    yi, vi = escalc_proportion(case["xi"], case["ni"], case["measure"], to=case["to"], add=case["add"])
    assert_matches(yi, case["yi"])
    assert_matches(vi, case["vi"])


@pytest.mark.parametrize("dataset", REFERENCE["datasets"], ids=lambda d: d["name"])
def test_back_transformations_match_metafor_predict(dataset):
    for measure, block in dataset["measures"].items():
        for fit in block["fits"]:
            if "error" in fit:
                continue
            for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
                raw = fit[key] if key != "estimate" else fit["estimate"]
                expected = fit["bt"][key]
                if raw is None:
                    assert expected is None
                    continue
                actual = float(back_transform(raw, measure, totals=dataset["ni"]))
                if expected is None:
                    assert math.isnan(actual), (measure, fit["method"], key)
                else:
                    assert actual == pytest.approx(expected, rel=RTOL, abs=ATOL), (measure, fit["method"], key)


def test_case_report_claim_is_what_metafor_gives():
    """The issue's claim: 14 responders in 20 single-patient reports pool to 0.60 under PR with metafor's defaults."""
    claim = REFERENCE["case_reports_claim"]
    pr = [f for f in claim["fits"] if f["measure"] == "PR"]
    assert all(f["estimate"] == pytest.approx(0.60) for f in pr)
    assert all(f["yi_event"] == 0.75 and f["yi_no_event"] == 0.25 for f in pr)
    yi, vi = escalc_proportion([1] * 14 + [0] * 6, [1] * 20, "PR")
    assert yi.mean() == pytest.approx(0.60)
    assert claim["pooled_count"]["proportion"] == 0.7


def test_default_add_depends_on_measure_like_metafor():
    x, n, corrected = corrected_counts([0, 2], [5, 5], "PAS")
    assert not corrected.any() and list(x) == [0, 2]
    x, n, corrected = corrected_counts([0, 2], [5, 5], "PLO")
    assert list(corrected) == [True, False] and list(x) == [0.5, 2] and list(n) == [6, 5]
    x, n, corrected = corrected_counts([0, 2], [5, 5], "PLO", to="if0all", add=1)
    assert list(x) == [1, 3] and list(n) == [7, 7]


def test_miller_inverse_recovers_proportions():
    # Miller (1978): the inverse with each study's own n returns its proportion
    xi, ni = np.array([3, 6, 10, 1]), np.array([11, 17, 21, 6])
    yi, _ = escalc_proportion(xi, ni, "PFT")
    np.testing.assert_allclose(inverse_freeman_tukey(yi, ni), xi / ni, rtol=1e-12)
    assert float(inverse_freeman_tukey(freeman_tukey(1.0, 4) + 0.01, 4)) == 1.0
    assert float(inverse_freeman_tukey(freeman_tukey(0.0, 4) - 0.01, 4)) == 0.0


def test_arcsine_back_transform_clips_like_metafor():
    assert list(back_transform([-0.1, math.pi / 2 + 0.1], "PAS")) == [0.0, 1.0]
    assert float(back_transform(1.2, "PR")) == 1.2
