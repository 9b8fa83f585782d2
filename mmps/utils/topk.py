# Copyright (c) mmps contributors. All rights reserved.
"""The best columns of each row of a score matrix, by a partial sort."""
from typing import Tuple

import numpy as np


def sorted_top_k(scores: np.ndarray, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest scores of each row, best first.

    A partial sort: ``np.argpartition`` finds the ``k`` best columns (all of
    them when ``k`` covers the row), then only those are sorted, stably.
    Ties among the kept columns stay in the order the partition leaves them
    (column order when the whole row is kept); which of the columns tied at
    the ``k``-th place is kept is the partition's choice.

    Args:
        scores (np.ndarray): Scores, shape (R, N).
        k (int): How many to keep, at least 1; at most N are kept.

    Returns:
        tuple[np.ndarray, np.ndarray]: Column indices (R, min(k, N)) and
        their scores (R, min(k, N)), each row by decreasing score.
    """
    k = min(k, scores.shape[1])
    if k < scores.shape[1]:
        columns = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        columns = np.broadcast_to(np.arange(k), (len(scores), k))
    values = np.take_along_axis(scores, columns, axis=1)
    order = np.argsort(-values, axis=1, kind='stable')
    return (np.take_along_axis(columns, order, axis=1),
            np.take_along_axis(values, order, axis=1))
