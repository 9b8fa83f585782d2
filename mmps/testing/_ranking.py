# Copyright (c) mmps contributors. All rights reserved.
"""Tie-aware checks of rankings computed in floating point.

Two computations of the same similarities (a matrix product in chunks or
whole, batched or one at a time, BLAS on one CPU or another) agree only to
rounding, so the order of candidates whose scores are nearly equal is not
defined. These checks accept any order among such near-ties and nothing
else.
"""
import numpy as np

#: Scores closer than this are treated as tied.
TIE_TOLERANCE = 1e-5


def assert_top_k_matches(indices: np.ndarray,
                         similarities: np.ndarray,
                         reference_scores: np.ndarray,
                         atol: float = TIE_TOLERANCE) -> None:
    """Check a top-k answer against the scores of all candidates.

    Each returned candidate must have the reference score of its rank (so
    candidates may swap places only with near-ties), the returned
    similarities must be the reference's best scores in decreasing order,
    and a row holds as many candidates as it can, then ``-1`` / ``-inf``.

    Args:
        indices (np.ndarray): Returned candidate indices, ``-1`` padded,
            shape (Q, k).
        similarities (np.ndarray): Their returned similarities, ``-inf``
            padded, shape (Q, k).
        reference_scores (np.ndarray): Every candidate's score from an
            independent computation, ``-inf`` for excluded candidates,
            shape (Q, M).
        atol (float): Scores closer than this count as tied.

    Raises:
        AssertionError: Where the answer is not a valid top-k.
    """
    indices = np.atleast_2d(indices)
    similarities = np.atleast_2d(similarities)
    reference_scores = np.atleast_2d(reference_scores)
    k = indices.shape[1]
    for row, (found, sims, scores) in enumerate(
            zip(indices, similarities, reference_scores)):
        expected = np.sort(scores[np.isfinite(scores)])[::-1][:k]
        valid = found >= 0
        assert valid.sum() == len(expected), (
            f'row {row}: {valid.sum()} candidates returned, '
            f'{len(expected)} expected')
        assert valid[:len(expected)].all(), f'row {row}: padding first'
        assert np.isneginf(sims[~valid]).all(), f'row {row}: bad padding'
        chosen = found[valid]
        assert len(np.unique(chosen)) == len(chosen), \
            f'row {row}: a candidate returned twice'
        np.testing.assert_allclose(
            sims[valid],
            expected,
            atol=atol,
            err_msg=f'row {row}: not the best scores in order')
        np.testing.assert_allclose(
            scores[chosen],
            expected,
            atol=atol,
            err_msg=f'row {row}: a candidate out of its rank')


def near_tie_rows(scores: np.ndarray, atol: float = TIE_TOLERANCE):
    """Rows of a score matrix in which two finite scores nearly tie.

    Rankings of such rows may differ between two computations; the others
    are ordered the same by any computation accurate to ``atol / 2``.

    Args:
        scores (np.ndarray): Scores, ``-inf`` for absent candidates,
            shape (Q, M).
        atol (float): Scores closer than this count as tied.

    Returns:
        np.ndarray: Boolean mask, shape (Q, ).
    """
    tied = np.zeros(len(scores), dtype=bool)
    for row, values in enumerate(scores):
        values = np.sort(values[np.isfinite(values)])
        tied[row] = bool(len(values) > 1 and np.diff(values).min() < atol)
    return tied
