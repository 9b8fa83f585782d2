# Copyright (c) mmps contributors. All rights reserved.
"""Flat arrays of variable-length segments (detections of an image,
candidates of a query)."""
from typing import Tuple

import numpy as np


def expand_segments(counts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """For segments of given lengths: segment and offset of each element.

    Args:
        counts (np.ndarray): Length of each segment, shape (S, ); may be
            empty or all zero (a chunk of queries without ground truth).

    Returns:
        tuple[np.ndarray, np.ndarray]: Segment and offset within it of each
        element, each of shape (sum(counts), ).
    """
    counts = np.asarray(counts, dtype=np.int64)
    segment = np.repeat(np.arange(len(counts)), counts)
    # each segment's start, with one entry per segment even when S is 0
    starts = np.cumsum(counts) - counts
    offset = np.arange(counts.sum()) - np.repeat(starts, counts)
    return segment, offset
