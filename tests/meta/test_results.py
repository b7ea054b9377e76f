"""results and study_rows: frozen objects, the shared ConfidenceInterval, study rows turned into JSON."""

import dataclasses
import json
import math

import numpy as np
import pytest

from metacalc.meta.errors import EstimationError
from metacalc.meta.proportions import pool_proportions
from metacalc.meta.random_effects import rma, rma_batch
from metacalc.meta.results import ConfidenceInterval
from metacalc.meta.study_rows import StudyProportion


def test_confidence_interval_reads_as_a_pair():
    interval = ConfidenceInterval(0.1, 0.9, 0.95, "q-profile")
    low, high = interval
    assert (low, high) == (0.1, 0.9) and interval[1] == 0.9 and len(interval) == 2 and tuple(interval) == (0.1, 0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        interval.lower = 0.0


def test_results_carry_their_intervals():
    fit = rma([0.1, 0.5, 0.3, 0.9], [0.02, 0.03, 0.05, 0.04], method="REML", test="knha")
    assert fit.ci.method == "knha" and fit.ci.level == 0.95 and fit.ci_lower == fit.ci.lower
    assert fit.pi.lower < fit.ci.lower and fit.tau2_ci.method == "q-profile"
    exact = pool_proportions([1, 0, 1], [1, 1, 1])
    assert exact.ci.method == "clopper-pearson" and exact.pi is None and exact.pi_lower is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        exact.estimate = 0.5


@pytest.mark.parametrize("method", ["exact", "iv", "glmm"])
def test_study_table_json_equals_each_row_as_json(method):
    result = pool_proportions([0, 3, 7, 1], [4, 10, 9, 1], method=method, labels=["a", "b", "c", "d"])
    rows = list(result.studies)
    assert all(isinstance(row, StudyProportion) for row in rows) and rows[2].label == "c"
    assert result.studies.to_dicts() == [row.to_dict() for row in rows]
    assert result.studies[1:3] == tuple(rows[1:3])
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_failed_batch_row_raises_metafors_message_when_read():
    # PM with one far outlier: the search range max(100, 10 mad(yi)^2) = 100 is too small, and metafor stops
    # with "value of 'tau2.max' ... too low"
    batch = rma_batch([[0.0, 0.0, 0.0, 0.0, 1000.0], [0.1, 0.2, 0.3, 0.4, 0.5]], np.ones((2, 5)), method="PM")
    assert not batch.converged[0] and batch.converged[1] and math.isnan(batch.estimate[0])
    with pytest.raises(EstimationError, match="tau2.max"):
        batch.result(0)
    assert batch.result(1).k == 5 and np.isfinite(batch.result(1).estimate)
