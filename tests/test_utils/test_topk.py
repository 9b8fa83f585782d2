# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.utils.topk import sorted_top_k


@pytest.mark.parametrize('k', [1, 3, 9, 10, 25])
def test_the_k_best_of_each_row_by_a_full_sort(k):
    rng = np.random.default_rng(0)
    scores = rng.permutation(60).reshape(6, 10).astype(np.float32)
    scores[2, 4:] = -np.inf  # padding, as the search's candidate lists
    columns, values = sorted_top_k(scores, k)
    kept = min(k, 10)
    assert columns.shape == values.shape == (6, kept)
    # without ties, a full sort of each row gives the same
    expected = np.argsort(-scores, axis=1, kind='stable')[:, :kept]
    np.testing.assert_array_equal(columns[:, :4], expected[:, :4])
    untied = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(columns[untied], expected[untied])
    np.testing.assert_array_equal(values,
                                  np.take_along_axis(scores, columns, 1))
    assert (values[:, 1:] <= values[:, :-1]).all()


def test_ties_of_a_whole_row_keep_column_order():
    scores = np.array([[1., 2., 1., 2., 0.], [5., 5., 5., 5., 5.]])
    columns, values = sorted_top_k(scores, 5)
    np.testing.assert_array_equal(columns, [[1, 3, 0, 2, 4], [0, 1, 2, 3, 4]])
    np.testing.assert_array_equal(values, [[2, 2, 1, 1, 0], [5] * 5])
    # a partial selection keeps the tied best, in some order
    columns, values = sorted_top_k(scores[:1], 2)
    assert sorted(columns[0]) == [1, 3]
    np.testing.assert_array_equal(values, [[2, 2]])
