"""rma_batch must give the numbers of rma called row by row (all fixture datasets, every method and test)."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metacalc.meta import heterogeneity
from metacalc.meta.errors import EstimationError
from metacalc.meta.random_effects import rma_batch
from metacalc.meta.random_effects import rma

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "metafor" / "iv_reference.json").read_text())
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "pvalue", "tau2", "i2", "h2", "q",
          "q_pvalue")


def padded(measure):
    blocks = [d["measures"][measure] for d in REFERENCE["datasets"]]
    width = max(len(b["yi"]) for b in blocks)
    yi = np.full((len(blocks), width), np.nan)
    vi = np.full((len(blocks), width), np.nan)
    for row, block in enumerate(blocks):
        yi[row, : len(block["yi"])] = block["yi"]
        vi[row, : len(block["vi"])] = block["vi"]
    return yi, vi


@pytest.mark.parametrize("measure", ["PR", "PLO", "PAS", "PFT"])
@pytest.mark.parametrize("method", heterogeneity.TAU2_METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_batch_equals_loop(measure, method, test):
    yi, vi = padded(measure)
    batch = rma_batch(yi, vi, method=method, test=test)
    assert len(batch) == len(yi)
    for row in range(len(yi)):
        used = np.isfinite(yi[row])
        assert batch.k[row] == used.sum()
        try:
            single = rma(yi[row, used], vi[row, used], method=method, test=test)
        except EstimationError:
            assert not batch.converged[row]
            assert math.isnan(batch.estimate[row])
            continue
        assert batch.converged[row]
        for name in FIELDS:
            expected = getattr(single, name)
            actual = getattr(batch, name)[row]
            if math.isnan(expected):
                assert math.isnan(actual), (row, name)
            else:
                assert actual == pytest.approx(expected, rel=1e-10, abs=1e-12), (row, name)


def test_non_convergence_is_flagged_not_raised():
    yi, vi = padded("PR")
    batch = rma_batch(yi, vi, method="ML")
    expected_failures = sum(
        1 for d in REFERENCE["datasets"] for f in d["measures"]["PR"]["fits"]
        if f["method"] == "ML" and f["test"] == "z" and "error" in f
    )
    assert (~batch.converged).sum() == expected_failures


def test_one_dimensional_input_is_one_analysis():
    batch = rma_batch([0.1, 0.5, 0.3], [0.02, 0.03, 0.05])
    single = rma([0.1, 0.5, 0.3], [0.02, 0.03, 0.05])
    assert batch.estimate[0] == pytest.approx(single.estimate, rel=1e-12)
    assert batch.iterations[0] >= 1


def test_bad_padding_is_rejected():
    with pytest.raises(ValueError):
        rma_batch([[0.1, np.nan]], [[0.1, 0.2]])
    with pytest.raises(ValueError):
        rma_batch([[np.nan, np.nan]], [[np.nan, np.nan]])


ALL_FIELDS = FIELDS + ("statistic", "i2", "h2", "tau2_ci_lower", "tau2_ci_upper")


@pytest.mark.parametrize("method", heterogeneity.TAU2_METHODS)
def test_an_analysis_gives_the_same_bits_alone_and_in_any_batch(method):
    # ragged rows (k = 1 .. 60) fitted together, in buckets by k, and one at a time
    blocks = [d["measures"]["PLO"] for d in REFERENCE["datasets"]]
    yi = [b["yi"] for b in blocks]
    vi = [b["vi"] for b in blocks]
    together = rma_batch(yi, vi, method=method, test="knha")
    reversed_order = rma_batch(yi[::-1], vi[::-1], method=method, test="knha")
    for row in range(len(yi)):
        alone = rma_batch([yi[row]], [vi[row]], method=method, test="knha")
        for name in ALL_FIELDS:
            values = (getattr(together, name)[row], getattr(reversed_order, name)[len(yi) - 1 - row],
                      getattr(alone, name)[0])
            assert all(v == values[0] for v in values) or all(math.isnan(v) for v in values), (row, name, values)
        k = together.k[row]
        assert np.array_equal(together.weights[row, :k], alone.weights[0, :k], equal_nan=True)


def test_single_fit_is_the_batch_row():
    block = REFERENCE["datasets"][0]["measures"]["PLO"]
    single = rma(block["yi"], block["vi"], method="REML")
    row = rma_batch([block["yi"]], [block["vi"]], method="REML").result(0)
    assert single == row


def test_q_profile_interval_can_be_skipped():
    block = REFERENCE["datasets"][0]["measures"]["PLO"]
    batch = rma_batch([block["yi"]], [block["vi"]], tau2_ci=False)
    assert not batch.has_tau2_ci[0] and batch.result(0).tau2_ci is None
