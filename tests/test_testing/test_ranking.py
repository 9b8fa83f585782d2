# Copyright (c) mmps contributors. All rights reserved.
import numpy as np
import pytest

from mmps.testing import assert_top_k_matches, near_tie_rows

SCORES = np.array([[0.9, 0.5, 0.5 + 1e-7, -np.inf, 0.1]])


def test_near_ties_may_come_in_either_order():
    assert_top_k_matches([[0, 2, 1]], [[0.9, 0.5, 0.5]], SCORES)
    assert_top_k_matches([[0, 1, 2]], [[0.9, 0.5, 0.5]], SCORES)


@pytest.mark.parametrize(
    'indices,sims',
    [
        ([[1, 0, 2]], [[0.5, 0.9, 0.5]]),  # out of order
        ([[0, 4, 1]], [[0.9, 0.5, 0.5]]),  # a candidate out of its rank
        ([[0, 1, 1]], [[0.9, 0.5, 0.5]]),  # a candidate twice
        ([[0, 3, 1]], [[0.9, 0.5, 0.5]]),  # an excluded candidate
        ([[0, 1, -1]], [[0.9, 0.5, -np.inf]]),  # one missing
    ])
def test_wrong_answers_fail(indices, sims):
    with pytest.raises(AssertionError):
        assert_top_k_matches(indices, sims, SCORES)


def test_padding_when_fewer_candidates_than_k():
    assert_top_k_matches([[0, 2, 1, 4, -1]], [[0.9, 0.5, 0.5, 0.1, -np.inf]],
                         SCORES)


def test_near_tie_rows():
    scores = np.array([[0.3, 0.3 + 1e-6, -np.inf], [0.3, 0.2, 0.1],
                       [0.3, -np.inf, 0.3 + 1e-3]])
    assert near_tie_rows(scores).tolist() == [True, False, False]
