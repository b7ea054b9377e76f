"""arrays: sums over studies that padding cannot change, and buckets of similar size."""

import numpy as np

from metacalc.meta.arrays import padded, size_buckets, study_sum


def test_study_sum_is_numpy_sum_below_eight_studies():
    rng = np.random.default_rng(1)
    for k in range(1, 8):
        values = rng.standard_normal((200, k)) * 10.0 ** rng.integers(-8, 8, size=(200, k))
        assert np.array_equal(study_sum(values), values.sum(axis=1))


def test_padding_with_zeros_changes_no_bit():
    rng = np.random.default_rng(2)
    values = rng.standard_normal((50, 23)) * 10.0 ** rng.integers(-8, 8, size=(50, 23))
    wider = np.concatenate([values, np.zeros((50, 9))], axis=1)
    assert np.array_equal(study_sum(values), study_sum(wider))
    # one row alone sums as it does in the matrix
    assert all(study_sum(values[i:i + 1])[0] == study_sum(values)[i] for i in range(50))


def test_padded_rows_and_mask():
    matrix, mask = padded([np.array([1.0, 2.0]), np.array([3.0]), np.array([4.0, 5.0, 6.0])], fill=np.nan)
    assert matrix.shape == (3, 3) and mask.sum(axis=1).tolist() == [2, 1, 3]
    assert matrix[1, 0] == 3.0 and np.isnan(matrix[1, 1])


def test_buckets_cover_every_row_once_with_little_padding():
    k = np.random.default_rng(3).integers(1, 80, size=500)
    buckets = size_buckets(k, max_cells=2000)
    rows = np.concatenate(buckets)
    assert sorted(rows.tolist()) == list(range(500))
    for bucket in buckets:
        widest, narrowest = k[bucket].max(), k[bucket].min()
        assert widest <= narrowest + max(2, narrowest // 4)
        assert len(bucket) == 1 or len(bucket) * widest <= 2000
