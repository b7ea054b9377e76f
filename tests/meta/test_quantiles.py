"""Mean and SD from median, range and quartiles (Wan 2014, Luo 2018) against the published formulas."""

import json
from pathlib import Path

import pytest

from metacalc.meta.quantiles import mean_sd_from_quantiles

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


@pytest.mark.parametrize("case", REFERENCE["five_number"], ids=lambda c: f"{c['scenario']}-n{c['n']}")
def test_mean_sd_from_quantiles_match_published_formulas(case):
    inputs = {key: case.get(key) for key in ("min", "q1", "median", "q3", "max", "n")}
    luo = mean_sd_from_quantiles(**inputs)
    wan = mean_sd_from_quantiles(**inputs, mean_method="wan2014")
    assert luo.scenario == case["scenario"]
    close(luo.mean, case["luo_mean"])
    close(wan.mean, case["wan_mean"])
    close(luo.sd, case["wan_sd"])
    close(wan.sd, case["wan_sd"])


def test_wan_s1_sd_by_hand():
    # xi(12) = 2 * Phi^-1(11.625 / 12.25); Phi^-1(0.94898) = 1.635... (scipy-free check via the known value)
    estimate = mean_sd_from_quantiles(n=12, median=10, min=2, max=30)
    assert estimate.sd == pytest.approx(28 / (2 * 1.6350), rel=1e-3)
    close(estimate.mean, 4 / (4 + 12**0.75) * 16 + (1 - 4 / (4 + 12**0.75)) * 10)


@pytest.mark.parametrize(
    "inputs,message",
    [
        ({"n": 1, "median": 3, "min": 1, "max": 5}, "at least 2"),
        ({"n": 10, "median": 3, "min": 4, "max": 5}, "min <= q1 <= median"),
        ({"n": 10, "median": 3}, "range"),
        ({"n": 10, "median": None, "min": 1, "max": 5}, "median is needed"),
    ],
)
def test_mean_sd_from_quantiles_rejects_unusable_input(inputs, message):
    with pytest.raises(ValueError, match=message):
        mean_sd_from_quantiles(**inputs)


