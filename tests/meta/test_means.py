"""pool_means against metafor 3.8 (tests/fixtures/metafor/means_reference.json)."""

import json
import math
from pathlib import Path

import pytest

from metacalc.meta.means import pool_means

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "means_reference.json").read_text())
RTOL = 1e-6


def close(actual, expected, rtol=RTOL, atol=1e-12):
    assert actual == pytest.approx(expected, rel=rtol, abs=atol)


def test_reference_records_its_metafor_version():
    assert REFERENCE["metafor_version"] == "3.8.1"


NORMAND_CASES = [(arm, key) for arm in ("group1", "group2") for key in REFERENCE["normand1999_mn"][arm]["fits"]]


@pytest.mark.parametrize("arm,key", NORMAND_CASES)
def test_pool_means_matches_metafor_on_normand1999(arm, key):
    data = REFERENCE["normand1999_mn"][arm]
    ref = data["fits"][key]
    result = pool_means(data["mean"], data["sd"], data["n"], tau2_method=ref["method"],
                        knha=ref["test"] == "knha", labels=data["labels"])
    for name in ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "q", "i2", "h2",
                 "q_pvalue"):
        if ref["method"] == "FE" and name.startswith("pi_"):
            # metafor's predict() gives no prediction interval for a common-effect model (the fixture holds
            # the CI there); metacalc leaves it out: nan in the result, null with a reason in JSON
            assert math.isnan(getattr(result, name))
            assert result.to_dict()[name] is None and "common-effect" in result.to_dict()["nulls"][name]
            continue
        close(getattr(result, name), ref[name])
    assert result.k == ref["k"] and result.q_df == ref["q_df"]
    if ref["tau2_ci"] is None:
        assert result.tau2_ci is None
    else:
        close(result.tau2_ci[0], ref["tau2_ci"][0])
        close(result.tau2_ci[1], ref["tau2_ci"][1])
    close([s.weight for s in result.studies], ref["weights"])


def test_pool_means_json_has_issue5_keys_and_study_rows():
    data = REFERENCE["normand1999_mn"]["group1"]
    result = pool_means(data["mean"], data["sd"], data["n"], labels=data["labels"])
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    for key in ("k", "method", "measure", "tau2_method", "estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper",
                "transformed", "tau2", "tau2_ci", "i2", "h2", "q", "q_df", "q_pvalue", "studies"):
        assert key in out
    assert out["measure"] == "MN" and out["method"] == "iv" and out["tau2_method"] == "REML"
    assert out["reason"].endswith("tau2 by REML.") and out["nulls"] == {}
    assert out["transformed"]["estimate"] == out["estimate"]
    first = out["studies"][0]
    assert first["label"] == "Edinburgh" and first["n"] == 155 and first["mean"] == 55 and first["sd"] == 47
    # study interval: 55 +/- 1.959964 * 47 / sqrt(155)
    close(first["ci_lower"], 55 - 1.959963984540054 * 47 / math.sqrt(155))
    close(sum(s["weight"] for s in out["studies"]), 100.0)


def test_pool_means_single_study_is_finite_and_json_safe():
    result = pool_means([12.0], [4.0], [10])
    close(result.estimate, 12.0)
    close(result.se, 4 / math.sqrt(10))
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert '"k": 1' in text and result.warnings


@pytest.mark.parametrize(
    "means,sds,ns,message",
    [
        ([1, 2], [1, 0], [5, 5], "SD above 0"),
        ([1, 2], [1, 1], [5, 0], "n >= 1"),
        ([1, 2], [1], [5, 5], "differ in length"),
        ([1, float("nan")], [1, 1], [5, 5], "finite"),
        ([], [], [], "no studies"),
    ],
)
def test_pool_means_rejects_unusable_studies(means, sds, ns, message):
    with pytest.raises(ValueError, match=message):
        pool_means(means, sds, ns)


def test_hartung_knapp_with_one_study_falls_back_to_z_as_metafor_does():
    result = pool_means([12.0], [4.0], [10], knha=True)
    assert result.test == "z"
    close(result.ci_upper, 12 + 1.959963984540054 * 4 / math.sqrt(10))
