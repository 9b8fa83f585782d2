# Copyright (c) mmps contributors. All rights reserved.
"""Mapping raw person ids and box rows to indices."""
import numpy as np

from mmps.structures import UNLABELED_ID


def contiguous_ids(raw_ids: np.ndarray, labeled_ids: np.ndarray) -> np.ndarray:
    """Map raw ids to ``0..L-1`` by their rank among the labeled ids.

    Args:
        raw_ids (np.ndarray): Ids to map, shape (N, ); negative ids are
            unlabeled.
        labeled_ids (np.ndarray): The distinct labeled ids, sorted, shape
            (L, ), e.g. ``np.unique`` of the non-negative training ids.

    Returns:
        np.ndarray: Contiguous ids, shape (N, ), -1 for unlabeled ids.
    """
    raw_ids = np.asarray(raw_ids, dtype=np.int64)
    labeled = raw_ids >= 0
    positions = np.searchsorted(labeled_ids, raw_ids[labeled])
    in_range = positions < len(labeled_ids)
    known = in_range.copy()
    known[in_range] = labeled_ids[
        positions[in_range]] == raw_ids[labeled][in_range]
    if not known.all():
        raise ValueError(f'person id {raw_ids[labeled][~known][0]} is not '
                         f'among the labeled ids')
    contiguous = np.full(len(raw_ids), UNLABELED_ID, dtype=np.int64)
    contiguous[labeled] = positions
    return contiguous


def match_boxes(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query row among the key rows, by equal values.

    Both are integer arrays of shape (N, K) (e.g. image index and four box
    coordinates); rows of ``keys`` are assumed unique. Vectorised with a
    sort and a binary search, no Python loop over rows.

    Args:
        keys (np.ndarray): Key rows, shape (N, K).
        queries (np.ndarray): Query rows, shape (M, K).

    Returns:
        np.ndarray: Index into ``keys`` of each query, -1 where it has no
        equal row, shape (M, ).
    """
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    queries = np.ascontiguousarray(queries, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(queries), -1, dtype=np.int64)
    row_type = np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))
    key_rows = keys.view(row_type).ravel()
    query_rows = queries.view(row_type).ravel()
    order = np.argsort(key_rows, kind='stable')
    positions = np.searchsorted(key_rows[order], query_rows)
    positions = positions.clip(0, len(keys) - 1)
    found = key_rows[order][positions] == query_rows
    return np.where(found, order[positions], -1)
